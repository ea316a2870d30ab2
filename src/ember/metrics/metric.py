"""``Metric``: the base class of every metric (state on device, updated per batch)."""

import numpy as np
import torch

from ember.backend import Variable, in_symbolic_scope, standardize_dtype, to_torch_dtype
from ember.losses._utils import is_number_list, to_snake_case, to_tensor

_INITIALIZER_FILLS = {"zeros": 0, "Zeros": 0, "ones": 1, "Ones": 1}


def _normalize_shape(shape):
    if shape is None:
        return ()
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(size) for size in shape)


def _initial_value(initializer, shape, dtype, device, name):
    """The tensor a state variable starts from (and returns to on ``reset_state``)."""
    if initializer is None:
        initializer = "zeros"
    if isinstance(initializer, str):
        if initializer not in _INITIALIZER_FILLS:
            raise ValueError(
                f"Unknown initializer {initializer!r} for metric variable {name!r}: use 'zeros', 'ones', "
                "a callable (shape, dtype) -> tensor, or a tensor / array / number."
            )
        return torch.full(shape, _INITIALIZER_FILLS[initializer], dtype=dtype, device=device)
    value = initializer(shape, dtype=dtype) if callable(initializer) else initializer
    value = to_tensor(value, dtype, device)
    try:
        return torch.broadcast_to(value, shape).clone()
    except RuntimeError as error:
        raise ValueError(
            f"The initializer of metric variable {name!r} gave shape {tuple(value.shape)}, which does "
            f"not fit the variable's shape {shape}."
        ) from error


def _zeros_like(value):
    """Zeros in the structure and dtypes of ``value`` (a metric's result)."""
    if isinstance(value, torch.Tensor):
        return torch.zeros_like(value.detach())
    if isinstance(value, dict):
        return {key: _zeros_like(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_zeros_like(item) for item in value)
    if isinstance(value, (int, float, np.number)):
        return type(value)(0)
    return value


class Metric:
    """Base class of metrics: state variables updated batch after batch.

    Subclasses create their state in ``__init__`` with ``add_weight`` (or
    ``add_variable``), and implement ``update_state(...)`` (accumulate one
    batch, in place, on the state's device) and ``result()`` (compute the
    value from the state). ``reset_state()`` puts every variable back to its
    initial value; override it when that is not enough. Calling the metric
    updates it, then returns ``result()``.

    Metrics are plain Python objects, not ``nn.Module``s; their variables are
    ``ember.backend.Variable``s with ``requires_grad=False``. ``to(device)``
    moves them in place.

    Args:
        name: name of the metric (the key in training logs); defaults to the
            snake-cased class name.
        dtype: dtype of the state and the result, ``"float32"`` when ``None``.

    Example:
        >>> import torch
        >>> class CategoricalTruePositives(Metric):
        ...     def __init__(self, name="categorical_true_positives", **kwargs):
        ...         super().__init__(name=name, **kwargs)
        ...         self.true_positives = self.add_weight(name="ctp", initializer="zeros")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         y_pred = torch.reshape(torch.argmax(y_pred, dim=1), shape=(-1, 1))
        ...         values = (y_true.to(torch.int32) == y_pred.to(torch.int32)).to(torch.float32)
        ...         self.true_positives.assign_add(torch.sum(values))
        ...     def result(self):
        ...         return self.true_positives
        >>> metric = CategoricalTruePositives()
        >>> float(metric(torch.tensor([[1], [0]]), torch.tensor([[0.1, 0.9], [0.2, 0.8]])))
        1.0
        >>> metric.reset_state()
        >>> float(metric.result())
        0.0
    """

    def __init__(self, name=None, dtype=None):
        self._variables = []
        self._initial_values = []
        self._metrics = []
        self.name = name or to_snake_case(type(self).__name__)
        self._dtype = standardize_dtype(dtype)

    def __setattr__(self, name, value):
        # Metrics held as attributes are tracked, so that their variables are
        # reset and moved together with this metric's.
        if isinstance(value, Metric) and value is not self and "_metrics" in self.__dict__:
            if not any(metric is value for metric in self._metrics):
                self._metrics.append(value)
        super().__setattr__(name, value)

    @property
    def dtype(self):
        """The dtype of the state, as Keras's string name (``"float32"``)."""
        return self._dtype

    @property
    def variables(self):
        """Every state variable: this metric's, then those of metrics it holds."""
        variables = list(self._variables)
        for metric in self._metrics:
            variables.extend(metric.variables)
        return variables

    def add_weight(self, name=None, shape=(), initializer="zeros", dtype=None, aggregation="sum"):
        """Create a state variable (``requires_grad=False``) on the metric's device.

        Args:
            name: name of the variable.
            shape: its shape; ``()`` for a scalar.
            initializer: ``"zeros"``, ``"ones"``, a callable
                ``(shape, dtype) -> tensor`` or a tensor / array / number
                (broadcast to ``shape``). ``reset_state`` returns to it.
            dtype: defaults to the metric's ``dtype``.
            aggregation: how data-parallel processes combine this state at
                the end of an epoch or evaluation: ``"sum"`` (totals, counts,
                confusion matrices), ``"mean"``, ``"only_first_replica"`` or
                ``"none"`` (see :meth:`sync_across_processes`).

        Returns:
            The new ``ember.backend.Variable``.
        """
        self._check_super_called()
        shape = _normalize_shape(shape)
        dtype = to_torch_dtype(dtype or self._dtype)
        initial = _initial_value(initializer, shape, dtype, self._state_device(), name)
        variable = Variable(initial.clone(), requires_grad=False, name=name)
        variable.aggregation = aggregation
        self._variables.append(variable)
        is_fill = isinstance(initializer, str) or initializer is None
        self._initial_values.append(_INITIALIZER_FILLS[initializer or "zeros"] if is_fill else initial)
        return variable

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """Keras 3's spelling of ``add_weight`` (same arguments)."""
        return self.add_weight(name=name, shape=shape, initializer=initializer, dtype=dtype, aggregation=aggregation)

    def update_state(self, *args, **kwargs):
        """Accumulate one batch into the state. Subclasses must override this."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update_state`.")

    def result(self):
        """The metric's value computed from the state. Subclasses must override this."""
        raise NotImplementedError(f"{type(self).__name__} must implement `result`.")

    def sync_across_processes(self):
        """Make the state that of all data-parallel processes together (every process calls this).

        The training loop calls it at the end of each epoch and evaluation
        when several processes run. The default combines each variable by its
        ``aggregation``; override it for a state that does not combine that
        way (e.g. a running maximum: ``torch.distributed.all_reduce(v,
        op=torch.distributed.ReduceOp.MAX)``).
        """
        from ember.distribute.reduction import reduce_variables

        reduce_variables(self.variables)

    def reset_state(self):
        """Put every state variable back to its initial value (including held metrics')."""
        with torch.no_grad():
            for variable, initial in zip(self._variables, self._initial_values):
                if isinstance(initial, torch.Tensor):
                    variable.copy_(initial)
                else:
                    variable.fill_(initial)
        for metric in self._metrics:
            metric.reset_state()

    def __call__(self, *args, **kwargs):
        """``update_state(*args, **kwargs)``, then return ``result()``.

        While layers are traced on symbolic inputs (``in_symbolic_scope()``),
        the state is left alone and a zero result of the same structure is
        returned.
        """
        self._check_super_called()
        if in_symbolic_scope():
            return _zeros_like(self.result())
        self.update_state(*args, **kwargs)
        result = self.result()
        if isinstance(result, torch.Tensor):
            # Lets `layer.add_metric(metric(y, p))` log the metric itself, under its own name.
            result._ember_metric = self
        return result

    def to(self, device):
        """Move every state variable to ``device`` in place; returns ``self``.

        Attributes holding the variables stay valid: the variables keep their
        identity, only their storage moves.
        """
        self._check_super_called()
        device = torch.device(device)
        with torch.no_grad():
            for variable in self._variables:
                if variable.device != device:
                    variable.data = variable.data.to(device)
        self._initial_values = [
            initial.to(device) if isinstance(initial, torch.Tensor) else initial for initial in self._initial_values
        ]
        for metric in self._metrics:
            metric.to(device)
        return self

    def get_config(self):
        """The constructor arguments, as a JSON-compatible dict."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """Create a metric from the dict returned by ``get_config``."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    # Helpers for subclasses.

    def _check_super_called(self):
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ must call `super().__init__()` before creating state "
                "or being called."
            )

    def _state_device(self):
        """The device the state lives on (CPU until moved)."""
        variables = self.variables
        return variables[0].device if variables else torch.device("cpu")

    def _as_input(self, value):
        """A tensor for ``value``: tensors pull the state onto their device, arrays go to the state's."""
        if isinstance(value, torch.Tensor):
            own = self._variables
            if own:
                if value.device != own[0].device:
                    self.to(value.device)
            elif self.variables and value.device != self._state_device():
                self.to(value.device)
            return value
        if isinstance(value, np.ndarray) or is_number_list(value):
            return to_tensor(value, device=self._state_device())
        return value

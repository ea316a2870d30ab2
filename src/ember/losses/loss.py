"""``Loss``, the base class of every loss, and ``LossFunctionWrapper``."""

import torch

from ember.backend import standardize_dtype, to_torch_dtype
from ember.losses._serialization import resolve_function, serialize_function
from ember.losses._utils import (
    first_leaf,
    get_mask,
    map_structure,
    object_name,
    squeeze_or_expand_to_same_rank,
    to_snake_case,
    to_tensor,
)
from ember.losses.reduction import reduce_weighted_values, standardize_reduction


class Loss:
    """Base class of losses: subclass it and implement ``call(y_true, y_pred)``.

    ``call`` returns the per-sample losses (any shape; a scalar works too).
    Calling the loss converts its inputs to tensors of the loss's ``dtype``
    (NumPy arrays and lists are accepted), calls ``call``, weights the result
    by ``sample_weight`` and reduces it with ``reduction``.

    Args:
        name: name of the loss; defaults to the snake-cased class name.
        reduction: ``"sum_over_batch_size"`` (default: weighted sum divided by
            the number of loss elements), ``"mean"`` (the same),
            ``"mean_with_sample_weight"`` (weighted sum divided by the sum of
            the weights), ``"sum"``, or ``"none"`` / ``None`` (no reduction).
        dtype: dtype of the computation, ``"float32"`` when ``None``. Both
            ``y_true`` and ``y_pred`` are cast to it (so mixed-precision
            outputs are scored in float32, as in Keras).

    Example:
        >>> import torch
        >>> class CustomMSE(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return torch.mean(torch.square(y_true - y_pred), dim=-1)
        >>> loss = CustomMSE()
        >>> loss.name
        'custom_mse'
        >>> float(loss([[0.0, 1.0]], [[1.0, 1.0]]))
        0.5
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = standardize_dtype(dtype)

    @property
    def dtype(self):
        """The dtype of the computation, as Keras's string name (``"float32"``)."""
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Return the reduced loss.

        Args:
            y_true: targets; tensor, array, or a nested structure of them.
            y_pred: predictions, same structure as ``y_true``.
            sample_weight: optional weights of shape ``(N,)``, ``(N, 1)`` or the
                per-sample loss shape.

        Returns:
            A scalar tensor, or the weighted per-sample losses when
            ``reduction`` is ``"none"`` / ``None``.
        """
        dtype = to_torch_dtype(self._dtype)
        if (
            type(y_pred) is torch.Tensor and type(y_true) is torch.Tensor and sample_weight is None
            and self.reduction == "sum_over_batch_size" and y_pred.dtype == dtype
            and y_true.device == y_pred.device and get_mask(y_pred) is None
        ):
            # The training loop's common case, without the structure walks and weighting below.
            losses = self.call(y_true if y_true.dtype == dtype else y_true.to(dtype), y_pred)
            if get_mask(losses) is None and losses.dim() and losses.numel():
                return losses.sum() / losses.numel()
            return reduce_weighted_values(losses, None, get_mask(losses), self.reduction, dtype)
        in_mask = get_mask(y_pred)
        y_pred = map_structure(lambda x: None if x is None else to_tensor(x, dtype), y_pred)
        device = getattr(first_leaf(y_pred), "device", None)
        y_true = map_structure(lambda x: None if x is None else to_tensor(x, dtype, device), y_true)
        losses = self.call(y_true, y_pred)
        out_mask = get_mask(losses)
        if in_mask is not None and out_mask is not None:
            mask = in_mask.bool() & out_mask.bool()
        else:
            mask = in_mask if out_mask is None else out_mask
        return reduce_weighted_values(losses, sample_weight, mask, self.reduction, dtype)

    def call(self, y_true, y_pred):
        """Return the per-sample losses. Subclasses must override this."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `call(self, y_true, y_pred)` returning the "
            "per-sample losses."
        )

    def get_config(self):
        """The constructor arguments, as a JSON-compatible dict."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        """Create a loss from the dict returned by ``get_config``."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class LossFunctionWrapper(Loss):
    """A ``Loss`` computing ``fn(y_true, y_pred, **kwargs)`` per sample.

    ``y_true`` and ``y_pred`` are brought to the same rank first when they
    differ by a trailing axis of size 1 (labels ``(N,)`` with predictions
    ``(N, 1)``).

    Args:
        fn: function ``(y_true, y_pred, **kwargs) -> per-sample losses``.
        name: name of the loss; defaults to the function's name.
        reduction: see ``Loss``.
        dtype: see ``Loss``.
        **kwargs: keyword arguments passed to ``fn`` on every call.

    Example:
        >>> import torch
        >>> def squared_hinge_like(y_true, y_pred):
        ...     return torch.mean(torch.square(torch.relu(1.0 - y_true * y_pred)), dim=-1)
        >>> loss = LossFunctionWrapper(squared_hinge_like)
        >>> loss.name
        'squared_hinge_like'
        >>> float(loss([[1.0], [-1.0]], [[0.5], [0.5]]))
        1.25
    """

    def __init__(self, fn, name=None, reduction="sum_over_batch_size", dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(
                f"LossFunctionWrapper expects `fn` to be a function (y_true, y_pred) -> losses, "
                f"got {fn!r} of type {type(fn).__name__}."
            )
        super().__init__(name=name or object_name(fn), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        if hasattr(y_true, "dim") and hasattr(y_pred, "dim"):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config["fn"] = serialize_function(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("fn"), (str, dict)):
            from ember.losses.registry import FUNCTIONS  # the registry imports this module

            config["fn"] = resolve_function(config["fn"], FUNCTIONS, None, "loss")
        return cls(**config)

    def __repr__(self):
        if type(self) is not LossFunctionWrapper:
            return super().__repr__()
        return f"<LossFunctionWrapper name={self.name} fn={object_name(self.fn)} kwargs={self._fn_kwargs}>"

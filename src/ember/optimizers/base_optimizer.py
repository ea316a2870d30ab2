"""``Optimizer``: the base class every ember optimizer extends.

State lives here (per-variable slots, the iteration counter, the learning rate);
the update rules live in pure functions next to each subclass. The hot path
(:meth:`Optimizer.step` and :meth:`Optimizer.apply`) groups variables by device and
dtype once, caches that plan, and then runs only ``torch._foreach_*`` kernels: it
never reads a tensor back to the host, because the step count and the learning
rate are mirrored as Python numbers.

With ``gradient_accumulation_steps=N``, ``iterations`` counts optimizer updates
(one per N calls) while a learning-rate schedule sees every call, as in Keras. With
``use_ema=True`` a moving average of every trained variable is kept as optimizer
state and written into the weights by ``finalize_variable_values`` (``fit`` calls
it at the end of training).
"""

import re
import warnings

import numpy as np
import torch

from ember.backend import Variable
from ember.backend.naming import to_snake_case, unique_name
from ember.optimizers import accumulation, clipping, ema
from ember.optimizers import learning_rate_utils as lr_utils
from ember.optimizers.update_plan import make_update_plan

__all__ = ["Optimizer"]

MSG_TWO_CLIPS = (
    "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
    "clipnorm={}, clipvalue={}, global_clipnorm={}. Keep one, e.g. `global_clipnorm=1.0`."
)
MSG_UNBUILT_APPLY = (
    "When passing `grads` without `trainable_variables`, the optimizer must already be "
    "built on a list of variables. Call `optimizer.build(trainable_variables)` first, or "
    "pass `trainable_variables`."
)
MSG_ACCUMULATION_STEPS = (
    "`gradient_accumulation_steps` must be an integer >= 2 (or None to update on every "
    "step). Received: gradient_accumulation_steps={!r}"
)
MSG_EMA_MOMENTUM = "`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={!r}"
MSG_EMA_FREQUENCY = (
    "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: ema_overwrite_frequency={!r}"
)
MSG_FINALIZE_UNKNOWN = (
    "Cannot finalize variable {}: optimizer {!r} has no moving average for it (it was built "
    "on {} other variables). Pass the variables the optimizer trains, e.g. "
    "`model.trainable_weights`."
)
_PLAN_CACHE_SIZE = 64


def _check_optional_number(name, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, np.number))):
        raise ValueError(f"`{name}` must be a number or None, got {name}={value!r}.")


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_ema_arguments(use_ema, ema_momentum, ema_overwrite_frequency):
    if not use_ema:
        return  # as in Keras, the EMA arguments are only checked when used
    if isinstance(ema_momentum, bool) or not isinstance(ema_momentum, (int, float, np.number)):
        raise ValueError(MSG_EMA_MOMENTUM.format(ema_momentum))
    if not 0 <= ema_momentum <= 1:
        raise ValueError(MSG_EMA_MOMENTUM.format(ema_momentum))
    if ema_overwrite_frequency is not None and not (_is_int(ema_overwrite_frequency) and ema_overwrite_frequency >= 0):
        raise ValueError(MSG_EMA_FREQUENCY.format(ema_overwrite_frequency))


class Optimizer:
    """Base class for optimizers, with Keras 3's constructor arguments and methods.

    Lifecycle: ``__init__`` stores configuration only; ``build(variables)`` creates
    the per-variable state ("slots") on each variable's device; ``apply_gradients``,
    ``apply`` or the PyTorch-style ``step(params)`` update the variables; both build
    on first use. Per step: gradients are divided by ``loss_scale_factor``, clipped,
    variables are decayed (``w -= w * weight_decay * lr``), then the update rule runs
    and ``iterations`` grows by one.

    Subclassing: call ``super().__init__(learning_rate, ...)``; override ``build``
    (return early when ``self.built``, call ``super().build(variables)``, then create
    slots with ``add_optimizer_variables``); override either ``update_step`` (one
    variable at a time, as in Keras) or ``update_step_group`` (a list of variables
    sharing device and dtype, for foreach kernels; ``self._iteration`` holds the
    number of completed updates as a Python int); and extend ``get_config``.

    Args:
        learning_rate: a float, or a callable schedule. A callable that takes one
            argument is called with the number of completed steps as a Python int;
            one that takes none is called with no arguments (Keras's convention).
            It returns a float (or a 0-d tensor).
        weight_decay: decoupled weight decay coefficient, or None.
        clipnorm: clip each gradient to this L2 norm (ignored unless > 0).
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``
            (ignored unless > 0).
        global_clipnorm: clip all gradients jointly to this L2 norm (ignored unless > 0).
        use_ema: keep an exponential moving average of the trained variables
            (optimizer slots named ``"<variable>_average"``), updated after every
            call; ``finalize_variable_values`` copies it into the variables.
        ema_momentum: the average's momentum in ``[0, 1]``:
            ``average = ema_momentum * average + (1 - ema_momentum) * variable``
            (the first update copies the variable). Used only with ``use_ema``.
        ema_overwrite_frequency: with ``use_ema``, copy the averages into the
            variables every this many optimizer updates (None or 0: only at
            ``finalize_variable_values``).
        loss_scale_factor: gradients are divided by it; ``scale_loss`` multiplies
            the loss by it.
        gradient_accumulation_steps: None, or an integer N >= 2: gradients are
            summed over N calls and every Nth call updates the variables with
            their mean; ``iterations`` then counts updates (calls // N), while a
            learning-rate schedule is called with the number of calls.
        name: the optimizer's name (default: the class name in snake case, made
            unique within the session: ``adam``, ``adam_1``, ...).
    """

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}. Check the spelling against the signature.")
        for arg_name, value in (
            ("weight_decay", weight_decay),
            ("clipnorm", clipnorm),
            ("clipvalue", clipvalue),
            ("global_clipnorm", global_clipnorm),
            ("loss_scale_factor", loss_scale_factor),
        ):
            _check_optional_number(arg_name, value)
        if sum(arg is not None for arg in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(MSG_TWO_CLIPS.format(clipnorm, clipvalue, global_clipnorm))
        if gradient_accumulation_steps is not None and not (
            _is_int(gradient_accumulation_steps) and (gradient_accumulation_steps >= 2 or gradient_accumulation_steps == 0)
        ):
            raise ValueError(MSG_ACCUMULATION_STEPS.format(gradient_accumulation_steps))
        _check_ema_arguments(use_ema, ema_momentum, ema_overwrite_frequency)

        self.name = name if name is not None else unique_name(to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False

        self._variables = []
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        self._plans = {}
        self._exclude_ids = set()
        self._exclude_pattern = None
        self._accumulation_steps = int(gradient_accumulation_steps or 0)
        self._accumulated_gradients = []
        self._model_variables_moving_average = []

        # The counter lives on the CPU: bumping it costs no device kernel, and its
        # Python mirrors are re-read only after someone else writes it. ``_calls``
        # counts calls; ``_iteration`` counts updates (calls // N when accumulating).
        self._iterations = Variable(torch.zeros((), dtype=torch.int64), requires_grad=False, name="iteration")
        self._variables.append(self._iterations)
        self._calls = 0
        self._iteration = 0
        self._iterations_version = self._iterations._version

        self._schedule = None
        self._learning_rate_variable = None
        if callable(learning_rate):
            self._set_schedule(learning_rate)
        else:
            value = lr_utils.check_float_learning_rate(learning_rate)
            self._learning_rate_variable = Variable(
                torch.tensor(value, dtype=torch.float32), requires_grad=False, name="learning_rate"
            )
            self._variables.append(self._learning_rate_variable)
            self._sync_learning_rate()

    # ----------------------------------------------------------------- state
    @property
    def iterations(self):
        """The number of completed updates: an int64 0-d ``Variable`` on the CPU.

        With ``gradient_accumulation_steps=N`` it is a tensor holding the number of
        calls // N, as in Keras. Assign a number to set it (``optimizer.iterations
        = 100``), or call ``optimizer.iterations.assign(100)`` without accumulation.
        """
        if self._accumulation_steps:
            return torch.div(self._iterations, self._accumulation_steps, rounding_mode="floor")
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
            value = int(value.item())
        if not _is_int(value) or value < 0:
            raise ValueError(f"`iterations` must be an integer >= 0, got iterations={value!r}.")
        self._iterations.assign(int(value) * max(self._accumulation_steps, 1))

    @property
    def variables(self):
        """All optimizer state: ``iterations``, the learning rate (unless a schedule), the slots."""
        return self._variables[:]

    @property
    def learning_rate(self):
        """The learning rate: a float32 0-d ``Variable``, or a schedule's current value."""
        if self._schedule is not None:
            return torch.tensor(self._current_learning_rate(self._current_iteration()), dtype=torch.float32)
        return self._learning_rate_variable

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if callable(learning_rate):
            if self._learning_rate_variable is not None:
                self._variables.remove(self._learning_rate_variable)
                self._learning_rate_variable = None
            self._set_schedule(learning_rate)
            return
        if self._schedule is not None:
            raise TypeError(lr_utils.MSG_NOT_SETTABLE)
        self._learning_rate_variable.assign(lr_utils.check_float_learning_rate(learning_rate))
        self._sync_learning_rate()

    def _set_schedule(self, schedule):
        self._schedule = schedule
        self._schedule_takes_step = lr_utils.takes_step_argument(schedule)

    def _sync_learning_rate(self):
        self._learning_rate_value = float(self._learning_rate_variable.item())
        self._learning_rate_version = self._learning_rate_variable._version

    def _current_iteration(self):
        """The number of calls so far (what a learning-rate schedule is called with)."""
        if self._iterations._version != self._iterations_version:
            self._set_calls(int(self._iterations.item()))  # someone assigned `iterations`
        return self._calls

    def _set_calls(self, calls):
        self._calls = calls
        self._iteration = calls // self._accumulation_steps if self._accumulation_steps else calls
        self._iterations_version = self._iterations._version

    def _current_learning_rate(self, iteration):
        if self._schedule is not None:
            value = self._schedule(iteration) if self._schedule_takes_step else self._schedule()
            return lr_utils.checked_schedule_value(value, iteration, self._schedule)
        if self._learning_rate_variable._version != self._learning_rate_version:
            self._sync_learning_rate()  # someone assigned the variable directly
        return self._learning_rate_value

    def _advance_iteration(self):
        self._iterations.add_(1)
        self._set_calls(self._calls + 1)

    # ----------------------------------------------------------------- build
    def build(self, variables):
        """Record the variables to train; subclasses then create their slots.

        Args:
            variables: the trainable variables (any iterable of tensors).
        """
        variables = list(variables)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(variables, "average")
        if self._accumulation_steps:
            self._accumulated_gradients = self.add_optimizer_variables(variables, "gradient_accumulator")
        self._trainable_variables = variables
        self._trainable_variables_indices = {id(v): i for i, v in enumerate(variables)}
        self._plans = {}
        self.built = True

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[id(variable)]

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None, device=None):
        """Create an optimizer state variable and track it in ``variables``.

        Args:
            shape: the shape.
            initializer: ``"zeros"``, ``"ones"``, a number, or a callable
                ``(shape, dtype) -> tensor``.
            dtype: the dtype (default float32).
            name: the variable's name.
            device: the device (default CPU).

        Returns:
            The new ``Variable``.
        """
        dtype = torch.float32 if dtype is None else dtype
        shape = tuple(shape)
        if initializer == "zeros":
            value = torch.zeros(shape, dtype=dtype, device=device)
        elif initializer == "ones":
            value = torch.ones(shape, dtype=dtype, device=device)
        elif isinstance(initializer, (int, float)):
            value = torch.full(shape, float(initializer), dtype=dtype, device=device)
        elif callable(initializer):
            value = torch.as_tensor(initializer(shape, dtype), dtype=dtype, device=device)
        else:
            raise ValueError(
                f"`initializer` must be 'zeros', 'ones', a number or a callable (shape, dtype); got {initializer!r}."
            )
        variable = Variable(value, requires_grad=False, name=name)
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """Create a slot shaped, typed, placed and laid out like ``reference_variable``.

        The slot is named ``"<reference name>_<name>"``.
        """
        base = getattr(reference_variable, "name", None) or "variable"
        if initializer == "zeros":
            value = torch.zeros_like(reference_variable, requires_grad=False)
        elif initializer == "ones":
            value = torch.ones_like(reference_variable, requires_grad=False)
        elif isinstance(initializer, (int, float, np.number)) and not isinstance(initializer, bool):
            value = torch.full_like(reference_variable, float(initializer), requires_grad=False)
        else:
            return self.add_variable(
                reference_variable.shape,
                initializer,
                reference_variable.dtype,
                f"{base}_{name}",
                reference_variable.device,
            )
        variable = Variable(value.detach(), requires_grad=False, name=f"{base}_{name}")
        self._variables.append(variable)
        return variable

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """Create one slot per variable for each name in ``name`` (a string or a list).

        Slots are created variable by variable (all names for the first variable,
        then the next), matching Keras's order of ``variables``.

        Returns:
            A list of slots for a single name, else a tuple of lists, one per name.
        """
        names = [name] if isinstance(name, str) else list(name)
        slots = [[] for _ in names]
        for variable in trainable_variables:
            for slot_list, slot_name in zip(slots, names):
                slot_list.append(self.add_variable_from_reference(variable, slot_name, initializer))
        return slots[0] if isinstance(name, str) else tuple(slots)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exclude variables from weight decay; call it before the optimizer is built.

        Args:
            var_list: variables to exclude.
            var_names: strings; a variable whose name contains any of them is excluded.
        """
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(map(re.escape, var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        name = getattr(variable, "name", None)
        return not (self._exclude_pattern is not None and name and self._exclude_pattern.search(name))

    # ----------------------------------------------------------------- apply
    def apply_gradients(self, grads_and_vars):
        """Apply ``(gradient, variable)`` pairs; returns ``iterations``.

        A ``None`` gradient skips its variable with a warning (an error if all are None).
        """
        pairs = list(grads_and_vars)
        if pairs:
            grads, variables = zip(*pairs)
            self.apply(grads, variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Update ``trainable_variables`` (default: the built ones) with ``grads``.

        Args:
            grads: gradients, one per variable, in the same order.
            trainable_variables: the variables; builds the optimizer on first use.
        """
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(MSG_UNBUILT_APPLY)
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
            if not self.built:
                self.build(variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"Got {len(grads)} gradients for {len(variables)} variables; pass exactly one "
                "gradient per variable (use None for a variable without one)."
            )
        if any(grad is None for grad in grads):
            missing = [getattr(v, "name", None) or tuple(v.shape) for g, v in zip(grads, variables) if g is None]
            kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
            if not kept:
                raise ValueError("No gradients provided for any variable.")
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. "
                "If using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=2,
            )
            grads, variables = map(list, zip(*kept))
        grads = [
            g if isinstance(g, torch.Tensor) else torch.as_tensor(g, dtype=v.dtype, device=v.device)
            for g, v in zip(grads, variables)
        ]
        self._update(grads, variables)

    def step(self, params=None):
        """PyTorch-style update from ``.grad``: call it after ``loss.backward()``.

        Parameters whose ``.grad`` is None are skipped; ``iterations`` grows by one.

        Args:
            params: the parameters (e.g. ``list(model.parameters())``); default:
                the variables the optimizer was built with. Builds on first use.
        """
        if params is None:
            if not self.built:
                raise ValueError("`step()` needs `params` until the optimizer is built.")
            params = self._trainable_variables
        elif not isinstance(params, list):
            params = list(params)
        if not self.built:
            self.build(params)
        with_grad = [p for p in params if p.grad is not None]
        if with_grad:
            self._update([p.grad for p in with_grad], with_grad)
        else:
            self._advance_iteration()

    def zero_grad(self, params=None):
        """Set ``.grad`` to None for ``params`` (default: the built variables)."""
        for param in self._trainable_variables if params is None else params:
            param.grad = None

    def scale_loss(self, loss):
        """Multiply ``loss`` by ``loss_scale_factor`` (when set) before ``backward()``."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def finalize_variable_values(self, var_list):
        """Set the variables' final values when training ends; ``fit`` calls it.

        With ``use_ema``, copies each variable's moving average into it; otherwise
        does nothing.

        Args:
            var_list: the variables to finalize (e.g. ``model.trainable_weights``);
                each must be one the optimizer was built with.
        """
        if not (self.use_ema and self.built):
            return
        var_list = list(var_list)
        averages = []
        for variable in var_list:
            index = self._trainable_variables_indices.get(id(variable))
            if index is None:
                raise ValueError(
                    MSG_FINALIZE_UNKNOWN.format(
                        getattr(variable, "name", None) or tuple(variable.shape),
                        self.name,
                        len(self._trainable_variables),
                    )
                )
            averages.append(self._model_variables_moving_average[index])
        with torch.no_grad():
            for variable, average in zip(var_list, averages):
                variable.copy_(average)

    def _update(self, grads, variables):
        with torch.no_grad():
            calls = self._current_iteration()
            lr = self._current_learning_rate(calls)
            plan = self._plan_for(variables)
            if self.loss_scale_factor is not None:
                grads = torch._foreach_div(grads, float(self.loss_scale_factor))
            if self._accumulation_steps:
                grads = self._accumulate_gradients(grads, plan, calls)
            if grads is not None:
                self._apply_update(self._clip_gradients(grads), variables, plan, lr)
            if self.use_ema:
                self._update_moving_averages()
            for position in plan.constrained:
                variable = variables[position]
                variable.copy_(variable.constraint(variable))
            self._advance_iteration()

    def _accumulate_gradients(self, grads, plan, calls):
        """Sum ``grads`` into the accumulators; on every Nth call return their mean instead."""
        accumulators = [self._accumulated_gradients[i] for i in plan.indices]
        if (calls + 1) % self._accumulation_steps:
            accumulation.accumulate(accumulators, grads)
            return None
        grads = accumulation.mean_gradients(grads, accumulators, self._accumulation_steps)
        accumulation.reset(self._accumulated_gradients)  # all of them, as in Keras
        return grads

    def _apply_update(self, grads, variables, plan, learning_rate):
        """Weight decay, then the update rule, group by group (override to add per-update work)."""
        for group in plan.groups:
            group_vars = group.take(variables)
            if self.weight_decay is not None:
                decayed = group_vars if group.decay is None else [group_vars[p] for p in group.decay]
                clipping.apply_weight_decay(decayed, weight_decay=self.weight_decay, lr=learning_rate)
            self.update_step_group(group.take(grads), group_vars, group.indices, learning_rate)

    def _update_moving_averages(self):
        """Average every built variable (not only the updated ones), then maybe overwrite them."""
        momentum = self.ema_momentum if self._iteration != 0 else 0.0
        everything = self._plan_for(self._trainable_variables)
        for group in everything.groups:
            averages = self._select_slots(self._model_variables_moving_average, group.indices)
            ema.update_moving_averages(averages, group.take(self._trainable_variables), momentum=momentum)
        if self.ema_overwrite_frequency and (self._iteration + 1) % self.ema_overwrite_frequency == 0:
            ema.copy_into(self._trainable_variables, self._model_variables_moving_average)

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return clipping.clip_by_norm(grads, self.clipnorm)
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clipping.clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return clipping.clip_by_value(grads, self.clipvalue)
        return grads

    def _plan_for(self, variables):
        key = tuple(map(id, variables))
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= _PLAN_CACHE_SIZE:
                self._plans.clear()
            plan = self._plans[key] = make_update_plan(
                variables, self._trainable_variables_indices, len(self._trainable_variables), self._use_weight_decay
            )
        return plan

    def update_step_group(self, grads, variables, indices, learning_rate):
        """Update variables that share one device and dtype (override for speed).

        Args:
            grads: their (clipped) gradients.
            variables: the variables, updated in place.
            indices: each variable's position in the built list, or None when
                ``variables`` is exactly that list (select slots with ``_select_slots``).
            learning_rate: the current learning rate, a Python float.
        """
        for grad, variable in zip(grads, variables):
            self.update_step(grad, variable, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        """Update one variable in place (Keras's per-variable hook)."""
        raise NotImplementedError(f"{type(self).__name__} must override `update_step` or `update_step_group`.")

    @staticmethod
    def assign(variable, value):
        """``variable[...] = value`` in place; works for any tensor (for ``update_step``)."""
        with torch.no_grad():
            variable.copy_(value)

    @staticmethod
    def assign_add(variable, value):
        """``variable += value`` in place; works for any tensor (for ``update_step``)."""
        with torch.no_grad():
            variable.add_(value)

    @staticmethod
    def assign_sub(variable, value):
        """``variable -= value`` in place; works for any tensor (for ``update_step``)."""
        with torch.no_grad():
            variable.sub_(value)

    @staticmethod
    def _select_slots(slots, indices):
        return slots if indices is None else [slots[i] for i in indices]

    # ----------------------------------------------------------------- saving
    def set_weights(self, weights):
        """Assign arrays to ``variables`` in order (the optimizer must be built)."""
        if not self.built:
            raise ValueError("Call `optimizer.build(trainable_variables)` before `set_weights()`.")
        weights = list(weights)
        if len(weights) != len(self._variables):
            raise ValueError(
                f"Expected {len(self._variables)} weights for optimizer {self.name!r}, got {len(weights)}."
            )
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape) != tuple(np.shape(weight)):
                raise ValueError(
                    f"Optimizer variable {variable.name!r} has shape {tuple(variable.shape)}, "
                    f"but the weight has shape {tuple(np.shape(weight))}."
                )
            variable.assign(weight)

    def save_own_variables(self, store):
        """Write ``variables`` into ``store`` as NumPy arrays under keys "0", "1", ..."""
        for i, variable in enumerate(self._variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        """Read ``variables`` back from a ``store`` written by ``save_own_variables``."""
        if len(store.keys()) != len(self._variables):
            warnings.warn(
                f"Skipping variable loading for optimizer {self.name!r}: it has {len(self._variables)} "
                f"variables but the saved optimizer has {len(store.keys())}. Build the optimizer "
                "(`optimizer.build(model.trainable_variables)`) before loading.",
                stacklevel=2,
            )
            return
        for i, variable in enumerate(self._variables):
            variable.assign(store[str(i)])

    # ----------------------------------------------------------------- config
    def get_config(self):
        """The constructor arguments as a JSON-friendly dict (no state)."""
        if self._schedule is not None:
            learning_rate = lr_utils.serialize_schedule(self._schedule)
        else:
            learning_rate = self._current_learning_rate(self._calls)
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Create an optimizer from ``get_config()``'s output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = lr_utils.deserialize_schedule(config["learning_rate"], custom_objects)
        return cls(**config)


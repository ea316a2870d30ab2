"""``LossScaleOptimizer``: dynamic loss scaling for float16 training, as Keras's.

The loss is multiplied by ``dynamic_scale`` before ``backward()`` so small
float16 gradients do not flush to zero; the optimizer then divides the
gradients by the scale. Per step:

* all gradients finite: the inner optimizer updates the variables, and after
  ``dynamic_growth_steps`` finite steps in a row the scale doubles;
* any gradient inf/NaN: the step is skipped (variables, slots and
  ``iterations`` unchanged) and the scale halves.

The scale and the count of finite steps live on the variables' device and are
updated there by PyTorch's AMP kernels (``torch.amp.GradScaler``'s). On the CPU
the skip is a plain branch. On an accelerator the step reads nothing back: the
update always runs and a non-finite step's variables and slots are put back on
the device from a copy taken before it; such a skipped step still counts in
``iterations`` there (as a learning-rate schedule sees it).
"""

import torch

from ember.backend import Variable
from ember.optimizers.base_optimizer import Optimizer

__all__ = ["LossScaleOptimizer"]

MSG_INNER = (
    "`inner_optimizer` must be an ember Optimizer instance (e.g. ember.optimizers.Adam()), got {value!r}."
)


class LossScaleOptimizer(Optimizer):
    """Wraps an optimizer with dynamic loss scaling (used automatically under ``"mixed_float16"``).

    Args:
        inner_optimizer: the ``Optimizer`` that updates the variables.
        initial_scale: the starting loss scale (``2**15``).
        dynamic_growth_steps: the scale doubles after this many consecutive
            steps with finite gradients (2000).
        name: optional name.

    Example:
        >>> import ember, torch
        >>> opt = LossScaleOptimizer(ember.optimizers.SGD(0.1), initial_scale=8.0)
        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> opt.scale_loss(w.sum()).backward()
        >>> opt.step([w])
        >>> w.detach().tolist(), float(opt.dynamic_scale)
        ([0.8999999761581421, 0.8999999761581421], 8.0)
    """

    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000, name=None, **kwargs):
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(MSG_INNER.format(value=inner_optimizer))
        if isinstance(initial_scale, bool) or not isinstance(initial_scale, (int, float)) or not initial_scale > 0:
            raise ValueError(f"`initial_scale` must be a number > 0, got initial_scale={initial_scale!r}.")
        if isinstance(dynamic_growth_steps, bool) or not isinstance(dynamic_growth_steps, int) or dynamic_growth_steps < 1:
            raise ValueError(
                f"`dynamic_growth_steps` must be an integer >= 1, got dynamic_growth_steps={dynamic_growth_steps!r}."
            )
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = dynamic_growth_steps
        self.step_counter = Variable(torch.zeros((), dtype=torch.int32), requires_grad=False, name="step_counter")
        self.dynamic_scale = Variable(
            torch.tensor(self.initial_scale, dtype=torch.float32), requires_grad=False, name="dynamic_scale"
        )
        self._variables.extend([self.step_counter, self.dynamic_scale])
        self._snapshot = None
        self._sync_free = None  # None: decided by the variables' device at build time

    # ----------------------------------------------------------------- delegated state
    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value):
        self.inner_optimizer.iterations = value

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    @property
    def variables(self):
        return self._variables[:] + self.inner_optimizer.variables

    def build(self, variables):
        variables = list(variables)
        if self.built:
            return
        if variables:
            device = variables[0].device
            for state in (self.step_counter, self.dynamic_scale):
                state.data = state.data.to(device)
            if self._sync_free is None:
                self._sync_free = device.type != "cpu"
        self.inner_optimizer.build(variables)
        self._trainable_variables = variables
        self._trainable_variables_indices = {id(v): i for i, v in enumerate(variables)}
        self.built = True

    # ----------------------------------------------------------------- the step
    def scale_loss(self, loss):
        """``loss * dynamic_scale``: call ``backward()`` on this."""
        return loss * self.dynamic_scale

    def step(self, params=None):
        if params is None:
            if not self.built:
                raise ValueError("`step()` needs `params` until the optimizer is built.")
            params = self._trainable_variables
        params = list(params)
        if not self.built:
            self.build(params)
        with_grad = [p for p in params if p.grad is not None]
        if with_grad:
            self._unscale_and_apply([p.grad for p in with_grad], with_grad)

    def apply(self, grads, trainable_variables=None):
        variables = self._trainable_variables if trainable_variables is None else list(trainable_variables)
        if not self.built:
            self.build(variables)
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            return self.inner_optimizer.apply(list(grads), variables)  # its error for no gradients
        grads = [torch.as_tensor(g, device=v.device).clone() for g, v in pairs]
        self._unscale_and_apply(grads, [v for _, v in pairs])

    def _unscale_and_apply(self, grads, variables):
        """Divide ``grads`` (in place) by the scale, update unless one is non-finite, adjust the scale."""
        with torch.no_grad():
            found_inf = torch.zeros((), dtype=torch.float32, device=self.dynamic_scale.device)
            inv_scale = self.dynamic_scale.double().reciprocal().float()
            by_dtype = {}
            for grad in grads:
                by_dtype.setdefault(grad.dtype, []).append(grad)
            for group in by_dtype.values():
                torch._amp_foreach_non_finite_check_and_unscale_(group, found_inf, inv_scale)
            if self._sync_free:
                self._masked_apply(grads, variables, found_inf)
            elif not found_inf.item():  # on the CPU reading it costs nothing
                self.inner_optimizer.apply(grads, variables)
            torch._amp_update_scale_(
                self.dynamic_scale, self.step_counter, found_inf, 2.0, 0.5, self.dynamic_growth_steps
            )

    def _masked_apply(self, grads, variables, found_inf):
        if not self.inner_optimizer.built:
            self.inner_optimizer.build(self._trainable_variables)
        device = found_inf.device
        state = list(variables) + [v for v in self.inner_optimizer._variables if v.device == device]
        if self._snapshot is None or len(self._snapshot) != len(state):
            self._snapshot = [torch.empty_like(t) for t in state]
        torch._foreach_copy_(self._snapshot, state)
        self.inner_optimizer.apply(grads, variables)
        skip = found_inf.bool()
        for tensor, saved in zip(state, self._snapshot):
            tensor.copy_(torch.where(skip, saved, tensor))

    def zero_grad(self, params=None):
        for param in self._trainable_variables if params is None else params:
            param.grad = None

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    # ----------------------------------------------------------------- saving
    def set_weights(self, weights):
        weights = list(weights)
        own = len(self._variables)
        for variable, weight in zip(self._variables, weights[:own]):
            variable.assign(weight)
        self.inner_optimizer.set_weights(weights[own:])

    def save_own_variables(self, store):
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        variables = self.variables
        if len(store.keys()) != len(variables):
            self.inner_optimizer.load_own_variables(store)  # warns with the counts
            return
        for i, variable in enumerate(variables):
            variable.assign(store[str(i)])

    def get_config(self):
        from ember.optimizers.registry import serialize

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ember.optimizers.registry import deserialize

        config = dict(config)
        if not isinstance(config["inner_optimizer"], Optimizer):  # model files hand it over already built
            config["inner_optimizer"] = deserialize(config["inner_optimizer"], custom_objects=custom_objects)
        return cls(**config)

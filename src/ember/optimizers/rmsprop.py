"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

import torch

from ember.optimizers.base_optimizer import Optimizer

__all__ = ["RMSprop", "rmsprop_update"]


@torch.no_grad()
def rmsprop_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    velocities: list[torch.Tensor],
    momentums: list[torch.Tensor],
    average_gradients: list[torch.Tensor],
    *,
    lr: float,
    rho: float,
    momentum: float,
    epsilon: float,
    centered: bool,
) -> None:
    """One RMSprop step, in place, with Keras's update rule.

    ``v = rho * v + (1 - rho) * g**2``; the denominator is ``v + epsilon`` (centered:
    ``v - a**2 + epsilon`` with ``a = rho * a + (1 - rho) * g``); the increment is
    ``lr * g / sqrt(denominator)`` (epsilon inside the square root, unlike
    ``torch.optim.RMSprop``). With momentum ``m = momentum * m + increment`` and
    ``w -= m``, else ``w -= increment``.

    Args:
        params: the variables (one device and dtype).
        grads: their gradients.
        velocities: running mean of squared gradients.
        momentums: momentum slots (ignored when ``momentum`` is 0).
        average_gradients: running mean of gradients (ignored unless ``centered``).
        lr: the learning rate.
        rho: the discount factor of the running means.
        momentum: the momentum coefficient.
        epsilon: added to the denominator, inside the square root.
        centered: normalize by the estimated variance instead of the second moment.

    Example:
        >>> w, v = [torch.ones(1)], [torch.zeros(1)]
        >>> rmsprop_update(w, [torch.ones(1)], v, [], [], lr=0.1, rho=0.75, momentum=0.0,
        ...                epsilon=0.0, centered=False)
        >>> round(w[0].item(), 6), v[0].item()
        (0.8, 0.25)
    """
    torch._foreach_mul_(velocities, rho)
    torch._foreach_addcmul_(velocities, grads, grads, value=1 - rho)
    denominators = torch._foreach_add(velocities, epsilon)
    if centered:
        torch._foreach_lerp_(average_gradients, grads, 1 - rho)
        torch._foreach_addcmul_(denominators, average_gradients, average_gradients, value=-1)
    torch._foreach_sqrt_(denominators)
    if momentum > 0:
        torch._foreach_mul_(momentums, momentum)
        torch._foreach_addcdiv_(momentums, grads, denominators, value=lr)
        torch._foreach_sub_(params, momentums)
    else:
        torch._foreach_addcdiv_(params, grads, denominators, value=-lr)


class RMSprop(Optimizer):
    """The RMSprop optimizer (Keras's ``RMSprop``).

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``).
        rho: discount factor for the running averages of (squared) gradients.
        momentum: momentum coefficient; 0 disables momentum.
        epsilon: small constant added inside the square root for stability.
        centered: normalize gradients by their estimated variance.
        **kwargs: ``Optimizer``'s common arguments (``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``loss_scale_factor``, ``name``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.ones(1))
        >>> optimizer = RMSprop(learning_rate=0.1, rho=0.75, epsilon=0.0)
        >>> w.grad = torch.ones(1)
        >>> optimizer.step([w])
        >>> round(w.item(), 6)
        0.8
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
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
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        self._velocities = []
        self._momentums = []
        self._average_gradients = []

    def build(self, variables):
        """Create velocity slots, plus momentum (``momentum > 0``) and average-gradient (``centered``) slots."""
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(self._trainable_variables, "velocity")
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(self._trainable_variables, "momentum")
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(self._trainable_variables, "average_gradient")

    def update_step_group(self, grads, variables, indices, learning_rate):
        rmsprop_update(
            variables,
            grads,
            self._select_slots(self._velocities, indices),
            self._select_slots(self._momentums, indices) if self.momentum > 0 else [],
            self._select_slots(self._average_gradients, indices) if self.centered else [],
            lr=learning_rate,
            rho=self.rho,
            momentum=self.momentum,
            epsilon=self.epsilon,
            centered=self.centered,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered})
        return config

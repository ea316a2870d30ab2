"""Adam: adaptive estimates of first- and second-order moments."""

import numpy as np
import torch

from ember.optimizers.base_optimizer import Optimizer

__all__ = ["Adam", "adam_update", "adam_step_size"]


def adam_step_size(*, lr: float, beta_1: float, beta_2: float, step: int, dtype: torch.dtype) -> float:
    """``lr * sqrt(1 - beta_2**step) / (1 - beta_1**step)``, rounded as Keras rounds it.

    Keras evaluates the bias correction in the variables' precision, and in float32
    ``1 - 0.999`` is off by about 1e-5 relative; matching that keeps ember's weights
    within float32 rounding of Keras's. Half-precision variables use float32.

    Example:
        >>> round(adam_step_size(lr=0.1, beta_1=0.9, beta_2=0.999, step=1, dtype=torch.float64), 6)
        0.031623
    """
    scalar = np.float64 if dtype == torch.float64 else np.float32
    t = scalar(step)
    one = scalar(1)
    return float(scalar(lr) * np.sqrt(one - scalar(beta_2) ** t) / (one - scalar(beta_1) ** t))


@torch.no_grad()
def adam_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    momentums: list[torch.Tensor],
    velocities: list[torch.Tensor],
    velocity_hats: list[torch.Tensor],
    *,
    lr: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    amsgrad: bool,
    step: int,
) -> None:
    """One Adam step, in place, with Keras's update rule.

    With ``t = step``: ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``;
    ``m += (g - m) * (1 - beta_1)``; ``v += (g**2 - v) * (1 - beta_2)``; with amsgrad
    ``v_hat = max(v_hat, v)`` replaces ``v`` below; ``w -= alpha * m / (sqrt(v) + epsilon)``.

    Args:
        params: the variables (one device and dtype).
        grads: their gradients.
        momentums: first-moment slots.
        velocities: second-moment slots.
        velocity_hats: running maxima of the second moment (ignored unless ``amsgrad``).
        lr: the learning rate.
        beta_1: decay rate of the first moment.
        beta_2: decay rate of the second moment.
        epsilon: added to ``sqrt(v)`` (not bias-corrected, as in Keras).
        amsgrad: use the AMSGrad variant.
        step: the 1-based number of this update (``iterations + 1``).

    Example:
        >>> w, m, v = [torch.zeros(1)], [torch.zeros(1)], [torch.zeros(1)]
        >>> adam_update(w, [torch.ones(1)], m, v, [], lr=0.1, beta_1=0.9, beta_2=0.999,
        ...             epsilon=0.0, amsgrad=False, step=1)
        >>> round(w[0].item(), 4)
        -0.1
    """
    alpha = adam_step_size(lr=lr, beta_1=beta_1, beta_2=beta_2, step=step, dtype=params[0].dtype)
    torch._foreach_lerp_(momentums, grads, 1 - beta_1)
    torch._foreach_mul_(velocities, beta_2)
    torch._foreach_addcmul_(velocities, grads, grads, value=1 - beta_2)
    if amsgrad:
        torch._foreach_maximum_(velocity_hats, velocities)
        denominators = torch._foreach_sqrt(velocity_hats)
    else:
        denominators = torch._foreach_sqrt(velocities)
    torch._foreach_add_(denominators, epsilon)
    torch._foreach_addcdiv_(params, momentums, denominators, value=-alpha)


class Adam(Optimizer):
    """The Adam optimizer (Keras's ``Adam``).

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``).
        beta_1: exponential decay rate of the first-moment estimates.
        beta_2: exponential decay rate of the second-moment estimates.
        epsilon: small constant for numerical stability (the "epsilon hat" of the
            Adam paper, added after bias correction).
        amsgrad: use the AMSGrad variant.
        **kwargs: ``Optimizer``'s common arguments (``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``loss_scale_factor``, ``name``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> optimizer = Adam(learning_rate=0.1, epsilon=0.0)
        >>> w.grad = torch.ones(1)
        >>> optimizer.step([w])
        >>> round(w.item(), 4)
        -0.1
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self._momentums = []
        self._velocities = []
        self._velocity_hats = []

    def build(self, variables):
        """Create momentum and velocity slots, plus ``velocity_hat`` slots with ``amsgrad``."""
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            self._trainable_variables, ["momentum", "velocity"]
        )
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(self._trainable_variables, "velocity_hat")

    def update_step_group(self, grads, variables, indices, learning_rate):
        adam_update(
            variables,
            grads,
            self._select_slots(self._momentums, indices),
            self._select_slots(self._velocities, indices),
            self._select_slots(self._velocity_hats, indices) if self.amsgrad else [],
            lr=learning_rate,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            amsgrad=self.amsgrad,
            step=self._iteration + 1,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}
        )
        return config

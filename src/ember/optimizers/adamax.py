"""Adamax: Adam with the infinity norm in place of the second moment."""

import torch

from ember.optimizers.base_optimizer import Optimizer
from ember.optimizers.numerics import scalar_type

__all__ = ["Adamax", "adamax_update"]


@torch.no_grad()
def adamax_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    momentums: list[torch.Tensor],
    norms: list[torch.Tensor],
    *,
    lr: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    step: int,
) -> None:
    """One Adamax step, in place, with Keras's update rule.

    ``m = beta_1 * m + (1 - beta_1) * g``; ``u = max(beta_2 * u, |g|)``;
    ``w -= lr * m / ((u + epsilon) * (1 - beta_1**step))`` (epsilon added to ``u``,
    not inside the maximum as in ``torch.optim.Adamax``).

    Args:
        params: the variables (one device and dtype).
        grads: their gradients.
        momentums: first-moment slots.
        norms: exponentially weighted infinity norms.
        lr: the learning rate.
        beta_1: decay rate of the first moment.
        beta_2: decay rate of the infinity norm.
        epsilon: added to the norm.
        step: the 1-based number of this update.

    Example:
        >>> w, m, u = [torch.zeros(1)], [torch.zeros(1)], [torch.zeros(1)]
        >>> adamax_update(w, [torch.ones(1)], m, u, lr=0.1, beta_1=0.9, beta_2=0.999,
        ...               epsilon=0.0, step=1)
        >>> round(w[0].item(), 4)
        -0.1
    """
    scalar = scalar_type(params[0].dtype)
    bias_correction = float(scalar(1) - scalar(beta_1) ** scalar(step))
    torch._foreach_mul_(momentums, beta_1)
    torch._foreach_add_(momentums, grads, alpha=1 - beta_1)
    torch._foreach_mul_(norms, beta_2)
    torch._foreach_maximum_(norms, torch._foreach_abs(grads))
    steps = torch._foreach_mul(momentums, lr)
    denominators = torch._foreach_add(norms, epsilon)
    torch._foreach_mul_(denominators, bias_correction)
    torch._foreach_addcdiv_(params, steps, denominators, value=-1)


class Adamax(Optimizer):
    """The Adamax optimizer (Keras's ``Adamax``).

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``).
        beta_1: exponential decay rate of the first-moment estimates.
        beta_2: exponential decay rate of the exponentially weighted infinity norm.
        epsilon: small constant for numerical stability.
        **kwargs: ``Optimizer``'s common arguments (``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``use_ema``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> optimizer = Adamax(learning_rate=0.1, epsilon=0.0)
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
        self._m = []
        self._u = []

    def build(self, variables):
        """Create momentum and infinity-norm slots."""
        if self.built:
            return
        super().build(variables)
        self._m, self._u = self.add_optimizer_variables(self._trainable_variables, ["momentum", "norm"])

    def update_step_group(self, grads, variables, indices, learning_rate):
        adamax_update(
            variables,
            grads,
            self._select_slots(self._m, indices),
            self._select_slots(self._u, indices),
            lr=learning_rate,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            step=self._iteration + 1,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config

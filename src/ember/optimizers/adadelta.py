"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

import torch

from ember.optimizers.base_optimizer import Optimizer

__all__ = ["Adadelta", "adadelta_update"]


@torch.no_grad()
def adadelta_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    accumulated_grads: list[torch.Tensor],
    accumulated_deltas: list[torch.Tensor],
    *,
    lr: float,
    rho: float,
    epsilon: float,
) -> None:
    """One Adadelta step, in place, with Keras's update rule.

    ``G = rho * G + (1 - rho) * g**2``;
    ``delta = -sqrt(D + epsilon) * g / sqrt(G + epsilon)``;
    ``D = rho * D + (1 - rho) * delta**2``; ``w += lr * delta``.

    Args:
        params: the variables (one device and dtype).
        grads: their gradients.
        accumulated_grads: running averages of squared gradients (``G``).
        accumulated_deltas: running averages of squared updates (``D``).
        lr: the learning rate.
        rho: the decay rate of the running averages.
        epsilon: added inside both square roots.

    Example:
        >>> w, G, D = [torch.ones(1)], [torch.zeros(1)], [torch.zeros(1)]
        >>> adadelta_update(w, [torch.ones(1)], G, D, lr=1.0, rho=0.0, epsilon=1.0)
        >>> round(w[0].item(), 4)  # 1 - sqrt(1) * 1 / sqrt(2)
        0.2929
    """
    torch._foreach_mul_(accumulated_grads, rho)
    torch._foreach_add_(accumulated_grads, torch._foreach_mul(grads, grads), alpha=1 - rho)
    deltas = torch._foreach_add(accumulated_deltas, epsilon)
    torch._foreach_sqrt_(deltas)
    torch._foreach_mul_(deltas, grads)
    grad_rms = torch._foreach_add(accumulated_grads, epsilon)
    torch._foreach_sqrt_(grad_rms)
    torch._foreach_div_(deltas, grad_rms)
    torch._foreach_neg_(deltas)
    torch._foreach_mul_(accumulated_deltas, rho)
    torch._foreach_add_(accumulated_deltas, torch._foreach_mul(deltas, deltas), alpha=1 - rho)
    torch._foreach_add_(params, deltas, alpha=lr)


class Adadelta(Optimizer):
    """The Adadelta optimizer (Keras's ``Adadelta``).

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``); Keras's
            default 0.001 is much smaller than the paper's 1.0.
        rho: the decay rate of the running averages.
        epsilon: small constant for numerical stability.
        **kwargs: ``Optimizer``'s common arguments (``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``use_ema``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.ones(1))
        >>> optimizer = Adadelta(learning_rate=1.0, rho=0.0, epsilon=1.0)
        >>> w.grad = torch.ones(1)
        >>> optimizer.step([w])
        >>> round(w.item(), 4)
        0.2929
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
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
        self.rho = rho
        self.epsilon = epsilon
        self._accumulated_grads = []
        self._accumulated_delta_vars = []

    def build(self, variables):
        """Create the running averages of squared gradients and of squared updates."""
        if self.built:
            return
        super().build(variables)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            self._trainable_variables, ["accumulated_grad", "accumulated_delta_var"]
        )

    def update_step_group(self, grads, variables, indices, learning_rate):
        adadelta_update(
            variables,
            grads,
            self._select_slots(self._accumulated_grads, indices),
            self._select_slots(self._accumulated_delta_vars, indices),
            lr=learning_rate,
            rho=self.rho,
            epsilon=self.epsilon,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config

"""Lion: the sign of an interpolated momentum as the update."""

import numpy as np
import torch

from ember.optimizers.base_optimizer import Optimizer

__all__ = ["Lion", "lion_update"]


@torch.no_grad()
def lion_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    momentums: list[torch.Tensor],
    *,
    lr: float,
    beta_1: float,
    beta_2: float,
) -> None:
    """One Lion step, in place, with Keras's update rule.

    ``w -= lr * sign(beta_1 * m + (1 - beta_1) * g)``, then
    ``m = beta_2 * m + (1 - beta_2) * g``.

    Args:
        params: the variables (one device and dtype).
        grads: their gradients.
        momentums: the momentum slots.
        lr: the learning rate.
        beta_1: interpolation factor of the update direction.
        beta_2: decay rate of the momentum.

    Example:
        >>> w, m = [torch.zeros(2)], [torch.zeros(2)]
        >>> lion_update(w, [torch.tensor([3.0, -0.5])], m, lr=0.1, beta_1=0.9, beta_2=0.99)
        >>> w[0].tolist()
        [-0.10000000149011612, 0.10000000149011612]
    """
    directions = torch._foreach_mul(momentums, beta_1)
    torch._foreach_add_(directions, grads, alpha=1 - beta_1)
    torch._foreach_sign_(directions)
    torch._foreach_add_(params, directions, alpha=-lr)
    torch._foreach_mul_(momentums, beta_2)
    torch._foreach_add_(momentums, grads, alpha=1 - beta_2)


class Lion(Optimizer):
    """The Lion optimizer (Keras's ``Lion``).

    Every element moves by exactly ``lr`` per step, so Lion usually wants a
    learning rate 3-10x smaller than AdamW's (and a larger weight decay).

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``).
        beta_1: interpolation factor between momentum and gradient for the update,
            in ``(0, 1]``.
        beta_2: exponential decay rate of the momentum.
        **kwargs: ``Optimizer``'s common arguments (``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``use_ema``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> optimizer = Lion(learning_rate=0.5)
        >>> w.grad = torch.full((1,), 0.01)
        >>> optimizer.step([w])
        >>> w.item()
        -0.5
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.99,
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
        if isinstance(beta_1, bool) or not isinstance(beta_1, (int, float, np.number)) or not 0 < beta_1 <= 1:
            raise ValueError(
                "Argument `beta_1` must be in the (0, 1] range; at 0 Lion degenerates to SignSGD. "
                f"Received: beta_1={beta_1!r}."
            )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self._momentums = []

    def build(self, variables):
        """Create one momentum slot per variable."""
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(self._trainable_variables, "momentum")

    def update_step_group(self, grads, variables, indices, learning_rate):
        lion_update(
            variables,
            grads,
            self._select_slots(self._momentums, indices),
            lr=learning_rate,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config

"""Adagrad: per-parameter learning rates scaled by the accumulated squared gradients."""

import torch

from ember.optimizers.base_optimizer import Optimizer

__all__ = ["Adagrad", "adagrad_update"]


@torch.no_grad()
def adagrad_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    accumulators: list[torch.Tensor],
    *,
    lr: float,
    epsilon: float,
) -> None:
    """One Adagrad step, in place, with Keras's update rule.

    ``a += g**2`` then ``w -= lr * g / sqrt(a + epsilon)`` (epsilon inside the square
    root, unlike ``torch.optim.Adagrad``, which adds it after).

    Args:
        params: the variables (one device and dtype).
        grads: their gradients.
        accumulators: the sums of squared gradients.
        lr: the learning rate.
        epsilon: added to the accumulator inside the square root.

    Example:
        >>> w, a = [torch.ones(1)], [torch.zeros(1)]
        >>> adagrad_update(w, [torch.full((1,), 2.0)], a, lr=0.1, epsilon=0.0)
        >>> round(w[0].item(), 6), a[0].item()
        (0.9, 4.0)
    """
    torch._foreach_addcmul_(accumulators, grads, grads)
    steps = torch._foreach_mul(grads, lr)
    denominators = torch._foreach_add(accumulators, epsilon)
    torch._foreach_sqrt_(denominators)
    torch._foreach_addcdiv_(params, steps, denominators, value=-1)


class Adagrad(Optimizer):
    """The Adagrad optimizer (Keras's ``Adagrad``).

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``).
        initial_accumulator_value: the starting value of the accumulators (>= 0).
        epsilon: small constant for numerical stability.
        **kwargs: ``Optimizer``'s common arguments (``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``use_ema``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.ones(1))
        >>> optimizer = Adagrad(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=0.0)
        >>> w.grad = torch.full((1,), 2.0)
        >>> optimizer.step([w])
        >>> round(w.item(), 6)
        0.9
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
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
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon
        self._accumulators = []

    def build(self, variables):
        """Create one accumulator per variable, filled with ``initial_accumulator_value``."""
        if self.built:
            return
        super().build(variables)
        self._accumulators = self.add_optimizer_variables(
            self._trainable_variables, "accumulator", initializer=float(self.initial_accumulator_value)
        )

    def update_step_group(self, grads, variables, indices, learning_rate):
        adagrad_update(
            variables,
            grads,
            self._select_slots(self._accumulators, indices),
            lr=learning_rate,
            epsilon=self.epsilon,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon})
        return config

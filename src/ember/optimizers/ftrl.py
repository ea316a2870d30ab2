"""FTRL-Proximal ("Follow The Regularized Leader"), with L1/L2 and shrinkage regularization."""

import numpy as np
import torch

from ember.optimizers.base_optimizer import Optimizer
from ember.optimizers.numerics import scalar_type

__all__ = ["Ftrl", "ftrl_update"]


@torch.no_grad()
def ftrl_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    accumulators: list[torch.Tensor],
    linears: list[torch.Tensor],
    *,
    lr: float,
    learning_rate_power: float,
    l1_regularization_strength: float,
    l2_regularization_strength: float,
    l2_shrinkage_regularization_strength: float,
    beta: float,
) -> None:
    """One FTRL step, in place, with Keras's update rule.

    With ``p = -learning_rate_power``, ``l2 = l2_regularization_strength +
    beta / (2 * lr)`` and ``n' = n + g**2``:
    ``z += g + 2 * l2_shrinkage * w - (n'**p - n**p) / lr * w``;
    ``w = (clip(z, -l1, l1) - z) / (n'**p / lr + 2 * l2)``; ``n = n'``.

    Args:
        params: the variables (one device and dtype).
        grads: their gradients.
        accumulators: the sums of squared gradients (``n``).
        linears: the linear terms (``z``).
        lr: the learning rate.
        learning_rate_power: how the step size decays with ``n`` (<= 0).
        l1_regularization_strength: the L1 coefficient (>= 0).
        l2_regularization_strength: the L2 coefficient (>= 0).
        l2_shrinkage_regularization_strength: the L2 shrinkage coefficient, applied
            through the gradient (>= 0).
        beta: the FTRL-Proximal beta; adds ``beta / (2 * lr)`` to the L2 coefficient.

    Example:
        >>> w, n, z = [torch.zeros(1)], [torch.zeros(1)], [torch.zeros(1)]
        >>> ftrl_update(w, [torch.ones(1)], n, z, lr=0.5, learning_rate_power=-0.5,
        ...             l1_regularization_strength=0.0, l2_regularization_strength=0.0,
        ...             l2_shrinkage_regularization_strength=0.0, beta=0.0)
        >>> w[0].item(), n[0].item(), z[0].item()
        (-0.5, 1.0, 1.0)
    """
    scalar = scalar_type(params[0].dtype)
    lr32 = scalar(lr)
    l2 = scalar(l2_regularization_strength) + scalar(beta) / (scalar(2) * lr32)
    power = -learning_rate_power

    new_accumulators = torch._foreach_add(accumulators, torch._foreach_mul(grads, grads))
    new_powers = torch._foreach_pow(new_accumulators, power)
    sigmas = torch._foreach_sub(new_powers, torch._foreach_pow(accumulators, power))
    torch._foreach_div_(sigmas, lr)
    torch._foreach_mul_(sigmas, params)
    increments = torch._foreach_add(grads, torch._foreach_mul(params, 2 * l2_shrinkage_regularization_strength))
    torch._foreach_sub_(increments, sigmas)
    torch._foreach_add_(linears, increments)

    quadratics = torch._foreach_div(new_powers, lr)
    torch._foreach_add_(quadratics, float(scalar(2) * l2))
    l1 = l1_regularization_strength
    clipped = torch._foreach_clamp_max(torch._foreach_clamp_min(linears, -l1), l1)
    torch._foreach_sub_(clipped, linears)
    torch._foreach_div_(clipped, quadratics)
    torch._foreach_copy_(params, clipped)
    torch._foreach_copy_(accumulators, new_accumulators)


def _check_non_negative(name, value, wording="positive or zero"):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or value < 0.0:
        raise ValueError(f"`{name}` needs to be {wording}. Received: {name}={value!r}.")


class Ftrl(Optimizer):
    """The FTRL-Proximal optimizer (Keras's ``Ftrl``), suited to shallow models with sparse features.

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``).
        learning_rate_power: how the step size decays over training (<= 0; 0 gives
            a fixed step size).
        initial_accumulator_value: the starting value of the accumulators (>= 0).
        l1_regularization_strength: L1 regularization (>= 0).
        l2_regularization_strength: stabilization L2 regularization (>= 0).
        l2_shrinkage_regularization_strength: magnitude-penalizing L2 regularization,
            added through the gradient (>= 0).
        beta: the FTRL-Proximal beta (default 0).
        **kwargs: ``Optimizer``'s common arguments (``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``use_ema``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> optimizer = Ftrl(learning_rate=0.5, initial_accumulator_value=0.0)
        >>> w.grad = torch.ones(1)
        >>> optimizer.step([w])
        >>> w.item()
        -0.5
    """

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
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
        _check_non_negative("initial_accumulator_value", initial_accumulator_value)
        if isinstance(learning_rate_power, bool) or not isinstance(learning_rate_power, (int, float, np.number)):
            raise ValueError(
                f"`learning_rate_power` needs to be negative or zero. Received: learning_rate_power={learning_rate_power!r}."
            )
        if learning_rate_power > 0.0:
            raise ValueError(
                f"`learning_rate_power` needs to be negative or zero. Received: learning_rate_power={learning_rate_power}."
            )
        _check_non_negative("l1_regularization_strength", l1_regularization_strength)
        _check_non_negative("l2_regularization_strength", l2_regularization_strength)
        _check_non_negative("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)
        if isinstance(beta, bool) or not isinstance(beta, (int, float, np.number)):
            raise ValueError(f"`beta` must be a number. Received: beta={beta!r}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta
        self._accumulators = []
        self._linears = []

    def build(self, variables):
        """Create accumulator (filled with ``initial_accumulator_value``) and linear slots."""
        if self.built:
            return
        super().build(variables)
        for variable in self._trainable_variables:  # interleaved per variable, as in Keras
            self._accumulators.append(
                self.add_variable_from_reference(variable, "accumulator", float(self.initial_accumulator_value))
            )
            self._linears.append(self.add_variable_from_reference(variable, "linear"))

    def update_step_group(self, grads, variables, indices, learning_rate):
        ftrl_update(
            variables,
            grads,
            self._select_slots(self._accumulators, indices),
            self._select_slots(self._linears, indices),
            lr=learning_rate,
            learning_rate_power=self.learning_rate_power,
            l1_regularization_strength=self.l1_regularization_strength,
            l2_regularization_strength=self.l2_regularization_strength,
            l2_shrinkage_regularization_strength=self.l2_shrinkage_regularization_strength,
            beta=self.beta,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta,
            }
        )
        return config

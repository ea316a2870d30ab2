"""Adafactor: Adam-like steps with factored second moments and relative step sizes."""

import math

import numpy as np
import torch

from ember.optimizers.base_optimizer import Optimizer
from ember.optimizers.numerics import scalar_type

__all__ = ["Adafactor", "adafactor_update"]


def _root_mean_squares(tensors):
    """Each tensor's root mean square, as 0-d tensors (one foreach launch)."""
    norms = torch._foreach_norm(tensors)
    return [norm / math.sqrt(max(t.numel(), 1)) for norm, t in zip(norms, tensors)]


@torch.no_grad()
def adafactor_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    row_moments: list,
    column_moments: list,
    velocities: list[torch.Tensor],
    *,
    lr: float,
    beta_2_decay: float,
    epsilon_1: float,
    epsilon_2: float,
    clip_threshold: float,
    relative_step: bool,
    step: int,
) -> None:
    """One Adafactor step, in place, with Keras's update rule.

    With ``t = step``: ``rho = min(lr, 1 / sqrt(t))`` (with ``relative_step`` the
    learning rate is first capped the same way); ``alpha = max(epsilon_2, rms(w)) * rho``;
    ``beta = 1 - t**beta_2_decay``; ``G = g**2 + epsilon_1``. For a variable of rank
    >= 2, ``r = beta * r + (1 - beta) * mean(G, -1)``, ``c = beta * c + (1 - beta) *
    mean(G, -2)`` and ``v = (r / mean(r, -1))[..., None] * c[..., None, :]``; for rank
    < 2, ``v = beta * v + (1 - beta) * G``. Then ``u = g / sqrt(v)``,
    ``u /= max(1, rms(u) / clip_threshold)`` and ``w -= alpha * u``.

    Args:
        params: the variables (one device and dtype).
        grads: their gradients.
        row_moments: per variable, the factored row moments ``r`` (shape
            ``w.shape[:-1]``), or anything for rank < 2 (unused).
        column_moments: per variable, the factored column moments ``c`` (shape
            ``w.shape[:-2] + w.shape[-1:]``), or anything for rank < 2 (unused).
        velocities: the second-moment estimates ``v`` (shaped like the variables).
        lr: the learning rate.
        beta_2_decay: the exponent of the second-moment decay schedule.
        epsilon_1: added to the squared gradients.
        epsilon_2: the smallest scale a variable's step is relative to.
        clip_threshold: the largest root mean square of an update.
        relative_step: cap the learning rate at ``1 / sqrt(t)``.
        step: the 1-based number of this update.

    Example:
        >>> w, v = [torch.ones(4)], [torch.zeros(4)]
        >>> adafactor_update(w, [torch.ones(4)], [None], [None], v, lr=0.1, beta_2_decay=-0.8,
        ...                  epsilon_1=0.0, epsilon_2=1e-3, clip_threshold=1.0, relative_step=True, step=1)
        >>> w[0].tolist()
        [0.8999999761581421, 0.8999999761581421, 0.8999999761581421, 0.8999999761581421]
    """
    scalar = scalar_type(params[0].dtype)
    t = scalar(step)
    one = scalar(1)
    inverse_sqrt_t = one / np.sqrt(t)
    lr = scalar(lr)
    if relative_step:
        lr = min(lr, inverse_sqrt_t)
    rho = float(min(lr, inverse_sqrt_t))
    beta = scalar(one - t ** scalar(beta_2_decay))
    keep, take = float(beta), float(one - beta)

    squared = torch._foreach_mul(grads, grads)
    torch._foreach_add_(squared, epsilon_1)
    unfactored = []
    for i, (param, grad_squared) in enumerate(zip(params, squared)):
        if param.dim() < 2:
            unfactored.append(i)
            continue
        rows, columns = row_moments[i], column_moments[i]
        rows.mul_(keep).add_(grad_squared.mean(dim=-1), alpha=take)
        columns.mul_(keep).add_(grad_squared.mean(dim=-2), alpha=take)
        velocities[i].copy_((rows / rows.mean(dim=-1, keepdim=True)).unsqueeze(-1) * columns.unsqueeze(-2))
    if unfactored:
        plain = [velocities[i] for i in unfactored]
        torch._foreach_mul_(plain, keep)
        torch._foreach_add_(plain, [squared[i] for i in unfactored], alpha=take)

    updates = torch._foreach_div(grads, torch._foreach_sqrt(velocities))
    update_scales = [torch.clamp_min(rms / clip_threshold, 1.0) for rms in _root_mean_squares(updates)]
    torch._foreach_div_(updates, update_scales)
    step_sizes = [torch.clamp_min(rms, epsilon_2) * rho for rms in _root_mean_squares(params)]
    torch._foreach_mul_(updates, step_sizes)
    torch._foreach_sub_(params, updates)


class Adafactor(Optimizer):
    """The Adafactor optimizer (Keras's ``Adafactor``).

    For variables of rank >= 2 the second moment is stored factored, as row and
    column averages over the last two axes, which saves memory on large matrices.

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``).
        beta_2_decay: the decay exponent of the second-moment average.
        epsilon_1: added to the squared gradients.
        epsilon_2: the smallest scale a variable's step is relative to.
        clip_threshold: the largest root mean square of an update.
        relative_step: with a float learning rate, cap it at ``1 / sqrt(step)``.
        **kwargs: ``Optimizer``'s common arguments (``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``use_ema``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.ones(4))
        >>> optimizer = Adafactor(learning_rate=0.1, epsilon_1=0.0)
        >>> w.grad = torch.ones(4)
        >>> optimizer.step([w])
        >>> round(w[0].item(), 4)
        0.9
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
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
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step
        self._r = []
        self._c = []
        self._v = []

    def build(self, variables):
        """Per variable: row and column moments (int32 placeholders below rank 2), then a velocity."""
        if self.built:
            return
        super().build(variables)
        for variable in self._trainable_variables:
            name = getattr(variable, "name", None) or "variable"
            shape = tuple(variable.shape)
            if len(shape) < 2:
                # Keras keeps two scalar placeholders here; ember keeps them too so
                # that `variables` (and saved optimizer state) line up with Keras's.
                self._r.append(self.add_variable((), dtype=torch.int32, name=name, device=variable.device))
                self._c.append(self.add_variable((), dtype=torch.int32, name=name, device=variable.device))
            else:
                self._r.append(self.add_variable(shape[:-1], dtype=variable.dtype, name=name, device=variable.device))
                self._c.append(
                    self.add_variable(shape[:-2] + shape[-1:], dtype=variable.dtype, name=name, device=variable.device)
                )
            self._v.append(self.add_variable_from_reference(variable, "velocity"))

    def update_step_group(self, grads, variables, indices, learning_rate):
        adafactor_update(
            variables,
            grads,
            self._select_slots(self._r, indices),
            self._select_slots(self._c, indices),
            self._select_slots(self._v, indices),
            lr=learning_rate,
            beta_2_decay=self.beta_2_decay,
            epsilon_1=self.epsilon_1,
            epsilon_2=self.epsilon_2,
            clip_threshold=self.clip_threshold,
            relative_step=self.relative_step and self._schedule is None,
            step=self._iteration + 1,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step,
            }
        )
        return config

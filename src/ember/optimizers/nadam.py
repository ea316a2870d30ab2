"""Nadam: Adam with Nesterov momentum and Keras's momentum-decay schedule."""

import numpy as np
import torch

from ember.optimizers.base_optimizer import Optimizer
from ember.optimizers.numerics import scalar_type

__all__ = ["Nadam", "nadam_update", "nadam_momentum"]

_MOMENTUM_DECAY = 0.96


def nadam_momentum(beta_1: float, step: int, scalar=np.float32):
    """The scheduled momentum ``mu_t = beta_1 * (1 - 0.5 * 0.96**step)``, in ``scalar`` precision.

    Example:
        >>> round(float(nadam_momentum(0.9, 1)), 6)
        0.468
    """
    return scalar(beta_1) * (scalar(1) - scalar(0.5) * scalar(_MOMENTUM_DECAY) ** scalar(step))


@torch.no_grad()
def nadam_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    momentums: list[torch.Tensor],
    velocities: list[torch.Tensor],
    *,
    lr: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    step: int,
    u_product: float,
) -> None:
    """One Nadam step, in place, with Keras's update rule.

    With ``mu_t = nadam_momentum(beta_1, t)`` and ``P_t = mu_1 * ... * mu_t``
    (``u_product``, already including this step): ``m = beta_1 * m + (1 - beta_1) * g``;
    ``v = beta_2 * v + (1 - beta_2) * g**2``;
    ``m_hat = mu_{t+1} * m / (1 - P_t * mu_{t+1}) + (1 - mu_t) * g / (1 - P_t)``;
    ``v_hat = v / (1 - beta_2**t)``; ``w -= lr * m_hat / (sqrt(v_hat) + epsilon)``.

    Args:
        params: the variables (one device and dtype).
        grads: their gradients.
        momentums: first-moment slots.
        velocities: second-moment slots.
        lr: the learning rate.
        beta_1: decay rate of the first moment.
        beta_2: decay rate of the second moment.
        epsilon: added to ``sqrt(v_hat)``.
        step: the 1-based number of this update (``t``).
        u_product: the product of the scheduled momenta up to this step (``P_t``).

    Example:
        >>> w, m, v = [torch.zeros(1)], [torch.zeros(1)], [torch.zeros(1)]
        >>> mu = nadam_momentum(0.9, 1)
        >>> nadam_update(w, [torch.ones(1)], m, v, lr=0.1, beta_1=0.9, beta_2=0.999,
        ...              epsilon=0.0, step=1, u_product=mu)
        >>> round(w[0].item(), 4)  # m_hat = 0.0628 + 1, v_hat = 1
        -0.1063
    """
    scalar = scalar_type(params[0].dtype)
    one = scalar(1)
    mu_t = nadam_momentum(beta_1, step, scalar)
    mu_next = nadam_momentum(beta_1, step + 1, scalar)
    u_product = scalar(u_product)
    u_product_next = u_product * mu_next
    v_correction = float(one - scalar(beta_2) ** scalar(step))

    torch._foreach_mul_(momentums, beta_1)
    torch._foreach_add_(momentums, grads, alpha=1 - beta_1)
    torch._foreach_mul_(velocities, beta_2)
    torch._foreach_add_(velocities, torch._foreach_mul(grads, grads), alpha=1 - beta_2)

    m_hat = torch._foreach_mul(momentums, float(mu_next))
    torch._foreach_div_(m_hat, float(one - u_product_next))
    current = torch._foreach_mul(grads, float(one - mu_t))
    torch._foreach_div_(current, float(one - u_product))
    torch._foreach_add_(m_hat, current)
    torch._foreach_mul_(m_hat, lr)
    denominators = torch._foreach_div(velocities, v_correction)
    torch._foreach_sqrt_(denominators)
    torch._foreach_add_(denominators, epsilon)
    torch._foreach_addcdiv_(params, m_hat, denominators, value=-1)


class Nadam(Optimizer):
    """The Nadam optimizer (Keras's ``Nadam``).

    The product of the scheduled momenta is optimizer state (a scalar variable,
    the last of ``variables``), advanced once per update; a Python mirror keeps
    the step free of device-to-host reads.

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``).
        beta_1: exponential decay rate of the first-moment estimates.
        beta_2: exponential decay rate of the second-moment estimates.
        epsilon: small constant for numerical stability.
        **kwargs: ``Optimizer``'s common arguments (``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``use_ema``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> optimizer = Nadam(learning_rate=0.1, epsilon=0.0)
        >>> w.grad = torch.ones(1)
        >>> optimizer.step([w])
        >>> round(w.item(), 4)
        -0.1063
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
        self._momentums = []
        self._velocities = []
        self._u_product = None

    def build(self, variables):
        """Create momentum and velocity slots, then the momentum-product scalar."""
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            self._trainable_variables, ["momentum", "velocity"]
        )
        dtype = self._trainable_variables[0].dtype if self._trainable_variables else torch.float32
        # Keras's name for this unnamed scalar, so that `variables` line up by name.
        self._u_product = self.add_variable((), initializer="ones", dtype=dtype, name="variable")
        self._sync_u_product()

    def _sync_u_product(self):
        self._u_product_value = scalar_type(self._u_product.dtype)(self._u_product.item())
        self._u_product_version = self._u_product._version

    def _apply_update(self, grads, variables, plan, learning_rate):
        if self._u_product._version != self._u_product_version:
            self._sync_u_product()  # state was loaded or assigned
        scalar = scalar_type(self._u_product.dtype)
        self._u_product_value = self._u_product_value * nadam_momentum(self.beta_1, self._iteration + 1, scalar)
        self._u_product.fill_(float(self._u_product_value))
        self._u_product_version = self._u_product._version
        super()._apply_update(grads, variables, plan, learning_rate)

    def update_step_group(self, grads, variables, indices, learning_rate):
        nadam_update(
            variables,
            grads,
            self._select_slots(self._momentums, indices),
            self._select_slots(self._velocities, indices),
            lr=learning_rate,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            step=self._iteration + 1,
            u_product=float(self._u_product_value),
        )

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config

"""Stochastic gradient descent, with optional (Nesterov) momentum."""

import torch

from ember.optimizers.base_optimizer import Optimizer

__all__ = ["SGD", "sgd_update"]


@torch.no_grad()
def sgd_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    momentums: list[torch.Tensor],
    *,
    lr: float,
    momentum: float,
    nesterov: bool,
) -> None:
    """One SGD step, in place, with Keras's update rule.

    Without momentum ``w -= lr * g``. With momentum ``m = momentum * m - lr * g``
    then ``w += m``, or with Nesterov ``w += momentum * m - lr * g``.

    Args:
        params: the variables (one device and dtype).
        grads: their gradients.
        momentums: the momentum slots (ignored when ``momentum`` is 0).
        lr: the learning rate.
        momentum: the momentum coefficient.
        nesterov: use Nesterov momentum.

    Example:
        >>> w, m = [torch.ones(2)], [torch.zeros(2)]
        >>> sgd_update(w, [torch.ones(2)], m, lr=0.1, momentum=0.5, nesterov=False)
        >>> w[0].tolist(), m[0].tolist()
        ([0.8999999761581421, 0.8999999761581421], [-0.10000000149011612, -0.10000000149011612])
    """
    if not momentum:
        torch._foreach_add_(params, grads, alpha=-lr)
        return
    torch._foreach_mul_(momentums, momentum)
    torch._foreach_add_(momentums, grads, alpha=-lr)
    if nesterov:
        torch._foreach_add_(params, momentums, alpha=momentum)
        torch._foreach_add_(params, grads, alpha=-lr)
    else:
        torch._foreach_add_(params, momentums)


class SGD(Optimizer):
    """Gradient descent with optional momentum (Keras's ``SGD``).

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``).
        momentum: a float in ``[0, 1]`` that accelerates descent along consistent
            directions and damps oscillations.
        nesterov: whether to use Nesterov momentum.
        **kwargs: ``Optimizer``'s common arguments (``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``loss_scale_factor``, ``name``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> optimizer = SGD(learning_rate=0.1)
        >>> w.grad = torch.ones(2)
        >>> optimizer.step([w])
        >>> w.tolist(), int(optimizer.iterations)
        ([0.8999999761581421, 0.8999999761581421], 1)
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
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
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self._momentums = []

    def build(self, variables):
        """Create one momentum slot per variable (only when ``momentum`` is non-zero)."""
        if self.built:
            return
        super().build(variables)
        if self.momentum != 0:
            self._momentums = self.add_optimizer_variables(self._trainable_variables, "momentum")

    def update_step_group(self, grads, variables, indices, learning_rate):
        sgd_update(
            variables,
            grads,
            self._select_slots(self._momentums, indices) if self.momentum != 0 else [],
            lr=learning_rate,
            momentum=self.momentum,
            nesterov=self.nesterov,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config

"""AdamW: Adam with decoupled weight decay on by default."""

from ember.optimizers.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras's ``AdamW``).

    The update is Adam's; before it, every variable (except those excluded with
    ``exclude_from_weight_decay``) is decayed: ``w -= w * weight_decay * lr``.

    Args:
        learning_rate: a float or a callable schedule (see ``Optimizer``).
        weight_decay: the decay coefficient (a float; None is rejected).
        beta_1: exponential decay rate of the first-moment estimates.
        beta_2: exponential decay rate of the second-moment estimates.
        epsilon: small constant added to ``sqrt(v)`` for numerical stability.
        amsgrad: use the AMSGrad variant.
        **kwargs: ``Optimizer``'s common arguments (``clipnorm``, ``clipvalue``,
            ``global_clipnorm``, ``use_ema``, ``gradient_accumulation_steps``, ...).

    Example:
        >>> w = torch.nn.Parameter(torch.ones(1))
        >>> optimizer = AdamW(learning_rate=0.1, weight_decay=0.5, epsilon=0.0)
        >>> w.grad = torch.ones(1)
        >>> optimizer.step([w])
        >>> round(w.item(), 4)  # 1 * (1 - 0.5 * 0.1) - 0.1
        0.85
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
        if weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None. "
                "Use `Adam` for no weight decay."
            )
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
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

"""Choosing loss scaling at ``compile`` time, as Keras does under ``"mixed_float16"``."""

from ember.mixed_precision.policy import DTypePolicy
from ember.optimizers.base_optimizer import Optimizer
from ember.optimizers.loss_scale_optimizer import LossScaleOptimizer

__all__ = ["optimizer_for_policy"]


def optimizer_for_policy(model, optimizer, auto_scale_loss=True):
    """``optimizer`` wrapped in a ``LossScaleOptimizer`` when the model's policy is ``"mixed_float16"``.

    Args:
        model: the model being compiled (reads its ``dtype_policy``).
        optimizer: the resolved optimizer.
        auto_scale_loss: ``compile``'s argument; ``False`` never wraps.
    """
    policy = getattr(model, "dtype_policy", None)
    if (
        auto_scale_loss
        and isinstance(policy, DTypePolicy)
        and policy.name == "mixed_float16"
        and isinstance(optimizer, Optimizer)
        and not isinstance(optimizer, LossScaleOptimizer)
    ):
        return LossScaleOptimizer(optimizer)
    return optimizer

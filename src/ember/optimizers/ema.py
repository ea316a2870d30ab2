"""Exponential moving averages of model weights (``use_ema=True``) as pure functions."""

import torch

from ember.optimizers.numerics import scalar_type

__all__ = ["update_moving_averages", "copy_into"]


@torch.no_grad()
def update_moving_averages(averages: list[torch.Tensor], variables: list[torch.Tensor], *, momentum: float) -> None:
    """``average = momentum * average + (1 - momentum) * variable``, in place.

    The coefficients are rounded in the variables' precision, as Keras rounds them.

    Args:
        averages: the moving averages (one device and dtype), updated in place.
        variables: the current weights, aligned with ``averages``.
        momentum: the averaging momentum; 0 copies the weights.

    Example:
        >>> averages = [torch.zeros(2)]
        >>> update_moving_averages(averages, [torch.ones(2)], momentum=0.75)
        >>> averages[0].tolist()
        [0.25, 0.25]
    """
    if not averages:
        return
    scalar = scalar_type(variables[0].dtype)
    momentum = scalar(momentum)
    torch._foreach_mul_(averages, float(momentum))
    torch._foreach_add_(averages, variables, alpha=float(scalar(1) - momentum))


@torch.no_grad()
def copy_into(targets: list[torch.Tensor], sources: list[torch.Tensor]) -> None:
    """Copy each source into its target, in place (e.g. averages into the weights).

    Example:
        >>> weights = [torch.zeros(2)]
        >>> copy_into(weights, [torch.ones(2)])
        >>> weights[0].tolist()
        [1.0, 1.0]
    """
    if targets:
        torch._foreach_copy_(targets, sources)

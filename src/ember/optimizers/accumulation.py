"""Gradient accumulation (``gradient_accumulation_steps=N``) as pure functions.

Between updates, gradients are summed into per-variable accumulators; every Nth
call the update uses ``(gradient + accumulator) / N`` (the mean over the N calls)
and the accumulators are reset, as in Keras.
"""

import torch

__all__ = ["accumulate", "mean_gradients", "reset"]


@torch.no_grad()
def accumulate(accumulators: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
    """``accumulator += gradient``, in place.

    Example:
        >>> accumulators = [torch.ones(2)]
        >>> accumulate(accumulators, [torch.full((2,), 2.0)])
        >>> accumulators[0].tolist()
        [3.0, 3.0]
    """
    if accumulators:
        torch._foreach_add_(accumulators, grads)


@torch.no_grad()
def mean_gradients(grads: list[torch.Tensor], accumulators: list[torch.Tensor], steps: int) -> list[torch.Tensor]:
    """``(gradient + accumulator) / steps``, as new tensors.

    Example:
        >>> mean_gradients([torch.ones(1)], [torch.full((1,), 3.0)], 2)[0].tolist()
        [2.0]
    """
    summed = torch._foreach_add(grads, accumulators)
    torch._foreach_div_(summed, float(steps))
    return summed


@torch.no_grad()
def reset(accumulators: list[torch.Tensor]) -> None:
    """Zero the accumulators, in place."""
    if accumulators:
        torch._foreach_zero_(accumulators)

"""Activations that normalize along an axis: softmax, log-softmax and sparsemax."""

import warnings

import torch
import torch.nn.functional as F

from ember.activations._convert import as_tensor

__all__ = ["softmax", "log_softmax", "sparsemax"]


def _along_axes(x, axis, fn):
    """Apply ``fn(t, dim=-1)`` jointly over one axis or a tuple of axes of ``x``."""
    if isinstance(axis, int):
        return fn(x, dim=axis)
    axes = [a % x.ndim for a in axis]
    moved = x.movedim(axes, list(range(x.ndim - len(axes), x.ndim)))
    flat = fn(moved.reshape(*moved.shape[: x.ndim - len(axes)], -1), dim=-1)
    return flat.reshape(moved.shape).movedim(list(range(x.ndim - len(axes), x.ndim)), axes)


def softmax(x, axis=-1):
    """Softmax: ``exp(x) / sum(exp(x))`` along ``axis``; each slice sums to 1.

    Args:
        x: Input tensor of logits.
        axis: Axis (or tuple of axes) to normalize over.

    Returns:
        Probabilities with the shape and dtype of ``x``.

    Warns:
        UserWarning: when ``axis`` has size 1, where the result is always 1
            (a sigmoid is usually what was meant).

    Example:
        >>> softmax(torch.tensor([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """
    x = as_tensor(x)
    if isinstance(axis, int) and x.ndim and x.shape[axis] == 1:
        warnings.warn(
            f"softmax over axis {axis} of a tensor of shape {tuple(x.shape)}: that axis has size 1, "
            "so every output is 1. For a single-unit output use sigmoid instead.",
            UserWarning,
            stacklevel=2,
        )
    return _along_axes(x, axis, F.softmax)


def log_softmax(x, axis=-1):
    """Log of the softmax along ``axis``, computed stably: ``x - logsumexp(x)``.

    Args:
        x: Input tensor of logits.
        axis: Axis (or tuple of axes) to normalize over.

    Example:
        >>> round(log_softmax(torch.tensor([0.0, 0.0]))[0].item(), 4)
        -0.6931
    """
    return _along_axes(as_tensor(x), axis, F.log_softmax)


def _sparsemax_last(z, dim=-1):
    sorted_z = torch.sort(z, dim=-1, descending=True).values
    ranks = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    cumsum = sorted_z.cumsum(dim=-1)
    support_size = (1 + ranks * sorted_z > cumsum).sum(dim=-1, keepdim=True)
    tau = (cumsum.gather(-1, support_size - 1) - 1) / support_size.to(z.dtype)
    return torch.clamp(z - tau, min=0)


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of ``x`` onto the probability simplex.

    Like softmax each slice sums to 1, but small logits get exactly 0:
    ``sparsemax(x) = max(x - tau, 0)`` with ``tau`` chosen so the slice sums to 1.

    Args:
        x: Input tensor of logits.
        axis: Axis to normalize over.

    Example:
        >>> sparsemax(torch.tensor([1.0, 2.0, 3.0])).tolist()
        [0.0, 0.0, 1.0]
    """
    x = as_tensor(x)
    return _sparsemax_last(x.movedim(axis, -1)).movedim(-1, axis)

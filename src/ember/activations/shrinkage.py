"""Shrinkage and threshold activations, which zero or replace small inputs."""

import torch
import torch.nn.functional as F

from ember.activations._convert import as_tensor

__all__ = ["hard_shrink", "soft_shrink", "tanh_shrink", "threshold"]


def hard_shrink(x, threshold=0.5):
    """Hard shrink: ``x`` where ``|x| > threshold``, 0 elsewhere.

    Example:
        >>> hard_shrink(torch.tensor([-1.0, 0.2, 1.0])).tolist()
        [-1.0, 0.0, 1.0]
    """
    return F.hardshrink(as_tensor(x), threshold)


def soft_shrink(x, threshold=0.5):
    """Soft shrink: moves ``x`` toward 0 by ``threshold``, 0 where ``|x| <= threshold``.

    Example:
        >>> soft_shrink(torch.tensor([-1.0, 0.2, 1.0])).tolist()
        [-0.5, 0.0, 0.5]
    """
    return F.softshrink(as_tensor(x), threshold)


def tanh_shrink(x):
    """Tanh shrink: ``x - tanh(x)``.

    Example:
        >>> tanh_shrink(torch.tensor([0.0])).tolist()
        [0.0]
    """
    return F.tanhshrink(as_tensor(x))


def threshold(x, threshold, default_value):
    """Keep ``x`` where ``x > threshold``; elsewhere use ``default_value``.

    Example:
        >>> threshold(torch.tensor([-1.0, 2.0]), 0.0, -5.0).tolist()
        [-5.0, 2.0]
    """
    x = as_tensor(x)
    if x.is_floating_point():
        return F.threshold(x, threshold, default_value)
    return torch.where(x > threshold, x, torch.as_tensor(default_value, dtype=x.dtype))

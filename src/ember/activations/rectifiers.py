"""Rectifier-style activations: ReLU variants, exponential linear units and smooth ReLUs."""

import torch
import torch.nn.functional as F

from ember.activations._convert import as_tensor

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "softplus", "sparse_plus", "squareplus"]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, with Keras's optional slope, cap and threshold.

    Elements above ``threshold`` pass through, the others give 0; when
    ``max_value`` is set, that part is then clipped to ``[0, max_value]``.
    Finally ``negative_slope * max(threshold - x, 0)`` is subtracted, so
    inputs below the threshold follow a line of slope ``negative_slope``.
    With the defaults this is ``max(x, 0)``.

    Args:
        x: Input tensor.
        negative_slope: Slope used below the threshold.
        max_value: Largest value returned (saturation point).
        threshold: Inputs at or below it are damped.

    Returns:
        A tensor of the same shape and dtype as ``x``.

    Example:
        >>> relu(torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0]), negative_slope=0.5, max_value=5.0).tolist()
        [-5.0, -2.5, 0.0, 5.0, 5.0]
    """
    x = as_tensor(x)
    if threshold == 0.0 and negative_slope == 0.0:
        return F.relu(x) if max_value is None else torch.clamp(x, min=0, max=max_value)
    if threshold == 0.0 and max_value is None:
        return F.leaky_relu(x, negative_slope)
    out = torch.where(x > threshold, x, torch.zeros_like(x))
    if max_value is not None:
        out = torch.clamp(out, min=0, max=max_value)
    if negative_slope != 0.0:
        out = out - negative_slope * F.relu(threshold - x)
    return out


def relu6(x):
    """ReLU capped at 6: ``min(max(x, 0), 6)``.

    Example:
        >>> relu6(torch.tensor([-1.0, 3.0, 9.0])).tolist()
        [0.0, 3.0, 6.0]
    """
    return F.relu6(as_tensor(x))


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: ``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Args:
        x: Input tensor.
        negative_slope: Slope for negative inputs (Keras's default is 0.2).

    Example:
        >>> leaky_relu(torch.tensor([-1.0, 2.0])).tolist()
        [-0.20000000298023224, 2.0]
    """
    return F.leaky_relu(as_tensor(x), negative_slope)


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Example:
        >>> elu(torch.tensor([0.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    return F.elu(as_tensor(x), alpha)


def selu(x):
    """Scaled ELU: ``scale * elu(x, alpha)`` with ``alpha ≈ 1.6733`` and ``scale ≈ 1.0507``.

    Use it with the ``LecunNormal`` initializer so activations keep zero mean
    and unit variance through deep stacks.

    Example:
        >>> round(selu(torch.tensor([1.0])).item(), 4)
        1.0507
    """
    return F.selu(as_tensor(x))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``x`` for ``x >= 0``, ``alpha * (exp(x / alpha) - 1)`` otherwise.

    Example:
        >>> celu(torch.tensor([0.0, 3.0])).tolist()
        [0.0, 3.0]
    """
    return F.celu(as_tensor(x), alpha)


def softplus(x):
    """Softplus: ``log(exp(x) + 1)``, a smooth ReLU.

    Example:
        >>> round(softplus(torch.tensor([0.0])).item(), 4)
        0.6931
    """
    return F.softplus(as_tensor(x))


def sparse_plus(x):
    """Sparse plus: 0 for ``x <= -1``, ``(x + 1)**2 / 4`` on ``(-1, 1)``, ``x`` for ``x >= 1``.

    Example:
        >>> sparse_plus(torch.tensor([-2.0, 0.0, 2.0])).tolist()
        [0.0, 0.25, 2.0]
    """
    x = as_tensor(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, x, 0.25 * (x + 1) ** 2))


def squareplus(x, b=4):
    """Squareplus: ``(x + sqrt(x**2 + b)) / 2``, a smooth ReLU without exponentials.

    Args:
        x: Input tensor.
        b: Smoothness (>= 0); ``b=0`` gives ReLU.

    Example:
        >>> squareplus(torch.tensor([0.0])).tolist()
        [1.0]
    """
    x = as_tensor(x)
    return (x + torch.sqrt(x * x + b)) / 2

"""Bounded and elementwise activations: sigmoids, tanh variants, softsign, exponential, linear."""

import torch
import torch.nn.functional as F

from ember.activations._convert import as_tensor

__all__ = [
    "sigmoid",
    "hard_sigmoid",
    "sparse_sigmoid",
    "log_sigmoid",
    "tanh",
    "hard_tanh",
    "softsign",
    "exponential",
    "linear",
]


def sigmoid(x):
    """Logistic sigmoid: ``1 / (1 + exp(-x))``.

    Example:
        >>> sigmoid(torch.tensor([0.0])).tolist()
        [0.5]
    """
    return torch.sigmoid(as_tensor(x))


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: ``relu6(x + 3) / 6`` (0 below -3, 1 above 3).

    Example:
        >>> hard_sigmoid(torch.tensor([-4.0, 0.0, 4.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    return F.hardsigmoid(as_tensor(x))


def sparse_sigmoid(x):
    """Sparse sigmoid: ``clip((x + 1) / 2, 0, 1)``.

    Example:
        >>> sparse_sigmoid(torch.tensor([-2.0, 0.0, 2.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    return torch.clamp(0.5 * (as_tensor(x) + 1), 0, 1)


def log_sigmoid(x):
    """Log of the sigmoid, ``-softplus(-x)``, computed stably.

    Example:
        >>> round(log_sigmoid(torch.tensor([0.0])).item(), 4)
        -0.6931
    """
    return F.logsigmoid(as_tensor(x))


def tanh(x):
    """Hyperbolic tangent.

    Example:
        >>> tanh(torch.tensor([0.0])).tolist()
        [0.0]
    """
    return torch.tanh(as_tensor(x))


def hard_tanh(x):
    """Piecewise-linear tanh: ``clip(x, -1, 1)``.

    Example:
        >>> hard_tanh(torch.tensor([-3.0, 0.5, 3.0])).tolist()
        [-1.0, 0.5, 1.0]
    """
    return F.hardtanh(as_tensor(x))


def softsign(x):
    """Softsign: ``x / (1 + |x|)``.

    Example:
        >>> softsign(torch.tensor([1.0])).tolist()
        [0.5]
    """
    return F.softsign(as_tensor(x))


def exponential(x):
    """Exponential: ``exp(x)``.

    Example:
        >>> exponential(torch.tensor([0.0])).tolist()
        [1.0]
    """
    return torch.exp(as_tensor(x))


def linear(x):
    """Identity: returns ``x`` unchanged (the activation meaning "none").

    Example:
        >>> linear(torch.tensor([-2.0])).tolist()
        [-2.0]
    """
    return as_tensor(x)

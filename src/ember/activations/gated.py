"""Self-gated activations: the input multiplied by a gate computed from itself."""

import torch  # noqa: F401  (used by the doctest examples)
import torch.nn.functional as F

from ember.activations._convert import as_tensor

__all__ = ["gelu", "silu", "swish", "mish", "hard_silu", "hard_swish", "glu"]


def gelu(x, approximate=False):
    """Gaussian error linear unit: ``x * Phi(x)``, ``Phi`` the standard normal CDF.

    Args:
        x: Input tensor.
        approximate: Use the tanh approximation
            ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))``.

    Example:
        >>> round(gelu(torch.tensor([1.0])).item(), 4)
        0.8413
    """
    return F.gelu(as_tensor(x), approximate="tanh" if approximate else "none")


def silu(x):
    """SiLU (also called swish): ``x * sigmoid(x)``.

    Example:
        >>> silu(torch.tensor([0.0])).tolist()
        [0.0]
    """
    return F.silu(as_tensor(x))


swish = silu


def mish(x):
    """Mish: ``x * tanh(softplus(x))``.

    Example:
        >>> round(mish(torch.tensor([1.0])).item(), 4)
        0.8651
    """
    return F.mish(as_tensor(x))


def hard_silu(x):
    """Hard SiLU (also called hard swish): ``x * relu6(x + 3) / 6``.

    Example:
        >>> hard_silu(torch.tensor([-4.0, 0.0, 4.0])).tolist()
        [-0.0, 0.0, 4.0]
    """
    return F.hardswish(as_tensor(x))


hard_swish = hard_silu


def glu(x, axis=-1):
    """Gated linear unit: split ``x`` in halves ``a, b`` along ``axis``; return ``a * sigmoid(b)``.

    Args:
        x: Input tensor; its size along ``axis`` must be even.
        axis: The axis to split.

    Shape:
        The output has half the input's size along ``axis``.

    Example:
        >>> glu(torch.zeros(1, 4)).shape
        torch.Size([1, 2])
    """
    x = as_tensor(x)
    if x.shape[axis] % 2:
        raise ValueError(
            f"glu splits axis {axis} into two halves, so its size must be even; got shape "
            f"{tuple(x.shape)} (size {x.shape[axis]})."
        )
    return F.glu(x, dim=axis)

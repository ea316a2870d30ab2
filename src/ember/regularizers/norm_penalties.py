"""The norm penalties ``L1``, ``L2`` and ``L1L2``, and their pure functions."""

import torch

from ember.regularizers._validation import check_non_negative_float
from ember.regularizers.base import Regularizer, as_tensor

__all__ = ["L1", "L1L2", "L2", "l1_penalty", "l2_penalty"]


def l1_penalty(x, l1):
    """``l1 * sum(|x|)``.

    Example:
        >>> float(l1_penalty(torch.tensor([-1.0, 2.0]), 0.5))
        1.5
    """
    return l1 * torch.sum(torch.abs(x))


def l2_penalty(x, l2):
    """``l2 * sum(x ** 2)``.

    Example:
        >>> float(l2_penalty(torch.tensor([-1.0, 2.0]), 0.5))
        2.5
    """
    return l2 * torch.sum(torch.square(x))


class L1(Regularizer):
    """Penalty ``l1 * sum(|x|)``.

    Args:
        l1: Non-negative factor (``None`` means the default, 0.01).

    Example:
        >>> float(L1(0.1)(torch.tensor([1.0, -3.0])))
        0.4000000059604645
    """

    def __init__(self, l1=0.01):
        self.l1 = check_non_negative_float(l1, "l1", "L1", default=0.01)

    def __call__(self, x):
        return l1_penalty(as_tensor(x), self.l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """Penalty ``l2 * sum(x ** 2)``.

    Args:
        l2: Non-negative factor (``None`` means the default, 0.01).

    Example:
        >>> float(L2(0.1)(torch.tensor([1.0, -3.0])))
        1.0
    """

    def __init__(self, l2=0.01):
        self.l2 = check_non_negative_float(l2, "l2", "L2", default=0.01)

    def __call__(self, x):
        return l2_penalty(as_tensor(x), self.l2)

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """Penalty ``l1 * sum(|x|) + l2 * sum(x ** 2)``; a zero factor skips its term.

    Args:
        l1: Non-negative L1 factor (``None`` means 0).
        l2: Non-negative L2 factor (``None`` means 0).

    Example:
        >>> float(L1L2(l1=0.1, l2=0.1)(torch.tensor([1.0, -3.0])))
        1.399999976158142
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = check_non_negative_float(l1, "l1", "L1L2", default=0.0)
        self.l2 = check_non_negative_float(l2, "l2", "L1L2", default=0.0)

    def __call__(self, x):
        x = as_tensor(x)
        total = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            total = total + l1_penalty(x, self.l1)
        if self.l2:
            total = total + l2_penalty(x, self.l2)
        return total

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

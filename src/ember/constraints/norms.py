"""Weight constraints ``MaxNorm``, ``MinMaxNorm``, ``UnitNorm``, ``NonNeg`` and their pure functions.

The norm constraints compute the L2 norm of ``w`` over ``axis`` (kept for
broadcasting) and rescale ``w`` towards a target norm; ``epsilon`` (Keras's
backend epsilon, 1e-7) keeps a zero slice at zero.
"""

import math
import numbers

import numpy as np
import torch

from ember.constraints.base import Constraint

__all__ = [
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "rescale_to_max_norm",
    "rescale_to_min_max_norm",
    "rescale_to_unit_norm",
    "zero_negatives",
]

EPSILON = 1e-7


def _as_tensor(w):
    return w if isinstance(w, torch.Tensor) else torch.as_tensor(np.asarray(w))


def _dims(w, axis):
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    if any(not -w.ndim <= a < w.ndim for a in axes):
        raise ValueError(
            f"Constraint axis={axis!r} is out of range for a weight of shape {tuple(w.shape)} "
            f"(in Keras's layout). Use axes in [-{w.ndim}, {w.ndim})."
        )
    return axes


def _l2_norms(w, axis):
    return torch.sqrt(torch.sum(torch.square(w), dim=_dims(w, axis), keepdim=True))


def rescale_to_max_norm(w, max_value, axis=0):
    """Scale down the slices of ``w`` whose L2 norm over ``axis`` exceeds ``max_value``.

    Example:
        >>> [round(v, 4) for v in rescale_to_max_norm(torch.tensor([[3.0], [4.0]]), 1.0).flatten().tolist()]
        [0.6, 0.8]
    """
    norms = _l2_norms(w, axis)
    desired = torch.clamp(norms, 0, max_value)
    return w * (desired / (EPSILON + norms))


def rescale_to_min_max_norm(w, min_value, max_value, rate=1.0, axis=0):
    """Move the L2 norms over ``axis`` into ``[min_value, max_value]`` at speed ``rate``.

    Example:
        >>> [round(v, 4) for v in rescale_to_min_max_norm(torch.tensor([[0.3], [0.4]]), 1.0, 2.0).flatten().tolist()]
        [0.6, 0.8]
    """
    norms = _l2_norms(w, axis)
    desired = rate * torch.clamp(norms, min_value, max_value) + (1 - rate) * norms
    return w * (desired / (EPSILON + norms))


def rescale_to_unit_norm(w, axis=0):
    """Divide ``w`` by its L2 norm over ``axis``.

    Example:
        >>> [round(v, 4) for v in rescale_to_unit_norm(torch.tensor([[3.0], [4.0]])).flatten().tolist()]
        [0.6, 0.8]
    """
    return w / (EPSILON + _l2_norms(w, axis))


def zero_negatives(w):
    """``w`` with its negative entries set to zero.

    Example:
        >>> zero_negatives(torch.tensor([-1.0, 2.0])).tolist()
        [-0.0, 2.0]
    """
    return w * (w >= 0).to(w.dtype)


def _check_axis(axis, owner):
    items = axis if isinstance(axis, (list, tuple)) else [axis]
    if not items or any(isinstance(a, bool) or not isinstance(a, int) for a in items):
        raise ValueError(
            f"{owner} argument `axis` must be an int or a non-empty list of ints, got axis={axis!r}. "
            "For a Dense kernel (input_dim, units) use axis=0; for a Conv2D kernel "
            "(rows, cols, input_depth, filters) use axis=[0, 1, 2]."
        )
    return axis


def _check_norm_bound(value, arg_name, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) or value < 0:
        raise ValueError(
            f"{owner} argument `{arg_name}` must be a non-negative number, got {arg_name}={value!r}."
        )
    return value


class MaxNorm(Constraint):
    """Caps the L2 norm of each weight slice over ``axis`` at ``max_value``.

    Args:
        max_value: Largest allowed norm.
        axis: Axis or axes (in Keras's layout) the norm is taken over: ``0``
            for a Dense kernel ``(input_dim, units)`` constrains each unit's
            incoming weights; ``[0, 1, 2]`` for a Conv2D kernel
            ``(rows, cols, input_depth, filters)`` constrains each filter.

    Example:
        >>> [round(v, 4) for v in MaxNorm(1.0)(torch.tensor([[3.0], [4.0]])).flatten().tolist()]
        [0.6, 0.8]
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = _check_norm_bound(max_value, "max_value", "MaxNorm")
        self.axis = _check_axis(axis, "MaxNorm")

    def __call__(self, w):
        return rescale_to_max_norm(_as_tensor(w), self.max_value, self.axis)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps the L2 norm of each weight slice over ``axis`` within ``[min_value, max_value]``.

    With ``rate < 1`` the norm moves only part of the way to the interval on
    each update: ``norm = rate * clip(norm, min, max) + (1 - rate) * norm``.

    Args:
        min_value: Smallest allowed norm.
        max_value: Largest allowed norm.
        rate: In ``[0, 1]``; ``1.0`` enforces the interval exactly.
        axis: Axis or axes (in Keras's layout) the norm is taken over.

    Example:
        >>> [round(v, 4) for v in MinMaxNorm(0.0, 1.0)(torch.tensor([[3.0], [4.0]])).flatten().tolist()]
        [0.6, 0.8]
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _check_norm_bound(min_value, "min_value", "MinMaxNorm")
        self.max_value = _check_norm_bound(max_value, "max_value", "MinMaxNorm")
        if self.min_value > self.max_value:
            raise ValueError(
                f"MinMaxNorm needs min_value <= max_value, got min_value={min_value!r} and max_value={max_value!r}."
            )
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ValueError(f"MinMaxNorm argument `rate` must be a number in [0, 1], got rate={rate!r}.")
        self.rate = rate
        self.axis = _check_axis(axis, "MinMaxNorm")

    def __call__(self, w):
        return rescale_to_min_max_norm(_as_tensor(w), self.min_value, self.max_value, self.rate, self.axis)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class UnitNorm(Constraint):
    """Scales each weight slice over ``axis`` to unit L2 norm.

    Args:
        axis: Axis or axes (in Keras's layout) the norm is taken over.

    Example:
        >>> [round(v, 4) for v in UnitNorm()(torch.tensor([[3.0], [4.0]])).flatten().tolist()]
        [0.6, 0.8]
    """

    def __init__(self, axis=0):
        self.axis = _check_axis(axis, "UnitNorm")

    def __call__(self, w):
        return rescale_to_unit_norm(_as_tensor(w), self.axis)

    def get_config(self):
        return {"axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero.

    Example:
        >>> NonNeg()(torch.tensor([-1.0, 2.0])).tolist()
        [-0.0, 2.0]
    """

    def __call__(self, w):
        return zero_negatives(_as_tensor(w))

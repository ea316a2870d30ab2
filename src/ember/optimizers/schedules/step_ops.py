"""Math on a step that is either a Python float or a tensor.

Every schedule's formula is written once against these functions. With a Python
number (what the optimizer passes: its completed-step count as an ``int``) they
use ``math`` and return Python floats, so evaluating a schedule launches no
kernel and never reads a device. With a tensor they use ``torch`` element-wise
ops and return a tensor on the step's device, without host synchronisation.

The Python path follows IEEE-754 like the tensor path does: a division by zero
gives ``inf`` or ``nan`` and a logarithm of a negative number gives ``nan``,
instead of raising, so that both paths agree (the optimizer then reports a
non-finite learning rate with the step that produced it).
"""

import math

import numpy as np
import torch

__all__ = ["as_step", "to_learning_rate", "floor", "ceil", "cos", "log", "power", "divide", "minimum", "where"]


def as_step(step):
    """Normalise a step: a Python ``float``, or a floating-point tensor.

    Integer tensors become float32 (float64 tensors stay float64); NumPy arrays
    become tensors.

    Example:
        >>> as_step(3), as_step(torch.tensor(3)).dtype
        (3.0, torch.float32)
    """
    if isinstance(step, np.ndarray):
        step = torch.from_numpy(step)
    if isinstance(step, torch.Tensor):
        if step.dtype == torch.bool or step.is_complex():
            raise TypeError(f"`step` must be a real-valued tensor, got a tensor of dtype {step.dtype}.")
        return step if step.dtype == torch.float64 else step.to(torch.float32)
    if isinstance(step, bool) or not isinstance(step, (int, float, np.number)):
        raise TypeError(
            f"`step` must be a number or a tensor, got step={step!r} ({type(step).__name__}). "
            "Optimizers pass their completed-step count, a Python int."
        )
    return float(step)


def to_learning_rate(value):
    """A tensor as is, anything else as a Python ``float``."""
    return value if isinstance(value, torch.Tensor) else float(value)


def _is_tensor(*values):
    return any(isinstance(value, torch.Tensor) for value in values)


def floor(x):
    """``floor`` that keeps ``inf``/``nan`` (and returns a float for a float)."""
    if _is_tensor(x):
        return torch.floor(x)
    return float(math.floor(x)) if math.isfinite(x) else x


def ceil(x):
    """``ceil`` that keeps ``inf``/``nan`` (and returns a float for a float)."""
    if _is_tensor(x):
        return torch.ceil(x)
    return float(math.ceil(x)) if math.isfinite(x) else x


def cos(x):
    """Cosine; ``nan`` for a non-finite float."""
    if _is_tensor(x):
        return torch.cos(x)
    return math.cos(x) if math.isfinite(x) else math.nan


def log(x):
    """Natural logarithm: ``-inf`` at 0, ``nan`` below 0."""
    if _is_tensor(x):
        return torch.log(x)
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


def power(base, exponent):
    """``base ** exponent`` with IEEE results where Python's ``math.pow`` would raise."""
    if _is_tensor(base, exponent):
        return torch.pow(base, exponent)
    try:
        return math.pow(base, exponent)
    except OverflowError:
        odd_integer = float(exponent).is_integer() and exponent % 2 == 1
        return math.copysign(math.inf, base) if odd_integer else math.inf
    except ValueError:  # 0 ** negative, or negative ** fractional
        return math.inf if base == 0 else math.nan


def divide(numerator, denominator):
    """``numerator / denominator``: ``±inf`` or ``nan`` when dividing by zero."""
    if _is_tensor(numerator, denominator) or denominator != 0:
        return numerator / denominator
    if numerator == 0 or math.isnan(numerator):
        return math.nan
    return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)


def minimum(x, bound):
    """``min(x, bound)`` for a number ``bound`` (``nan`` in ``x`` propagates)."""
    if _is_tensor(x):
        return torch.clamp(x, max=bound)
    return x if math.isnan(x) else min(x, bound)


def where(condition, if_true, if_false):
    """``if_true`` where ``condition`` holds, else ``if_false`` (element-wise for tensors)."""
    if _is_tensor(condition):
        return torch.where(condition, if_true, if_false)
    return if_true if condition else if_false

"""Checks for schedule constructor arguments; each error names the argument and the fix."""

import numbers

import numpy as np
import torch

__all__ = ["check_number", "check_positive", "check_bool", "check_name", "check_number_list"]


def check_number(name, value, allow_none=False):
    """Return ``value`` as a plain Python ``int`` or ``float`` (JSON-friendly).

    NumPy scalars and one-element arrays or tensors are converted.

    Raises:
        ValueError: ``value`` is not a real number (booleans and strings included).
    """
    if value is None and allow_none:
        return None
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    elif isinstance(value, (np.ndarray, np.generic)) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        expected = "a number or None" if allow_none else "a number"
        raise ValueError(f"Argument `{name}` must be {expected}, got {name}={value!r}.")
    return value


def check_positive(name, value):
    """A number that must be > 0 (a step count such as ``decay_steps``)."""
    value = check_number(name, value)
    if not value > 0:
        raise ValueError(
            f"Argument `{name}` must be > 0, got {name}={value!r}. It is a number of steps, e.g. {name}=1000."
        )
    return value


def check_bool(name, value):
    """A Python or NumPy boolean, returned as ``bool``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Argument `{name}` must be True or False, got {name}={value!r}.")
    return bool(value)


def check_name(name):
    """The schedule's ``name``: a string."""
    if not isinstance(name, str):
        raise ValueError(f"Argument `name` must be a string, got name={name!r}.")
    return name


def check_number_list(name, values):
    """A list or tuple of numbers, returned as a list of Python numbers."""
    if isinstance(values, (torch.Tensor, np.ndarray)):
        values = values.tolist()
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"Argument `{name}` must be a list of numbers, got {name}={values!r}.")
    return [check_number(f"{name}[{i}]", value) for i, value in enumerate(values)]

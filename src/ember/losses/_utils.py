"""Tensor helpers shared by ``ember.losses`` and ``ember.metrics`` (internal).

Everything here is shape logic done on the host (ranks, sizes) or elementwise
work queued on the tensors' device; nothing reads a tensor's value back, so
none of it synchronises with an accelerator.
"""

import re

import numpy as np
import torch

from ember.backend import to_torch_dtype

#: Probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` before a log, as Keras does.
EPSILON = 1e-7

#: Attribute under which a boolean mask travels on a tensor (Keras's convention).
MASK_ATTRIBUTE = "_keras_mask"


def _python_scalar_dtype(value):
    if isinstance(value, bool):
        return torch.bool
    return torch.int64 if isinstance(value, int) else torch.get_default_dtype()


def to_tensor(value, dtype=None, device=None):
    """Return ``value`` as a ``torch.Tensor``, optionally cast and moved.

    Tensors are returned as they are when dtype and device already match (no
    copy); NumPy arrays, Python numbers and lists are converted. Python floats
    become float32 (torch's default), NumPy arrays keep their dtype unless
    ``dtype`` is given. A Python number is created directly on ``device``.

    Args:
        value: a tensor, NumPy array, number or (nested) list of numbers.
        dtype: target dtype (any spelling ``to_torch_dtype`` accepts) or ``None``.
        device: target device or ``None`` to keep the current one (CPU for
            non-tensors).
    """
    if dtype is not None:
        dtype = to_torch_dtype(dtype)
    if isinstance(value, (bool, int, float)):
        # A fill kernel on the target device: no host-to-device copy (which would wait for the device).
        return torch.full((), value, dtype=dtype or _python_scalar_dtype(value), device=device)
    if not isinstance(value, torch.Tensor):
        if isinstance(value, np.ndarray) and not value.flags.writeable:
            value = value.copy()
        value = torch.as_tensor(value, device=device)
    if dtype is not None and value.dtype != dtype:
        value = value.to(dtype)
    if device is not None and value.device != torch.device(device):
        value = value.to(device)
    return value


def is_number_list(value):
    """True for (nested) lists / tuples of plain numbers: array data, not a structure."""
    if isinstance(value, (list, tuple)):
        return all(is_number_list(item) for item in value)
    return isinstance(value, (int, float, bool, np.number, np.bool_))


def map_structure(fn, value):
    """Apply ``fn`` to every leaf of nested lists, tuples and dicts.

    A list of plain numbers (``[[0.0, 1.0]]``) is array data, hence one leaf.
    """
    if is_number_list(value):
        return fn(value)
    if isinstance(value, dict):
        return type(value)((key, map_structure(fn, item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(map_structure(fn, item) for item in value)
    return fn(value)


def first_leaf(value):
    """The first leaf of a nested structure (``value`` itself for a leaf)."""
    while isinstance(value, (list, tuple, dict)) and not is_number_list(value):
        items = list(value.values()) if isinstance(value, dict) else list(value)
        if not items:
            return None
        value = items[0]
    return value


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Make ranks agree when they differ by one trailing axis of size 1.

    Keras's rule: when one tensor has one more axis than the other and that
    last axis has size 1, it is squeezed, except that a rank-1 partner is
    expanded instead (so labels ``(N,)`` meet predictions ``(N, 1)`` as
    ``(N, 1)``). Any other pair is returned unchanged.
    """
    rank1, rank2 = x1.dim(), x2.dim()
    if rank1 == rank2 + 1 and x1.shape[-1] == 1:
        if rank2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif rank2 == rank1 + 1 and x2.shape[-1] == 1:
        if rank1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def float_pair(y_true, y_pred):
    """``(y_true, y_pred)`` as tensors: ``y_pred`` floating, ``y_true`` cast to its dtype and device.

    Their ranks are then aligned with ``squeeze_or_expand_to_same_rank``.
    """
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.float()
    y_true = to_tensor(y_true, y_pred.dtype, y_pred.device)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def divide_no_nan(numerator, denominator):
    """``numerator / denominator``, with 0 where the denominator is 0."""
    quotient = numerator / denominator
    return torch.where(denominator == 0, torch.zeros_like(quotient), quotient)


def get_mask(tensor):
    """The mask carried by ``tensor`` under ``MASK_ATTRIBUTE``, or ``None``."""
    return getattr(tensor, MASK_ATTRIBUTE, None)


def to_snake_case(name):
    """``CategoricalTruePositives`` -> ``categorical_true_positives``; ``CustomMSE`` -> ``custom_mse``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def object_name(obj):
    """The name to give a wrapped callable: its ``name``, ``__name__`` or snake-cased class name."""
    name = getattr(obj, "name", None)
    if isinstance(name, str) and name:
        return name
    name = getattr(obj, "__name__", None)
    if isinstance(name, str) and name:
        return name
    return to_snake_case(type(obj).__name__)

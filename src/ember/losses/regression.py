"""Regression losses: mean squared error and mean absolute error."""

import torch

from ember.losses._utils import squeeze_or_expand_to_same_rank, to_tensor
from ember.losses.loss import Loss, LossFunctionWrapper


def _float_pair(y_true, y_pred):
    """Tensors with ``y_true`` cast to ``y_pred``'s (floating) dtype and device, ranks aligned."""
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.float()
    y_true = to_tensor(y_true, y_pred.dtype, y_pred.device)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    """Mean of squared errors over the last axis: ``mean(square(y_true - y_pred), axis=-1)``.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> mean_squared_error([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]]).tolist()
        [0.5, 0.5]
    """
    y_true, y_pred = _float_pair(y_true, y_pred)
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean of absolute errors over the last axis: ``mean(abs(y_true - y_pred), axis=-1)``.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> mean_absolute_error([[0.0, 1.0]], [[2.0, 1.0]]).tolist()
        [1.0]
    """
    y_true, y_pred = _float_pair(y_true, y_pred)
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors: ``loss = mean(square(y_true - y_pred))``.

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"mean_squared_error"``.
        dtype: see ``Loss``.

    Example:
        >>> float(MeanSquaredError()([1.0, 0.0, 1.0], [0.5, 0.0, 1.0]))
        0.0833333358168602
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors: ``loss = mean(abs(y_true - y_pred))``.

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"mean_absolute_error"``.
        dtype: see ``Loss``.

    Example:
        >>> float(MeanAbsoluteError()([[1.0], [0.0]], [[0.5], [0.0]]))
        0.25
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

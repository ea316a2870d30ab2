"""Regression losses: mean squared, absolute, absolute percentage and squared logarithmic error."""

import torch

from ember.losses._utils import EPSILON, float_pair
from ember.losses.loss import Loss, LossFunctionWrapper


def mean_squared_error(y_true, y_pred):
    """Mean of squared errors over the last axis: ``mean(square(y_true - y_pred), axis=-1)``.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> mean_squared_error([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]]).tolist()
        [0.5, 0.5]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean of absolute errors over the last axis: ``mean(abs(y_true - y_pred), axis=-1)``.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> mean_absolute_error([[0.0, 1.0]], [[2.0, 1.0]]).tolist()
        [1.0]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """Mean absolute error relative to the target, in percent, over the last axis.

    ``100 * mean(abs((y_true - y_pred) / max(abs(y_true), EPSILON)), axis=-1)``;
    the floor on ``|y_true|`` keeps zero targets finite (and huge).

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> mean_absolute_percentage_error([[2.0, 4.0]], [[1.0, 5.0]]).tolist()
        [37.5]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    relative = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON))
    return 100.0 * torch.mean(relative, dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Mean squared difference of ``log(1 + x)`` over the last axis.

    ``mean(square(log(1 + max(y_pred, EPSILON)) - log(1 + max(y_true, EPSILON))), axis=-1)``;
    negative values are floored at ``EPSILON`` first, as in Keras.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in mean_squared_logarithmic_error([[0.0, 1.0]], [[1.0, 1.0]]).tolist()]
        [0.2402]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    log_pred = torch.log1p(torch.clamp(y_pred, min=EPSILON))
    log_true = torch.log1p(torch.clamp(y_true, min=EPSILON))
    return torch.mean(torch.square(log_pred - log_true), dim=-1)


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


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error: ``loss = 100 * mean(abs((y_true - y_pred) / y_true))``.

    Targets are floored at ``EPSILON`` in absolute value, so a zero target
    gives a very large (but finite) loss.

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"mean_absolute_percentage_error"``.
        dtype: see ``Loss``.

    Example:
        >>> float(MeanAbsolutePercentageError()([[2.0, 4.0], [1.0, 1.0]], [[1.0, 5.0], [1.0, 2.0]]))
        43.75
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error: ``loss = mean(square(log(1 + y_pred) - log(1 + y_true)))``.

    Useful when targets span orders of magnitude: it scores ratios rather
    than differences. Negative values are floored at ``EPSILON``.

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"mean_squared_logarithmic_error"``.
        dtype: see ``Loss``.

    Example:
        >>> round(float(MeanSquaredLogarithmicError()([[0.0, 1.0]], [[1.0, 1.0]])), 4)
        0.2402
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

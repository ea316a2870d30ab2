"""Overlap losses for segmentation: Dice and Tversky.

Both compare soft true/false positive counts, summed over ``axis``: over
every axis (one number for the whole batch) when ``axis`` is ``None``, the
default, or per sample / per class when ``axis`` names the axes to sum, e.g.
``(1, 2)`` for ``(N, H, W, C)`` masks gives one loss per sample and class.
A small ``EPSILON`` in the denominator keeps empty masks finite.
"""

import torch

from ember.losses._checks import check_axes, check_number
from ember.losses._utils import EPSILON, float_pair
from ember.losses.loss import Loss, LossFunctionWrapper


def _sum(x, axis):
    if axis is None:
        return torch.sum(x)
    return torch.sum(x, dim=tuple(axis) if isinstance(axis, (tuple, list)) else axis)


def dice(y_true, y_pred, axis=None):
    """Dice loss ``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + EPSILON)``.

    Args:
        y_true: binary (or soft) target masks.
        y_pred: predicted probabilities, same shape.
        axis: the axes summed over; ``None`` (the default) sums over all of
            them and returns a scalar.

    Shape:
        ``y_true``, ``y_pred``: any shape; result: that shape without ``axis``.

    Example:
        >>> round(float(dice([[1.0, 0.0], [1.0, 1.0]], [[0.8, 0.2], [0.6, 0.9]])), 4)
        0.1636
    """
    check_axes(axis)
    y_true, y_pred = float_pair(y_true, y_pred)
    intersection = _sum(y_true * y_pred, axis)
    union = _sum(y_true, axis) + _sum(y_pred, axis)
    return 1.0 - 2.0 * intersection / (union + EPSILON)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss ``1 - TP / (TP + alpha * FN + beta * FP + EPSILON)`` with soft counts.

    ``TP = sum(y_true * y_pred)``, ``FN = sum(y_true * (1 - y_pred))``,
    ``FP = sum((1 - y_true) * y_pred)``. ``alpha = beta = 0.5`` gives the Dice
    loss. As in Keras 3, ``alpha`` weights false negatives and ``beta``
    false positives (Keras's documentation describes the reverse; its
    implementation does this, and trained models depend on it).

    Args:
        y_true: binary (or soft) target masks.
        y_pred: predicted probabilities, same shape.
        alpha: weight of false negatives, >= 0.
        beta: weight of false positives, >= 0.
        axis: the axes summed over; ``None`` (the default) sums over all of
            them and returns a scalar.

    Shape:
        ``y_true``, ``y_pred``: any shape; result: that shape without ``axis``.

    Example:
        >>> round(float(tversky([[1.0, 0.0], [1.0, 1.0]], [[0.8, 0.2], [0.6, 0.9]], alpha=0.7, beta=0.3)), 4)
        0.193
    """
    check_number("alpha", alpha, low=0)
    check_number("beta", beta, low=0)
    check_axes(axis)
    y_true, y_pred = float_pair(y_true, y_pred)
    true_positives = _sum(y_true * y_pred, axis)
    false_negatives = _sum(y_true * (1.0 - y_pred), axis)
    false_positives = _sum((1.0 - y_true) * y_pred, axis)
    denominator = true_positives + alpha * false_negatives + beta * false_positives + EPSILON
    return 1.0 - true_positives / denominator


class Dice(LossFunctionWrapper):
    """Dice loss: one minus the soft Dice coefficient (F1 score) of the masks.

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"dice"``.
        axis: the axes summed over; ``None`` (the default) sums over all
            axes, giving one loss for the whole batch.
        dtype: see ``Loss``.

    Example:
        >>> round(float(Dice()([[1.0, 0.0], [1.0, 1.0]], [[0.8, 0.2], [0.6, 0.9]])), 4)
        0.1636
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        check_axes(axis)
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config["axis"] = self.axis
        return config


class Tversky(LossFunctionWrapper):
    """Tversky loss: a Dice loss with separate weights for false negatives and false positives.

    Args:
        alpha: weight of false negatives, >= 0. Defaults to 0.5.
        beta: weight of false positives, >= 0. Defaults to 0.5.
        reduction: see ``Loss``.
        name: defaults to ``"tversky"``.
        axis: the axes summed over; ``None`` (the default) sums over all
            axes, giving one loss for the whole batch.
        dtype: see ``Loss``.

    Example:
        >>> loss = Tversky(alpha=0.7, beta=0.3)
        >>> round(float(loss([[1.0, 0.0], [1.0, 1.0]], [[0.8, 0.2], [0.6, 0.9]])), 4)
        0.193
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        check_number("alpha", alpha, low=0)
        check_number("beta", beta, low=0)
        check_axes(axis)
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
        self.alpha = alpha
        self.beta = beta
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config.update(alpha=self.alpha, beta=self.beta, axis=self.axis)
        return config

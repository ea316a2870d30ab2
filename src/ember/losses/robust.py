"""Robust regression losses: Huber and log-cosh.

Both are quadratic for small errors and grow linearly for large ones, so a
few outliers do not dominate the gradient the way they do with squared error.
"""

import math

import torch
import torch.nn.functional as F

from ember.losses._checks import check_number
from ember.losses._utils import float_pair
from ember.losses.loss import Loss, LossFunctionWrapper


def huber(y_true, y_pred, delta=1.0):
    """Huber loss, averaged over the last axis.

    With ``e = y_pred - y_true``, each element is ``0.5 * e**2`` where
    ``|e| <= delta`` and ``delta * |e| - 0.5 * delta**2`` elsewhere.

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
        delta: the error size where the loss turns from quadratic to linear; > 0.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> huber([[0.0, 0.0]], [[0.5, 3.0]]).tolist()
        [1.3125]
    """
    check_number("delta", delta, low=0, low_inclusive=False)
    y_true, y_pred = float_pair(y_true, y_pred)
    error = y_pred - y_true
    abs_error = torch.abs(error)
    quadratic = 0.5 * torch.square(error)
    linear = delta * abs_error - 0.5 * delta * delta
    return torch.mean(torch.where(abs_error <= delta, quadratic, linear), dim=-1)


def log_cosh(y_true, y_pred):
    """Mean of ``log(cosh(y_pred - y_true))`` over the last axis.

    Computed as ``e + softplus(-2e) - log(2)``, which equals ``log(cosh(e))``
    without overflowing for large errors.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in log_cosh([[0.0, 0.0]], [[1.0, -100.0]]).tolist()]
        [49.8703]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    error = y_pred - y_true
    return torch.mean(error + F.softplus(-2.0 * error) - math.log(2.0), dim=-1)


class Huber(LossFunctionWrapper):
    """Huber loss: squared error for small errors, absolute error beyond ``delta``.

    Args:
        delta: the error size where the loss turns from quadratic to linear.
            Must be > 0. Defaults to 1.0.
        reduction: see ``Loss``.
        name: defaults to ``"huber_loss"``.
        dtype: see ``Loss``.

    Example:
        >>> round(float(Huber()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 4)
        0.155
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        check_number("delta", delta, low=0, low_inclusive=False)
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)
        self.delta = delta

    def get_config(self):
        # Keras leaves `delta` out of the config; keeping it makes a round trip exact.
        config = Loss.get_config(self)
        config["delta"] = self.delta
        return config


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the prediction error.

    ``log(cosh(e))`` is about ``e**2 / 2`` for small errors and ``|e| - log(2)``
    for large ones: like mean squared error, but robust to outliers.

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"log_cosh"``.
        dtype: see ``Loss``.

    Example:
        >>> round(float(LogCosh()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])), 4)
        0.1084
    """

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

"""Losses between a target distribution or rate and a predicted one: KL divergence and Poisson."""

import torch

from ember.losses._utils import EPSILON, float_pair
from ember.losses.loss import Loss, LossFunctionWrapper


def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred), axis=-1)``.

    Both inputs are clipped to ``[EPSILON, 1]`` first (as in Keras), so zero
    probabilities contribute (almost) nothing instead of NaN.

    Args:
        y_true: target probabilities.
        y_pred: predicted probabilities (e.g. a softmax output).

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., C)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in kl_divergence([[0.5, 0.5]], [[0.25, 0.75]]).tolist()]
        [0.1438]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true = torch.clamp(y_true, EPSILON, 1.0)
    y_pred = torch.clamp(y_pred, EPSILON, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true, y_pred):
    """Poisson negative log-likelihood (up to a constant), ``mean(y_pred - y_true * log(y_pred + EPSILON), axis=-1)``.

    Args:
        y_true: observed counts (or rates), >= 0.
        y_pred: predicted rates, > 0 (e.g. an ``exp`` or ``softplus`` output).

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in poisson([[1.0, 2.0]], [[1.0, 1.0]]).tolist()]
        [1.0]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    return torch.mean(y_pred - y_true * torch.log(y_pred + EPSILON), dim=-1)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence from the target distribution to the predicted one.

    ``loss = sum(y_true * log(y_true / y_pred))`` over the last axis, with
    both clipped to ``[EPSILON, 1]``.

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"kl_divergence"``.
        dtype: see ``Loss``.

    Example:
        >>> round(float(KLDivergence()([[0.5, 0.5], [1.0, 0.0]], [[0.25, 0.75], [0.5, 0.5]])), 4)
        0.4185
    """

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class Poisson(LossFunctionWrapper):
    """Poisson loss for count data: ``loss = mean(y_pred - y_true * log(y_pred + EPSILON))``.

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"poisson"``.
        dtype: see ``Loss``.

    Example:
        >>> round(float(Poisson()([[1.0, 2.0], [0.0, 0.0]], [[1.0, 1.0], [0.5, 0.5]])), 4)
        0.75
    """

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

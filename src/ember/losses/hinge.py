"""Maximum-margin losses: hinge, squared hinge and categorical hinge.

``hinge`` and ``squared_hinge`` expect labels in {-1, 1}. As in Keras, labels
given in {0, 1} are mapped to {-1, 1} first: when *every* entry of ``y_true``
is 0 or 1 the whole tensor becomes ``2 * y_true - 1``, otherwise it is used as
it is. The test and the choice are made on the device with ``torch.where``,
so the loss never reads labels back to the host.
"""

import torch

from ember.losses._utils import float_pair
from ember.losses.loss import Loss, LossFunctionWrapper


def binary_labels_to_signs(y_true):
    """``2 * y_true - 1`` when every entry of ``y_true`` is 0 or 1, else ``y_true`` unchanged.

    Example:
        >>> binary_labels_to_signs(torch.tensor([0.0, 1.0, 1.0])).tolist()
        [-1.0, 1.0, 1.0]
        >>> binary_labels_to_signs(torch.tensor([-1.0, 1.0, 0.0])).tolist()
        [-1.0, 1.0, 0.0]
    """
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """Hinge loss, ``mean(max(1 - y_true * y_pred, 0), axis=-1)``.

    Args:
        y_true: labels in {-1, 1} (or {0, 1}, converted; see the module docstring).
        y_pred: raw scores (e.g. a linear output or ``tanh``).

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in hinge([[0.0, 1.0]], [[0.3, 0.6]]).tolist()]
        [0.85]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true = binary_labels_to_signs(y_true)
    return torch.mean(torch.relu(1.0 - y_true * y_pred), dim=-1)


def squared_hinge(y_true, y_pred):
    """Squared hinge loss, ``mean(square(max(1 - y_true * y_pred, 0)), axis=-1)``.

    Args:
        y_true: labels in {-1, 1} (or {0, 1}, converted; see the module docstring).
        y_pred: raw scores.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in squared_hinge([[0.0, 1.0]], [[0.3, 0.6]]).tolist()]
        [0.925]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true = binary_labels_to_signs(y_true)
    return torch.mean(torch.square(torch.relu(1.0 - y_true * y_pred)), dim=-1)


def categorical_hinge(y_true, y_pred):
    """Categorical (multi-class) hinge loss over the last axis.

    ``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``: the
    best wrong-class score must stay a margin of 1 below the true-class
    score. Labels are one-hot in {0, 1} and are not converted.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., C)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in categorical_hinge([[0.0, 1.0, 0.0]], [[0.3, 0.6, 0.1]]).tolist()]
        [0.7]
    """
    y_true, y_pred = float_pair(y_true, y_pred)
    positive = torch.sum(y_true * y_pred, dim=-1)
    negative = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.relu(negative - positive + 1.0)


class Hinge(LossFunctionWrapper):
    """Hinge loss for binary classification: ``loss = mean(max(1 - y_true * y_pred, 0))``.

    Labels in {0, 1} are converted to {-1, 1} (see the module docstring).

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"hinge"``.
        dtype: see ``Loss``.

    Example:
        >>> round(float(Hinge()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 4)
        1.3
    """

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss: ``loss = mean(square(max(1 - y_true * y_pred, 0)))``.

    Labels in {0, 1} are converted to {-1, 1} (see the module docstring).

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"squared_hinge"``.
        dtype: see ``Loss``.

    Example:
        >>> round(float(SquaredHinge()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 4)
        1.86
    """

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss between one-hot labels and class scores.

    ``loss = max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``.

    Args:
        reduction: see ``Loss``.
        name: defaults to ``"categorical_hinge"``.
        dtype: see ``Loss``.

    Example:
        >>> round(float(CategoricalHinge()([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])), 4)
        1.4
    """

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

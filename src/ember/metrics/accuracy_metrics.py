"""Accuracy metrics: exact match, binary (thresholded), categorical (one-hot) and sparse (integer labels).

Each function returns float32 matches (1.0 / 0.0) per sample, or per element
when the labels have more axes; the classes average them with
``MeanMetricWrapper`` (weighted by ``sample_weight``).
"""

import torch

from ember.losses._utils import MASK_ATTRIBUTE, squeeze_or_expand_to_same_rank, to_tensor
from ember.metrics.reduction_metrics import MeanMetricWrapper


def accuracy(y_true, y_pred):
    """1.0 where ``y_pred`` equals ``y_true`` exactly, else 0.0.

    Example:
        >>> accuracy([[1], [2], [3], [4]], [[0], [2], [3], [4]]).flatten().tolist()
        [0.0, 1.0, 1.0, 1.0]
    """
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, y_pred.dtype, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).to(torch.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``y_pred > threshold`` matches the binary label ``y_true``, else 0.0.

    Example:
        >>> binary_accuracy([[1], [1], [0], [0]], [[0.98], [1.0], [0.0], [0.6]]).flatten().tolist()
        [1.0, 1.0, 1.0, 0.0]
    """
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).to(y_true.dtype)
    return (y_true == y_pred).to(torch.float32)


def categorical_accuracy(y_true, y_pred):
    """1.0 where the arg-max of ``y_pred`` is the arg-max of the one-hot ``y_true``.

    Example:
        >>> categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]).tolist()
        [0.0, 1.0]
    """
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    return (torch.argmax(y_true, dim=-1) == torch.argmax(y_pred, dim=-1)).to(torch.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the arg-max of ``y_pred`` equals the integer label ``y_true``.

    Labels may be integer or float, of shape ``(N,)`` or ``(N, 1)``.

    Example:
        >>> sparse_categorical_accuracy([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]).tolist()
        [0.0, 1.0]
    """
    if not isinstance(y_pred, torch.Tensor):
        y_pred = to_tensor(y_pred)
    if not isinstance(y_true, torch.Tensor) or y_true.device != y_pred.device:
        y_true = to_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    predicted = torch.argmax(y_pred, dim=-1)
    if y_true.is_floating_point():
        predicted = predicted.to(y_true.dtype)
    matches = (y_true == predicted).to(torch.float32)
    if matches.dim() > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _count_sparse_matches(metric, y_true, y_pred):
    """Unweighted, unmasked ``(N, classes)`` predictions: add the match count and ``N`` directly.

    The same sums as the general path (which averages float 0/1 matches), in
    fewer kernels. Returns False, changing nothing, for any other input.
    """
    if not (isinstance(y_pred, torch.Tensor) and isinstance(y_true, torch.Tensor)):
        return False
    if metric._fn is not sparse_categorical_accuracy or metric._fn_kwargs:
        return False
    if y_pred.dim() != 2 or getattr(y_pred, MASK_ATTRIBUTE, None) is not None or y_true.device != y_pred.device:
        return False
    if y_true.dim() == 2 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    if y_true.dim() != 1 or y_true.shape[0] != y_pred.shape[0]:
        return False
    if torch.is_grad_enabled():
        with torch.no_grad():
            return _count_sparse_matches(metric, y_true, y_pred)
    y_pred = metric._as_input(y_pred)
    predicted = torch.argmax(y_pred, dim=-1)
    if y_true.is_floating_point():
        predicted = predicted.to(y_true.dtype)
    metric.total.add_((y_true == predicted).sum())
    metric.count.add_(y_pred.shape[0])
    return True


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (weighted mean of ``accuracy``).

    Args:
        name: defaults to ``"accuracy"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = Accuracy()
        >>> metric.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
        >>> float(metric.result())
        0.75
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often thresholded predictions match binary labels.

    Args:
        name: defaults to ``"binary_accuracy"``.
        dtype: see ``Metric``.
        threshold: predictions above it count as 1. Defaults to 0.5.

    Example:
        >>> metric = BinaryAccuracy()
        >>> metric.update_state([[1], [1], [0], [0]], [[0.98], [1.0], [0.0], [0.6]])
        >>> float(metric.result())
        0.75
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class (arg-max) matches the one-hot label.

    Args:
        name: defaults to ``"categorical_accuracy"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = CategoricalAccuracy()
        >>> metric.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        >>> float(metric.result())
        0.5
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class (arg-max) matches the integer label.

    Args:
        name: defaults to ``"sparse_categorical_accuracy"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = SparseCategoricalAccuracy()
        >>> metric.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
        >>> float(metric.result())
        0.5
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch's matches, weighted by ``sample_weight``."""
        if sample_weight is None and _count_sparse_matches(self, y_true, y_pred):
            return
        super().update_state(y_true, y_pred, sample_weight=sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

"""Top-k accuracy: how often the label is among the ``k`` highest-scored classes.

A label counts as in the top ``k`` when its score is at least the ``k``-th
largest score of its row, so classes tied at the boundary all count (the
rule of Keras's ``in_top_k``). With ``k`` at least the number of classes every
label counts.
"""

import torch

from ember.losses._utils import to_tensor
from ember.metrics.reduction_metrics import MeanMetricWrapper


def _check_k(k):
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"`k` must be an int >= 1 (how many top classes count as a hit), got k={k!r}.")


def in_top_k(targets, predictions, k):
    """Whether each integer target is among the ``k`` top-scored classes of its row.

    Args:
        targets: ``(N,)`` integer class ids.
        predictions: ``(N, C)`` scores.
        k: number of top classes that count.

    Returns:
        ``(N,)`` booleans.
    """
    k = min(k, predictions.shape[-1])
    kth_largest = torch.topk(predictions, k, dim=-1).values[:, -1]
    target_scores = torch.take_along_dim(predictions, targets.long().unsqueeze(-1), dim=-1).squeeze(-1)
    return target_scores >= kth_largest


def _flatten_rows(y_true, y_pred):
    """``y_pred`` as ``(rows, C)`` and ``y_true`` as ``(rows,)``, plus ``y_true``'s shape to restore."""
    shape = y_true.shape
    if y_pred.dim() > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    if y_true.dim() > 1:
        y_true = y_true.reshape(-1)
    return y_true, y_pred, shape


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the class of the one-hot label ``y_true`` is among the top ``k`` of ``y_pred``.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., C)``; result ``(N, ...)``.

    Example:
        >>> top_k_categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=1).tolist()
        [0.0, 1.0]
    """
    _check_k(k)
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    labels, scores, shape = _flatten_rows(torch.argmax(y_true, dim=-1), y_pred)
    return in_top_k(labels, scores, k).to(torch.float32).reshape(shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label ``y_true`` is among the top ``k`` classes of ``y_pred``.

    Args:
        y_true: integer labels (float labels are truncated), ``(N,)`` or ``(N, 1)``.
        y_pred: scores ``(N, C)``; or, with ``from_sorted_ids=True``, class ids
            sorted by decreasing score ``(N, M)`` with ``M >= k`` (for example
            the indices of ``torch.topk``), of which the first ``k`` count.
        k: number of top classes that count.
        from_sorted_ids: see ``y_pred``.

    Shape:
        result: the shape of ``y_true``.

    Example:
        >>> sparse_top_k_categorical_accuracy([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=2).tolist()
        [1.0, 1.0]
        >>> sparse_top_k_categorical_accuracy([2, 1], [[1, 2], [0, 2]], k=2, from_sorted_ids=True).tolist()
        [1.0, 0.0]
    """
    _check_k(k)
    y_pred = to_tensor(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    labels, scores, shape = _flatten_rows(y_true, y_pred)
    if from_sorted_ids:
        matches = torch.any(labels.to(scores.dtype).unsqueeze(-1) == scores[:, :k], dim=-1)
    else:
        matches = in_top_k(labels, scores, k)
    return matches.to(torch.float32).reshape(shape)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the ``k`` top-scored classes.

    Args:
        k: number of top classes that count. Defaults to 5.
        name: defaults to ``"top_k_categorical_accuracy"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = TopKCategoricalAccuracy(k=1)
        >>> metric.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        >>> float(metric.result())
        0.5
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        _check_k(k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` top-scored classes.

    Args:
        k: number of top classes that count. Defaults to 5.
        name: defaults to ``"sparse_top_k_categorical_accuracy"``.
        dtype: see ``Metric``.
        from_sorted_ids: whether predictions are class ids sorted by
            decreasing score rather than scores (see
            ``sparse_top_k_categorical_accuracy``). Defaults to False.

    Example:
        >>> metric = SparseTopKCategoricalAccuracy(k=1)
        >>> metric.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        >>> float(metric.result())
        0.5
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        _check_k(k)
        super().__init__(
            sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k, from_sorted_ids=from_sorted_ids
        )
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        # As in Keras, `from_sorted_ids` appears only when it is set.
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config

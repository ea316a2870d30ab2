"""Correlation metrics: Pearson's and Lin's concordance correlation, per sample, averaged over batches.

Each sample's correlation is computed along ``axis`` (its features, or its
time steps), then the metric takes the weighted running mean over samples.
Moments are population moments (divided by the count, not count - 1).
"""

import torch

from ember.losses._utils import EPSILON, float_pair
from ember.metrics.reduction_metrics import MeanMetricWrapper


def _check_axis(axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be an int, got axis={axis!r} of type {type(axis).__name__}.")


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``, in [-1, 1].

    A constant slice has no defined correlation and gives NaN.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)`` (``axis`` removed).

    Example:
        >>> [round(v, 4) for v in pearson_correlation([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]],
        ...                                           [[2.0, 4.0, 6.0], [3.0, 2.0, 1.0]]).tolist()]
        [1.0, -1.0]
    """
    _check_axis(axis)
    y_true, y_pred = float_pair(y_true, y_pred)
    true_centered = y_true - y_true.mean(dim=axis, keepdim=True)
    pred_centered = y_pred - y_pred.mean(dim=axis, keepdim=True)
    true_standard = true_centered / true_centered.std(dim=axis, keepdim=True, correction=0)
    pred_standard = pred_centered / pred_centered.std(dim=axis, keepdim=True, correction=0)
    return torch.mean(true_standard * pred_standard, dim=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation ``2 cov / (var_true + var_pred + (mean_true - mean_pred)^2)`` along ``axis``.

    Unlike Pearson's coefficient it also penalises a shift or a scale
    between predictions and targets; 1 means identical. ``1e-7`` is added to
    the denominator.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)`` (``axis`` removed).

    Example:
        >>> [round(v, 4) for v in concordance_correlation([[1.0, 2.0, 3.0]], [[2.0, 3.0, 4.0]]).tolist()]
        [0.5714]
    """
    _check_axis(axis)
    y_true, y_pred = float_pair(y_true, y_pred)
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    true_var = y_true.var(dim=axis, keepdim=True, correction=0)
    pred_var = y_pred.var(dim=axis, keepdim=True, correction=0)
    covariance_terms = (y_true - true_mean) * (y_pred - pred_mean)
    denominator = true_var + pred_var + torch.square(true_mean - pred_mean)
    return torch.mean(2.0 * covariance_terms / (denominator + EPSILON), dim=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """Weighted running mean of the per-sample ``pearson_correlation``.

    Args:
        name: defaults to ``"pearson_correlation"``.
        dtype: see ``Metric``.
        axis: the axis along which each correlation is computed. Defaults to -1.

    Example:
        >>> metric = PearsonCorrelation()
        >>> metric.update_state([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], [[2.0, 4.0, 6.0], [1.0, 3.0, 2.0]])
        >>> round(float(metric.result()), 4)
        0.75
    """

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        _check_axis(axis)
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """Weighted running mean of the per-sample ``concordance_correlation``.

    Args:
        name: defaults to ``"concordance_correlation"``.
        dtype: see ``Metric``.
        axis: the axis along which each correlation is computed. Defaults to -1.

    Example:
        >>> metric = ConcordanceCorrelation()
        >>> metric.update_state([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]])
        >>> round(float(metric.result()), 4)
        1.0
    """

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        _check_axis(axis)
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}

"""Regression metrics: running means of per-sample errors, and the root mean squared error.

The per-sample functions are the regression losses' (``ember.losses``),
except ``cosine_similarity``, which is the similarity itself (the loss is its
negative). The classes average them over every batch since the last reset,
weighted by ``sample_weight``. ``R2Score`` lives in ``r2_metrics``.
"""

import torch

from ember.losses._utils import EPSILON, float_pair, squeeze_or_expand_to_same_rank, to_tensor
from ember.losses.regression import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from ember.losses.robust import log_cosh
from ember.metrics.reduction_metrics import Mean, MeanMetricWrapper


def _check_axis(axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be an int, got axis={axis!r} of type {type(axis).__name__}.")


def _l2_normalize(x, axis):
    # x / ||x||, with the inverse norm capped at 1 / EPSILON so that a zero vector stays zero.
    inverse_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
    return x * torch.clamp(inverse_norm, max=1.0 / EPSILON)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity ``sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``, in [-1, 1].

    Unlike the loss of the same name this is not negated: 1 means the same
    direction. A zero vector has similarity 0 with anything.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)`` (``axis`` removed).

    Example:
        >>> [round(v, 4) for v in cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]).tolist()]
        [0.0, 1.0]
    """
    _check_axis(axis)
    y_true, y_pred = float_pair(y_true, y_pred)
    return torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


class MeanSquaredError(MeanMetricWrapper):
    """Weighted running mean of ``mean_squared_error`` per sample.

    Args:
        name: defaults to ``"mean_squared_error"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = MeanSquaredError()
        >>> metric.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> float(metric.result())
        0.25
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsoluteError(MeanMetricWrapper):
    """Weighted running mean of ``mean_absolute_error`` per sample.

    Args:
        name: defaults to ``"mean_absolute_error"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = MeanAbsoluteError()
        >>> metric.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> float(metric.result())
        0.25
    """

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    """Root of the weighted running mean of squared errors: ``sqrt(sum(w * e^2) / sum(w))``.

    Squared errors are averaged per sample first (over the non-batch axes)
    when weights are given, then over samples; the root is taken last.

    Args:
        name: defaults to ``"root_mean_squared_error"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = RootMeanSquaredError()
        >>> metric.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> float(metric.result())
        0.5
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add the squared errors of one batch, weighted by ``sample_weight``."""
        with torch.no_grad():
            y_pred = to_tensor(self._as_input(y_pred), self.dtype)
            y_true = to_tensor(y_true, self.dtype, y_pred.device)
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            super().update_state(torch.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return torch.sqrt(super().result())


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Weighted running mean of ``mean_absolute_percentage_error`` per sample.

    Args:
        name: defaults to ``"mean_absolute_percentage_error"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = MeanAbsolutePercentageError()
        >>> metric.update_state([[1.0, 2.0], [4.0, 4.0]], [[1.5, 2.0], [4.0, 3.0]])
        >>> float(metric.result())
        18.75
    """

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Weighted running mean of ``mean_squared_logarithmic_error`` per sample.

    Args:
        name: defaults to ``"mean_squared_logarithmic_error"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = MeanSquaredLogarithmicError()
        >>> metric.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> round(float(metric.result()), 4)
        0.1201
    """

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class CosineSimilarity(MeanMetricWrapper):
    """Weighted running mean of the cosine similarity between labels and predictions.

    Args:
        name: defaults to ``"cosine_similarity"``.
        dtype: see ``Metric``.
        axis: the axis along which the similarity is computed. Defaults to -1.

    Example:
        >>> metric = CosineSimilarity()
        >>> metric.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
        >>> round(float(metric.result()), 4)
        0.5
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        _check_axis(axis)
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        # The default axis is left out, as Keras's config leaves it out.
        config = {"name": self.name, "dtype": self.dtype}
        if self.axis != -1:
            config["axis"] = self.axis
        return config


class LogCoshError(MeanMetricWrapper):
    """Weighted running mean of ``log_cosh`` (the logarithm of the hyperbolic cosine of the error).

    Args:
        name: defaults to ``"logcosh"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = LogCoshError()
        >>> metric.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> round(float(metric.result()), 4)
        0.1084
    """

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

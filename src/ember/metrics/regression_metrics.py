"""Regression metrics: the running means of the regression losses."""

from ember.losses.regression import mean_absolute_error, mean_squared_error
from ember.metrics.reduction_metrics import MeanMetricWrapper


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

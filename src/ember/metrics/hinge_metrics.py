"""Hinge metrics: running means of the hinge, squared hinge and categorical hinge losses.

The per-sample functions are those of ``ember.losses.hinge``: ``hinge`` and
``squared_hinge`` take labels in {-1, 1} (a batch of {0, 1} labels is mapped
to {-1, 1}), ``categorical_hinge`` takes one-hot labels.
"""

from ember.losses.hinge import categorical_hinge, hinge, squared_hinge
from ember.metrics.reduction_metrics import MeanMetricWrapper


class Hinge(MeanMetricWrapper):
    """Weighted running mean of ``hinge`` per sample.

    Args:
        name: defaults to ``"hinge"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = Hinge()
        >>> metric.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(metric.result()), 4)
        1.3
    """

    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SquaredHinge(MeanMetricWrapper):
    """Weighted running mean of ``squared_hinge`` per sample.

    Args:
        name: defaults to ``"squared_hinge"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = SquaredHinge()
        >>> metric.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(metric.result()), 4)
        1.86
    """

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class CategoricalHinge(MeanMetricWrapper):
    """Weighted running mean of ``categorical_hinge`` per sample.

    Args:
        name: defaults to ``"categorical_hinge"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = CategoricalHinge()
        >>> metric.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(metric.result()), 4)
        1.4
    """

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

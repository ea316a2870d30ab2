"""Probabilistic metrics: running means of the crossentropies, KL divergence and Poisson deviance."""

from ember.losses.distributional import kl_divergence, poisson
from ember.losses.probabilistic import binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy
from ember.metrics.reduction_metrics import MeanMetricWrapper


class BinaryCrossentropy(MeanMetricWrapper):
    """Weighted running mean of ``binary_crossentropy`` per sample.

    Args:
        name: defaults to ``"binary_crossentropy"``.
        dtype: see ``Metric``.
        from_logits: whether predictions are logits rather than probabilities.
        label_smoothing: in [0, 1]; squeezes labels towards 0.5.

    Example:
        >>> metric = BinaryCrossentropy()
        >>> metric.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(metric.result()), 3)
        0.815
    """

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(
            binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


class CategoricalCrossentropy(MeanMetricWrapper):
    """Weighted running mean of ``categorical_crossentropy`` per sample.

    Args:
        name: defaults to ``"categorical_crossentropy"``.
        dtype: see ``Metric``.
        from_logits: whether predictions are logits rather than probabilities.
        label_smoothing: in [0, 1]; labels become ``y * (1 - s) + s / C``.
        axis: the class axis. Defaults to -1.

    Example:
        >>> metric = CategoricalCrossentropy()
        >>> metric.update_state([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
        >>> round(float(metric.result()), 3)
        1.177
    """

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(
            categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Weighted running mean of ``sparse_categorical_crossentropy`` per sample.

    Args:
        name: defaults to ``"sparse_categorical_crossentropy"``.
        dtype: see ``Metric``.
        from_logits: whether predictions are logits rather than probabilities.
        ignore_class: optional label value left out of the mean.
        axis: the class axis. Defaults to -1.

    Example:
        >>> metric = SparseCategoricalCrossentropy()
        >>> metric.update_state([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
        >>> round(float(metric.result()), 3)
        1.177
    """

    def __init__(
        self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None, axis=-1
    ):
        super().__init__(
            sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }


class KLDivergence(MeanMetricWrapper):
    """Weighted running mean of ``kl_divergence`` per sample.

    Args:
        name: defaults to ``"kl_divergence"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = KLDivergence()
        >>> metric.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(metric.result()), 4)
        0.4581
    """

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class Poisson(MeanMetricWrapper):
    """Weighted running mean of the ``poisson`` deviance per sample.

    Args:
        name: defaults to ``"poisson"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = Poisson()
        >>> metric.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> round(float(metric.result()), 4)
        0.5
    """

    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

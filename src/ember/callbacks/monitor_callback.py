"""`MonitorCallback`: the shared "is this value an improvement?" logic.

`EarlyStopping`, `ModelCheckpoint` and `ReduceLROnPlateau` watch one logged
quantity (`monitor`) and compare each new value with the best one so far.
This module holds that comparison and the rule that picks its direction.
"""

import warnings

import numpy as np
import torch

from ember.callbacks.callback import Callback

__all__ = ["MonitorCallback", "metric_direction"]

MSG_UNKNOWN_DIRECTION = (
    "{callback} callback received monitor={monitor!r}, but cannot tell whether that "
    "quantity should be maximized or minimized: no compiled metric named {name!r} has a "
    "known direction. Pass `mode='max'` to monitor the highest value, or `mode='min'` "
    "to monitor the lowest."
)

# Metric classes for which higher (or lower) values are better, by class name
# (ember's metric classes carry Keras's names). A metric may also declare
# `_direction = "up"` or `"down"` itself, which takes precedence.
_HIGHER_IS_BETTER = frozenset({
    "AUC", "Accuracy", "BinaryAccuracy", "BinaryIoU", "CategoricalAccuracy",
    "ConcordanceCorrelation", "CosineSimilarity", "F1Score", "FBetaScore", "IoU", "MeanIoU",
    "OneHotIoU", "OneHotMeanIoU", "PearsonCorrelation", "Precision", "PrecisionAtRecall",
    "R2Score", "Recall", "RecallAtPrecision", "SensitivityAtSpecificity",
    "SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "SpecificityAtSensitivity",
    "TopKCategoricalAccuracy",
})
_LOWER_IS_BETTER = frozenset({
    "BinaryCrossentropy", "CategoricalCrossentropy", "CategoricalHinge", "Hinge",
    "KLDivergence", "LogCoshError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson", "RootMeanSquaredError",
    "SparseCategoricalCrossentropy", "SquaredHinge",
})
# The string metrics that compile resolves from the data ("accuracy" picks binary,
# categorical or sparse accuracy on the first batch).
_AUTO_IDENTIFIERS = {"accuracy": "up", "acc": "up", "crossentropy": "down", "ce": "down"}


def _is_loss_function(fn):
    from ember import losses

    if isinstance(fn, losses.Loss) or (isinstance(fn, type) and issubclass(fn, losses.Loss)):
        return True
    return any(fn is getattr(losses, name, None) for name in losses.__all__)


def metric_direction(metric):
    """`"up"` when higher values of `metric` are better, `"down"` when lower are, else `None`.

    Args:
        metric: A metric object (e.g. one of `model.metrics`).

    Example:
        >>> import ember
        >>> metric_direction(ember.metrics.AUC()), metric_direction(ember.metrics.Mean())
        ('up', None)
    """
    declared = getattr(metric, "_direction", None)
    if declared in ("up", "down"):
        return declared
    inner = getattr(metric, "inner", None)
    if inner is not None:
        return metric_direction(inner)
    identifier = getattr(metric, "identifier", None)
    if isinstance(identifier, str) and identifier in _AUTO_IDENTIFIERS:
        return _AUTO_IDENTIFIERS[identifier]
    for cls in type(metric).__mro__:
        if cls.__name__ in _HIGHER_IS_BETTER:
            return "up"
        if cls.__name__ in _LOWER_IS_BETTER:
            return "down"
    fn = getattr(metric, "_fn", None)
    if fn is not None and _is_loss_function(fn):
        return "down"  # a mean of a loss function
    return None


def _to_scalar(value):
    """A Python number for scalar tensors / NumPy values; anything else is returned as is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.detach().cpu().item()
    if isinstance(value, (np.ndarray, np.generic)) and value.size == 1:
        return value.item()
    return value


class MonitorCallback(Callback):
    """Base class for callbacks that watch one logged quantity for improvements.

    Subclasses call `_is_improvement(current, reference)`. The direction is
    fixed by `mode`; with `mode="auto"` it is worked out from the model the
    first time a value is compared: the compiled metric of that name tells
    its direction (accuracy, AUC, precision, ... are maximized; errors and
    crossentropies minimized), and `loss` / `<output>_loss` are minimized.
    Because this happens only once a value is present, a monitor missing
    from the logs just warns in every mode. As in Keras, values are compared
    in float32, and `min_delta` is an absolute margin a new value must beat
    the reference by.

    Args:
        monitor: The log key to watch, e.g. `"val_loss"`.
        mode: `"auto"`, `"min"` or `"max"`. An unknown mode warns and falls
            back to `"auto"`, as in Keras.
        baseline: Initial best value (`None`: the first value seen).
        min_delta: Minimum change that counts as an improvement.

    Raises:
        ValueError: (when comparing, in `"auto"` mode) if the direction of the
            monitored quantity cannot be determined.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode. "
                "Use mode='auto', 'min' or 'max'.",
                stacklevel=3,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        """Sets `monitor_op` (`np.less` or `np.greater`) from `mode` and the model's metrics."""
        if self.mode == "min":
            self.monitor_op = np.less
            return
        if self.mode == "max":
            self.monitor_op = np.greater
            return
        name = self.monitor.removeprefix("val_")
        direction = None
        for metric in getattr(self.model, "metrics", None) or ():
            if getattr(metric, "name", None) == name:
                direction = metric_direction(metric)
                if direction is not None:
                    break
        if direction is None and (name == "loss" or name.endswith("_loss")):
            direction = "down"
        if direction is None:
            raise ValueError(
                MSG_UNKNOWN_DIRECTION.format(callback=type(self).__name__, monitor=self.monitor, name=name)
            )
        self.monitor_op = np.greater if direction == "up" else np.less

    def _is_improvement(self, monitor_value, reference_value):
        """Whether `monitor_value` beats `reference_value` by more than `min_delta`."""
        if reference_value is None:
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        margin = self.min_delta if self.monitor_op is np.greater else -self.min_delta
        # Keras compares float32 tensors; doing the same keeps ties identical.
        shifted = np.float32(_to_scalar(monitor_value) - margin)
        return bool(self.monitor_op(shifted, np.float32(_to_scalar(reference_value))))

    def _read_monitor(self, logs):
        """The monitored value in `logs` as a Python number (or `None` when absent)."""
        value = (logs or {}).get(self.monitor)
        return None if value is None else _to_scalar(value)


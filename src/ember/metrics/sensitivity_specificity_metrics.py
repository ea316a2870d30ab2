"""One rate at a constraint on another: ``PrecisionAtRecall``, ``RecallAtPrecision``,
``SensitivityAtSpecificity`` and ``SpecificityAtSensitivity``.

Each keeps the four confusion counts at ``num_thresholds`` evenly spaced
thresholds on ``[0, 1]``. The result is the best value of one rate over the
thresholds where the other rate meets the constraint (0 when none does).
"""

import torch

from ember.losses._utils import divide_no_nan
from ember.metrics.confusion_counts import check_integer, check_unit_interval, evenly_spaced_thresholds
from ember.metrics.confusion_metrics import ConfusionCountsMetric

_ALL_COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def max_under_constraint(constrained, dependent, minimum):
    """The largest ``dependent`` value where ``constrained >= minimum``; 0 when nowhere.

    Example:
        >>> max_under_constraint(torch.tensor([1.0, 0.6, 0.2]), torch.tensor([0.3, 0.5, 0.9]), 0.5)
        tensor(0.5000)
    """
    feasible = torch.where(constrained >= minimum, dependent, torch.zeros_like(dependent))
    return torch.clamp(torch.max(feasible), min=0.0)


def rates(true_positives, false_positives, true_negatives, false_negatives):
    """``(recall, precision, specificity)`` at every threshold (0 where undefined).

    Recall is also called sensitivity.
    """
    recall = divide_no_nan(true_positives, true_positives + false_negatives)
    precision = divide_no_nan(true_positives, true_positives + false_positives)
    specificity = divide_no_nan(true_negatives, true_negatives + false_positives)
    return recall, precision, specificity


class _RateAtRateBase(ConfusionCountsMetric):
    """The four confusion counts at evenly spaced thresholds, and a constraint value.

    Subclasses set ``_VALUE_NAME`` (the constructor argument holding the
    constraint) and implement ``_pick(recall, precision, specificity)``.
    """

    _VALUE_NAME = None

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        owner = type(self).__name__
        value = check_unit_interval(value, self._VALUE_NAME, owner)
        num_thresholds = check_integer(num_thresholds, "num_thresholds", owner, 1)
        class_id = check_integer(class_id, "class_id", owner, None, allow_none=True)
        if num_thresholds == 1:
            thresholds, evenly_spaced = [0.5], False
        else:
            thresholds, evenly_spaced = evenly_spaced_thresholds(num_thresholds), True
        super().__init__(
            thresholds, _ALL_COUNTS, name=name, dtype=dtype, class_id=class_id, evenly_spaced=evenly_spaced
        )
        self.value = value
        self.num_thresholds = num_thresholds
        setattr(self, self._VALUE_NAME, value)

    def result(self):
        counts = [getattr(self, count).detach() for count in _ALL_COUNTS]
        return self._pick(*rates(*counts))

    def _pick(self, recall, precision, specificity):
        raise NotImplementedError

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "class_id": self.class_id,
            "num_thresholds": self.num_thresholds,
            self._VALUE_NAME: self.value,
        }


class PrecisionAtRecall(_RateAtRateBase):
    """The best precision among thresholds whose recall is at least ``recall``.

    Args:
        recall: the minimum recall, in ``[0, 1]``.
        num_thresholds: number of evenly spaced thresholds on ``[0, 1]``
            searched (``[0.5]`` when 1). Defaults to 200.
        class_id: if set, only this class (column of ``(N, C)`` inputs) counts.
        name: defaults to ``"precision_at_recall"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = PrecisionAtRecall(0.5)
        >>> metric.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> float(metric.result())
        0.5
    """

    _VALUE_NAME = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _pick(self, recall, precision, specificity):
        return max_under_constraint(recall, precision, self.value)


class RecallAtPrecision(_RateAtRateBase):
    """The best recall among thresholds whose precision is at least ``precision``.

    Args:
        precision: the minimum precision, in ``[0, 1]``.
        num_thresholds: number of evenly spaced thresholds on ``[0, 1]``
            searched (``[0.5]`` when 1). Defaults to 200.
        class_id: if set, only this class (column of ``(N, C)`` inputs) counts.
        name: defaults to ``"recall_at_precision"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = RecallAtPrecision(0.8)
        >>> metric.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> float(metric.result())
        0.5
    """

    _VALUE_NAME = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _pick(self, recall, precision, specificity):
        return max_under_constraint(precision, recall, self.value)


class SensitivityAtSpecificity(_RateAtRateBase):
    """The best sensitivity (recall) among thresholds whose specificity is at least ``specificity``.

    Args:
        specificity: the minimum specificity, in ``[0, 1]``.
        num_thresholds: number of evenly spaced thresholds on ``[0, 1]``
            searched (``[0.5]`` when 1). Defaults to 200.
        class_id: if set, only this class (column of ``(N, C)`` inputs) counts.
        name: defaults to ``"sensitivity_at_specificity"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = SensitivityAtSpecificity(0.5)
        >>> metric.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> float(metric.result())
        0.5
    """

    _VALUE_NAME = "specificity"

    def __init__(
        self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None
    ):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _pick(self, recall, precision, specificity):
        return max_under_constraint(specificity, recall, self.value)


class SpecificityAtSensitivity(_RateAtRateBase):
    """The best specificity among thresholds whose sensitivity (recall) is at least ``sensitivity``.

    Args:
        sensitivity: the minimum sensitivity, in ``[0, 1]``.
        num_thresholds: number of evenly spaced thresholds on ``[0, 1]``
            searched (``[0.5]`` when 1). Defaults to 200.
        class_id: if set, only this class (column of ``(N, C)`` inputs) counts.
        name: defaults to ``"specificity_at_sensitivity"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = SpecificityAtSensitivity(0.5)
        >>> metric.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> round(float(metric.result()), 4)
        0.6667
    """

    _VALUE_NAME = "sensitivity"

    def __init__(
        self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None
    ):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def _pick(self, recall, precision, specificity):
        return max_under_constraint(recall, specificity, self.value)

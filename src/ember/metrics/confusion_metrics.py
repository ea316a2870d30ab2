"""Confusion-matrix counts and the rates built on them: ``TruePositives`` ... ``Precision``, ``Recall``.

Each metric keeps weighted counts at one or more thresholds (a prediction is
positive when ``score > threshold``), accumulated on the state's device by
``confusion_counts``. With one threshold the result is a scalar; with a list
of thresholds, one value per threshold.
"""

import torch

from ember.backend import to_torch_dtype
from ember.losses._utils import divide_no_nan
from ember.metrics.confusion_counts import (
    NEG_INF,
    align_confusion_inputs,
    check_integer,
    confusion_counts,
    is_evenly_spaced,
    parse_thresholds,
    thresholds_config,
)
from ember.metrics.metric import Metric


class ConfusionCountsMetric(Metric):
    """Base of metrics whose state is confusion counts at fixed thresholds (internal).

    Subclasses pass the counts they keep (names among ``true_positives``,
    ``false_positives``, ``true_negatives``, ``false_negatives``); each becomes
    a ``(T,)`` state variable of that name, and ``update_state`` adds one
    batch's counts to them. Subclasses implement ``result``.

    Args:
        thresholds: the list of thresholds (floats).
        count_names: the counts to keep, as attribute names.
        name: see ``Metric``.
        dtype: see ``Metric``.
        top_k: keep only the ``k`` best scores per sample as candidates.
        class_id: count only this column of ``(N, C)`` inputs.
        variable_names: optional state variable names (defaults to ``count_names``).
        evenly_spaced: whether the thresholds are ``i / (T - 1)`` (counted by
            bucket, scores clipped to ``[0, 1]``); detected when ``None``.
    """

    def __init__(
        self,
        thresholds,
        count_names,
        name=None,
        dtype=None,
        top_k=None,
        class_id=None,
        variable_names=None,
        evenly_spaced=None,
    ):
        super().__init__(name=name, dtype=dtype)
        self.thresholds = list(thresholds)
        self.top_k = top_k
        self.class_id = class_id
        self._evenly_spaced = is_evenly_spaced(self.thresholds) if evenly_spaced is None else evenly_spaced
        # Created once on the host; moved with the state (never re-uploaded per batch).
        self._threshold_tensor = torch.tensor(self.thresholds, dtype=to_torch_dtype(self.dtype))
        self._count_names = tuple(count_names)
        for count, variable_name in zip(self._count_names, variable_names or self._count_names):
            setattr(self, count, self.add_weight(name=variable_name, shape=(len(self.thresholds),)))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch's weighted counts at every threshold.

        Args:
            y_true: labels (non-zero means positive), same shape as ``y_pred``
                up to a trailing axis of size 1.
            y_pred: scores; a prediction is positive when ``score > threshold``.
            sample_weight: optional weights, one per sample ``(N,)`` or
                broadcastable to ``y_pred``.
        """
        with torch.no_grad():
            y_pred = self._as_input(y_pred)
            y_true, y_pred, sample_weight = align_confusion_inputs(
                y_true, y_pred, sample_weight, self.top_k, self.class_id, to_torch_dtype(self.dtype)
            )
            counts = confusion_counts(
                y_true,
                y_pred,
                self._thresholds_on(y_pred.device),
                sample_weight=sample_weight,
                evenly_spaced=self._evenly_spaced,
            )
            for count in self._count_names:
                getattr(self, count).add_(getattr(counts, count))

    def to(self, device):
        super().to(device)
        self._threshold_tensor = self._threshold_tensor.to(device)
        return self

    def _thresholds_on(self, device):
        if self._threshold_tensor.device != device:
            self._threshold_tensor = self._threshold_tensor.to(device)
        return self._threshold_tensor

    def _per_threshold(self, values):
        """A scalar for a single threshold, else the ``(T,)`` vector."""
        return values[0] if len(self.thresholds) == 1 else values


class _ConditionCount(ConfusionCountsMetric):
    """One confusion count (``_COUNT``) at one or more thresholds."""

    _COUNT = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        parsed = parse_thresholds(thresholds, 0.5, type(self).__name__)
        self.init_thresholds = thresholds_config(thresholds)
        super().__init__(parsed, (self._COUNT,), name=name, dtype=dtype, variable_names=("accumulator",))
        self.accumulator = getattr(self, self._COUNT)

    def result(self):
        return self._per_threshold(self.accumulator.detach().clone())

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The (weighted) number of true positives: label positive, ``score > threshold``.

    Args:
        thresholds: a number in ``[0, 1]`` or a list of them; defaults to 0.5.
            With a list the result has one count per threshold.
        name: defaults to ``"true_positives"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = TruePositives()
        >>> metric.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> float(metric.result())
        2.0
    """

    _COUNT = "true_positives"


class FalsePositives(_ConditionCount):
    """The (weighted) number of false positives: label negative, ``score > threshold``.

    Args:
        thresholds: a number in ``[0, 1]`` or a list of them; defaults to 0.5.
        name: defaults to ``"false_positives"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = FalsePositives()
        >>> metric.update_state([0, 1, 0, 0], [0, 0, 1, 1])
        >>> float(metric.result())
        2.0
    """

    _COUNT = "false_positives"


class TrueNegatives(_ConditionCount):
    """The (weighted) number of true negatives: label negative, ``score <= threshold``.

    Args:
        thresholds: a number in ``[0, 1]`` or a list of them; defaults to 0.5.
        name: defaults to ``"true_negatives"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = TrueNegatives()
        >>> metric.update_state([0, 1, 0, 0], [1, 1, 0, 0])
        >>> float(metric.result())
        2.0
    """

    _COUNT = "true_negatives"


class FalseNegatives(_ConditionCount):
    """The (weighted) number of false negatives: label positive, ``score <= threshold``.

    Args:
        thresholds: a number in ``[0, 1]`` or a list of them; defaults to 0.5.
        name: defaults to ``"false_negatives"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = FalseNegatives()
        >>> metric.update_state([0, 1, 1, 1], [0, 1, 0, 0])
        >>> float(metric.result())
        2.0
    """

    _COUNT = "false_negatives"


class _PrecisionRecallBase(ConfusionCountsMetric):
    """Shared arguments of ``Precision`` and ``Recall``."""

    _COUNTS = ()

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        owner = type(self).__name__
        top_k = check_integer(top_k, "top_k", owner, 1, allow_none=True)
        class_id = check_integer(class_id, "class_id", owner, None, allow_none=True)
        # With top_k and no threshold, every top-k score counts as a positive prediction.
        parsed = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF, owner)
        self.init_thresholds = thresholds_config(thresholds)
        super().__init__(parsed, self._COUNTS, name=name, dtype=dtype, top_k=top_k, class_id=class_id)

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecallBase):
    """Precision, ``TP / (TP + FP)``: how many positive predictions are right.

    Args:
        thresholds: a number in ``[0, 1]`` or a list of them; a score above it
            is a positive prediction. Defaults to 0.5 (to no threshold with
            ``top_k``). With a list, the result has one value per threshold.
        top_k: if set, only the ``top_k`` highest scores of each sample can
            be positive predictions.
        class_id: if set, only this class (column of ``(N, C)`` inputs) counts.
        name: defaults to ``"precision"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = Precision()
        >>> metric.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(float(metric.result()), 4)
        0.6667
    """

    _COUNTS = ("true_positives", "false_positives")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, top_k=top_k, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        true_positives = self.true_positives.detach()
        return self._per_threshold(divide_no_nan(true_positives, true_positives + self.false_positives.detach()))


class Recall(_PrecisionRecallBase):
    """Recall, ``TP / (TP + FN)``: how many positive labels are predicted.

    Args:
        thresholds: a number in ``[0, 1]`` or a list of them; a score above it
            is a positive prediction. Defaults to 0.5 (to no threshold with
            ``top_k``). With a list, the result has one value per threshold.
        top_k: if set, only the ``top_k`` highest scores of each sample can
            be positive predictions.
        class_id: if set, only this class (column of ``(N, C)`` inputs) counts.
        name: defaults to ``"recall"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = Recall()
        >>> metric.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(float(metric.result()), 4)
        0.6667
    """

    _COUNTS = ("true_positives", "false_negatives")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(thresholds=thresholds, top_k=top_k, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        true_positives = self.true_positives.detach()
        return self._per_threshold(divide_no_nan(true_positives, true_positives + self.false_negatives.detach()))

"""``AUC``: area under the ROC or precision-recall curve, from confusion counts at many thresholds.

The state is the four confusion counts at ``num_thresholds`` thresholds
(evenly spaced on ``[0, 1]`` by default, the outer two pushed just outside so
that scores of exactly 0 and 1 are counted). The area is a Riemann sum over
the resulting curve points, computed by ``area_under_curve``.
"""

import numpy as np
import torch

from ember.backend import to_torch_dtype
from ember.losses._utils import EPSILON, divide_no_nan, to_tensor
from ember.metrics.confusion_counts import (
    align_confusion_inputs,
    check_integer,
    confusion_counts,
    evenly_spaced_thresholds,
    is_evenly_spaced,
    parse_thresholds,
)
from ember.metrics.metric import Metric

_CURVES = {"ROC": "ROC", "roc": "ROC", "PR": "PR", "pr": "PR", "PRGAIN": "PRGAIN", "prgain": "PRGAIN"}
_SUMMATION_METHODS = {
    "interpolation": "interpolation",
    "Interpolation": "interpolation",
    "majoring": "majoring",
    "Majoring": "majoring",
    "minoring": "minoring",
    "Minoring": "minoring",
}
_COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def interpolated_pr_area(true_positives, false_positives, false_negatives):
    """Area under the precision-recall curve, interpolating between thresholds (Davis & Goadrich, 2006).

    Between two neighbouring thresholds the true positives are taken to grow
    linearly with the number of positive predictions ``P = TP + FP`` (not
    precision itself); integrating precision ``TP / P`` over recall along that
    segment gives ``slope * (dTP + intercept * log(P_prev / P_next)) / (TP + FN)``
    with ``TP = slope * P + intercept``.

    Args:
        true_positives, false_positives, false_negatives: counts ``(T,)`` or
            ``(T, L)``, thresholds increasing along axis 0.

    Returns:
        The area, ``()`` or ``(L,)``.
    """
    predicted_positive = true_positives + false_positives
    delta_true_positives = true_positives[:-1] - true_positives[1:]
    delta_predicted = predicted_positive[:-1] - predicted_positive[1:]
    slope = divide_no_nan(delta_true_positives, torch.clamp(delta_predicted, min=0))
    intercept = true_positives[1:] - slope * predicted_positive[1:]
    both_positive = (predicted_positive[:-1] > 0) & (predicted_positive[1:] > 0)
    ratio = torch.where(
        both_positive,
        divide_no_nan(predicted_positive[:-1], torch.clamp(predicted_positive[1:], min=0)),
        torch.ones_like(predicted_positive[1:]),
    )
    increments = divide_no_nan(
        slope * (delta_true_positives + intercept * torch.log(ratio)),
        torch.clamp(true_positives[1:] + false_negatives[1:], min=0),
    )
    return increments.sum(0)


def curve_points(true_positives, false_positives, true_negatives, false_negatives, curve):
    """``(x, y)`` of the curve at every threshold: ROC (FPR, TPR), PR (recall, precision) or PR-gain."""
    recall = divide_no_nan(true_positives, true_positives + false_negatives)
    if curve == "ROC":
        return divide_no_nan(false_positives, false_positives + true_negatives), recall
    if curve == "PR":
        return recall, divide_no_nan(true_positives, true_positives + false_positives)
    # Precision-recall-gain (Flach & Kull, 2015).
    scale = divide_no_nan(true_positives + false_negatives, true_negatives + false_positives)
    no_true_positive = true_positives == 0
    recall_gain = 1.0 - scale * divide_no_nan(false_negatives, true_positives)
    precision_gain = 1.0 - scale * divide_no_nan(false_positives, true_positives)
    recall_gain = torch.clamp(torch.where(no_true_positive, 0.0, recall_gain), min=0.0)
    precision_gain = torch.where(no_true_positive, 1.0, precision_gain)
    return recall_gain, precision_gain


def area_under_curve(true_positives, false_positives, true_negatives, false_negatives, curve, summation_method):
    """The area under ``curve`` from confusion counts at increasing thresholds.

    Args:
        true_positives, false_positives, true_negatives, false_negatives:
            counts ``(T,)`` or ``(T, L)`` (one curve per label).
        curve: ``"ROC"``, ``"PR"`` or ``"PRGAIN"``.
        summation_method: ``"interpolation"`` (trapezoids; for PR, the
            interpolation of ``interpolated_pr_area``), ``"minoring"`` (the
            lower of the two heights) or ``"majoring"`` (the higher).

    Returns:
        The area, ``()`` or ``(L,)``.

    Example:
        >>> tp, fp = torch.tensor([2.0, 1.0, 0.0]), torch.tensor([2.0, 0.0, 0.0])
        >>> tn, fn = torch.tensor([0.0, 2.0, 2.0]), torch.tensor([0.0, 1.0, 2.0])
        >>> float(area_under_curve(tp, fp, tn, fn, "ROC", "interpolation"))
        0.75
    """
    if curve == "PR" and summation_method == "interpolation":
        return interpolated_pr_area(true_positives, false_positives, false_negatives)
    x, y = curve_points(true_positives, false_positives, true_negatives, false_negatives, curve)
    if summation_method == "interpolation":
        heights = (y[:-1] + y[1:]) / 2.0
    elif summation_method == "minoring":
        heights = torch.minimum(y[:-1], y[1:])
    else:
        heights = torch.maximum(y[:-1], y[1:])
    return ((x[:-1] - x[1:]) * heights).sum(0)


def _parse_choice(value, choices, argument, expected):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"AUC: invalid `{argument}`={value!r}. Expected one of {expected}.")
    return choices[value]


def _parse_label_weights(label_weights, num_labels):
    if label_weights is None:
        return None
    values = np.asarray(label_weights.detach().cpu() if isinstance(label_weights, torch.Tensor) else label_weights)
    if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.number):
        raise ValueError(
            f"AUC: `label_weights` must be a non-empty 1-D list of numbers (one per label), got {label_weights!r}."
        )
    if (values < 0).any():
        raise ValueError(f"AUC: `label_weights` must be non-negative, got {values.tolist()}.")
    if num_labels is not None and values.size != num_labels:
        raise ValueError(
            f"AUC: `label_weights` has {values.size} entries but num_labels={num_labels}; give one weight per label."
        )
    return [float(v) for v in values]


class AUC(Metric):
    """Area under the ROC or precision-recall curve (AUC), approximated by a Riemann sum.

    The counts of true/false positives/negatives are kept at
    ``num_thresholds`` thresholds; each threshold gives one point of the
    curve, and the area is summed over the intervals between points.

    Args:
        num_thresholds: number of thresholds (> 1), evenly spaced on
            ``[0, 1]``. Defaults to 200. Ignored when ``thresholds`` is given.
        curve: ``"ROC"`` (default; true vs. false positive rate), ``"PR"``
            (precision vs. recall) or ``"PRGAIN"`` (precision-recall gain).
        summation_method: ``"interpolation"`` (default), ``"minoring"`` or
            ``"majoring"``; see ``area_under_curve``.
        name: defaults to ``"auc"``.
        dtype: see ``Metric``.
        thresholds: optional list of thresholds in ``[0, 1]`` to use instead
            of ``num_thresholds`` evenly spaced ones (two more, just below 0
            and just above 1, are added; ``num_thresholds`` becomes
            ``len(thresholds) + 2``).
        multi_label: with ``(N, L)`` inputs, compute one curve per label and
            average the areas (weighted by ``label_weights``); otherwise every
            entry is one sample of a single curve.
        num_labels: the number of labels ``L`` with ``multi_label``; if not
            given, it is read from the first batch.
        label_weights: optional non-negative weight per label: the weights of
            the label-wise average with ``multi_label``, otherwise weights of
            every entry of the label's column.
        from_logits: whether ``y_pred`` holds logits (a sigmoid is applied).

    Example:
        >>> metric = AUC(num_thresholds=3)
        >>> metric.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> float(metric.result())
        0.75
    """

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        super().__init__(name=name, dtype=dtype)
        self.curve = _parse_choice(curve, _CURVES, "curve", '"ROC", "PR" or "PRGAIN"')
        self.summation_method = _parse_choice(
            summation_method, _SUMMATION_METHODS, "summation_method", '"interpolation", "minoring" or "majoring"'
        )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, None, "AUC"))
            self.num_thresholds = len(inner) + 2
            self._evenly_spaced = is_evenly_spaced([0.0] + inner + [1.0])
        else:
            self.num_thresholds = check_integer(num_thresholds, "num_thresholds", "AUC", 2)
            inner = evenly_spaced_thresholds(self.num_thresholds)[1:-1]
            self._evenly_spaced = True
        self._thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self._threshold_tensor = torch.tensor(self._thresholds, dtype=to_torch_dtype(self.dtype))
        self.multi_label = bool(multi_label)
        if num_labels is not None and not self.multi_label:
            raise ValueError(
                "AUC: `num_labels` is needed only when `multi_label=True`; drop it or set multi_label=True."
            )
        self.num_labels = check_integer(num_labels, "num_labels", "AUC", 1, allow_none=True)
        self.label_weights = _parse_label_weights(label_weights, self.num_labels)
        self._label_weight_tensor = (
            None if self.label_weights is None else torch.tensor(self.label_weights, dtype=to_torch_dtype(self.dtype))
        )
        self._from_logits = bool(from_logits)
        self._built = False
        if not self.multi_label:
            self._build(None)
        elif self.num_labels:
            self._build((None, self.num_labels))

    @property
    def thresholds(self):
        """Every threshold, including the two just outside ``[0, 1]``."""
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    f"AUC with multi_label=True needs y_pred of shape (num_samples, num_labels); got shape "
                    f"{tuple(shape)} (rank {len(shape)})."
                )
            self._num_labels = int(shape[1])
            if self.label_weights is not None and len(self.label_weights) != self._num_labels:
                raise ValueError(
                    f"AUC: `label_weights` has {len(self.label_weights)} entries but y_pred has "
                    f"{self._num_labels} labels (shape {tuple(shape)})."
                )
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        for count in _COUNTS:
            setattr(self, count, self.add_weight(name=count, shape=variable_shape))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch's confusion counts at every threshold.

        Args:
            y_true: labels (non-zero means positive), same shape as ``y_pred``.
            y_pred: scores in ``[0, 1]`` (logits with ``from_logits=True``).
            sample_weight: optional weights, one per sample ``(N,)`` or
                broadcastable to ``y_pred``.
        """
        with torch.no_grad():
            y_pred = to_tensor(self._as_input(y_pred), to_torch_dtype(self.dtype))
            if not self._built:
                self._build(tuple(y_pred.shape))
                self.to(y_pred.device)
            if self.multi_label and (y_pred.dim() != 2 or y_pred.shape[1] != self._num_labels):
                raise ValueError(
                    f"AUC with multi_label=True was built for {self._num_labels} labels, got y_pred of shape "
                    f"{tuple(y_pred.shape)}; expected (num_samples, {self._num_labels})."
                )
            if self._from_logits:
                y_pred = torch.sigmoid(y_pred)
            y_true, y_pred, sample_weight = align_confusion_inputs(
                y_true, y_pred, sample_weight, dtype=to_torch_dtype(self.dtype)
            )
            counts = confusion_counts(
                y_true,
                y_pred,
                self._on(y_pred.device, "_threshold_tensor"),
                sample_weight=sample_weight,
                label_weights=None if self.multi_label else self._on(y_pred.device, "_label_weight_tensor"),
                multi_label=self.multi_label,
                evenly_spaced=self._evenly_spaced,
                padded_ends=True,
            )
            for count in _COUNTS:
                getattr(self, count).add_(getattr(counts, count))

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=to_torch_dtype(self.dtype))
        counts = [getattr(self, count).detach() for count in _COUNTS]
        areas = area_under_curve(*counts, self.curve, self.summation_method)
        if not self.multi_label:
            return areas
        if self._label_weight_tensor is None:
            return areas.mean()
        label_weights = self._on(areas.device, "_label_weight_tensor")
        return divide_no_nan((areas * label_weights).sum(), label_weights.sum())

    def to(self, device):
        super().to(device)
        self._threshold_tensor = self._threshold_tensor.to(device)
        if self._label_weight_tensor is not None:
            self._label_weight_tensor = self._label_weight_tensor.to(device)
        return self

    def _on(self, device, attribute):
        """A cached tensor attribute, moved once to ``device`` when needed."""
        tensor = getattr(self, attribute)
        if tensor is not None and tensor.device != device:
            tensor = tensor.to(device)
            setattr(self, attribute, tensor)
        return tensor

    def get_config(self):
        config = {
            "name": self.name,
            "dtype": self.dtype,
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else list(self.label_weights),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config

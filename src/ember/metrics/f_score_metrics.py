"""``FBetaScore`` and ``F1Score``: the weighted harmonic mean of precision and recall, per class or averaged.

Inputs are ``(N, C)``: one-hot (or multi-hot) labels and scores. A score is
a positive prediction when it is above ``threshold``, or, without a
threshold, when it is the row's highest score (and not ~0). The state is the
per-class (or, for ``average="micro"``, total) counts of true positives,
false positives, false negatives and positive labels.
"""

import torch

from ember.backend import to_torch_dtype
from ember.losses._utils import EPSILON, to_tensor
from ember.metrics.confusion_counts import is_real_number
from ember.metrics.metric import Metric

_AVERAGES = (None, "micro", "macro", "weighted")


def f_score_counts(y_true, y_pred, sample_weight=None, threshold=None, micro=False):
    """One batch's weighted ``(true_positives, false_positives, false_negatives, positives)``.

    Args:
        y_true: labels ``(N, C)``, 1 for the positive classes.
        y_pred: scores ``(N, C)``.
        sample_weight: ``None`` or one weight per sample, ``(N,)``.
        threshold: scores above it are positive predictions; ``None`` makes
            the highest score of each row the (only) positive prediction,
            unless it is ~0.
        micro: sum over classes too (scalars); otherwise per class ``(C,)``.
    """
    if threshold is None:
        row_max = torch.amax(y_pred, dim=-1, keepdim=True)
        predicted = (y_pred >= row_max) & (torch.abs(y_pred) > 1e-9)
    else:
        predicted = y_pred > threshold
    predicted = predicted.to(y_pred.dtype)
    y_true = y_true.to(y_pred.dtype)
    dims = (0, 1) if micro else 0

    def weighted_sum(values):
        if sample_weight is not None:
            values = values * sample_weight.unsqueeze(1)
        return values.sum(dims)

    return (
        weighted_sum(predicted * y_true),
        weighted_sum(predicted * (1.0 - y_true)),
        weighted_sum((1.0 - predicted) * y_true),
        weighted_sum(y_true),
    )


def fbeta_from_counts(true_positives, false_positives, false_negatives, positives, beta, average):
    """F-beta from counts: ``(1 + b^2) P R / (b^2 P + R)``, averaged as ``average`` says.

    Small epsilons keep empty classes at 0 instead of NaN (as Keras does).

    Example:
        >>> tp, fp, fn = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
        >>> [round(v, 4) for v in fbeta_from_counts(tp, fp, fn, tp + fn, beta=1.0, average=None).tolist()]
        [0.6667, 0.8]
    """
    precision = true_positives / (true_positives + false_positives + EPSILON)
    recall = true_positives / (true_positives + false_negatives + EPSILON)
    beta_squared = beta**2
    score = (1.0 + beta_squared) * (precision * recall / (beta_squared * precision + recall + EPSILON))
    if average == "weighted":
        return (score * (positives / (positives.sum() + EPSILON))).sum()
    if average is not None:
        return score.mean()
    return score


class FBetaScore(Metric):
    """F-beta score: ``(1 + beta^2) * precision * recall / (beta^2 * precision + recall)``.

    Computed per class from ``(N, C)`` inputs, then averaged: ``None`` keeps
    one score per class, ``"micro"`` pools the counts of all classes,
    ``"macro"`` takes the mean of the class scores and ``"weighted"`` their
    mean weighted by each class's number of positive labels.

    Args:
        average: ``None`` (default), ``"micro"``, ``"macro"`` or ``"weighted"``.
        beta: weight of recall relative to precision, > 0. Defaults to 1.0.
        threshold: scores above it are positive predictions, in ``(0, 1]``;
            ``None`` (default) predicts each row's highest score.
        name: defaults to ``"fbeta_score"``.
        dtype: see ``Metric``.

    Shape:
        ``y_true`` and ``y_pred``: ``(N, C)``; ``sample_weight``: ``(N,)``.

    Example:
        >>> metric = FBetaScore(beta=2.0, threshold=0.5)
        >>> metric.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]], [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
        >>> [round(v, 4) for v in metric.result().tolist()]
        [0.3846, 0.9091, 0.8333]
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        owner = type(self).__name__
        if average not in _AVERAGES:
            raise ValueError(
                f"{owner}: invalid `average`={average!r}. Expected one of None, 'micro', 'macro', 'weighted'."
            )
        if not is_real_number(beta) or not beta > 0:
            raise ValueError(f"{owner}: `beta` must be a number > 0, got beta={beta!r}.")
        if threshold is not None and (not is_real_number(threshold) or not 0.0 < threshold <= 1.0):
            raise ValueError(
                f"{owner}: `threshold` must be None or a number with 0 < threshold <= 1, got threshold={threshold!r}."
            )
        self.average = average
        self.beta = float(beta)
        self.threshold = None if threshold is None else float(threshold)
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2-D inputs of shape (batch_size, num_classes), got "
                f"y_true.shape={tuple(y_true_shape)} and y_pred.shape={tuple(y_pred_shape)}."
            )
        shape = () if self.average == "micro" else (int(y_pred_shape[-1]),)
        self.true_positives = self.add_weight(name="true_positives", shape=shape)
        self.false_positives = self.add_weight(name="false_positives", shape=shape)
        self.false_negatives = self.add_weight(name="false_negatives", shape=shape)
        self.intermediate_weights = self.add_weight(name="intermediate_weights", shape=shape)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch's counts.

        Args:
            y_true: labels ``(N, C)``.
            y_pred: scores ``(N, C)``.
            sample_weight: optional per-sample weights ``(N,)`` (``(N, 1)``
                and scalars are accepted too).
        """
        with torch.no_grad():
            dtype = to_torch_dtype(self.dtype)
            y_pred = to_tensor(self._as_input(y_pred), dtype)
            y_true = to_tensor(y_true, dtype, y_pred.device)
            if not self._built:
                self._build(y_true.shape, y_pred.shape)
                self.to(y_pred.device)
            num_classes = self.true_positives.shape[0] if self.axis == 0 else None
            if y_true.shape != y_pred.shape or (num_classes is not None and y_pred.shape[-1] != num_classes):
                expected = f"(batch_size, {num_classes or 'num_classes'})"
                raise ValueError(
                    f"{type(self).__name__}: y_true and y_pred must both have shape {expected}, got "
                    f"y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}."
                )
            if sample_weight is not None:
                sample_weight = to_tensor(sample_weight, dtype, y_pred.device)
                if sample_weight.dim() == 2 and sample_weight.shape[-1] == 1:
                    sample_weight = sample_weight.squeeze(-1)
                sample_weight = torch.broadcast_to(sample_weight, y_pred.shape[:1])
            counts = f_score_counts(y_true, y_pred, sample_weight, self.threshold, micro=self.axis is None)
            for variable, value in zip(
                (self.true_positives, self.false_positives, self.false_negatives, self.intermediate_weights), counts
            ):
                variable.add_(value)

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=to_torch_dtype(self.dtype))
        return fbeta_from_counts(
            self.true_positives.detach(),
            self.false_positives.detach(),
            self.false_negatives.detach(),
            self.intermediate_weights.detach(),
            self.beta,
            self.average,
        )

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """F1 score, the harmonic mean of precision and recall (``FBetaScore`` with ``beta=1``).

    Args:
        average: ``None`` (default), ``"micro"``, ``"macro"`` or ``"weighted"``.
        threshold: scores above it are positive predictions, in ``(0, 1]``;
            ``None`` (default) predicts each row's highest score.
        name: defaults to ``"f1_score"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = F1Score(threshold=0.5)
        >>> metric.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]], [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
        >>> [round(v, 4) for v in metric.result().tolist()]
        [0.5, 0.8, 0.6667]
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


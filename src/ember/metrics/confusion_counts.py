"""Confusion counts at a set of thresholds: the math shared by the confusion-matrix metrics.

``confusion_counts`` turns one batch of labels and scores into weighted
true/false positive/negative counts at every threshold, as Keras counts them:
a score is a positive prediction at threshold ``t`` when ``score > t``, and a
label is positive when it is non-zero. Everything runs as a few tensor
kernels on the inputs' device: the thresholds are compared in one broadcast
(or, for evenly spaced thresholds, every score is dropped into its bucket
with one ``scatter_add`` and the buckets are summed cumulatively, which costs
``O(N + T)`` instead of ``O(N * T)``); nothing is read back to the host.

The metric classes (``TruePositives``, ``Precision``, ``AUC``, ...) keep the
counts as state and add each batch's counts to it.
"""

from typing import NamedTuple

import numpy as np
import torch

from ember.losses._utils import EPSILON, squeeze_or_expand_to_same_rank, to_tensor

#: Score given to predictions outside the top ``k`` (so they never exceed a threshold).
NEG_INF = -1e10


class ConfusionCounts(NamedTuple):
    """Weighted counts of one batch, each of shape ``(T,)`` (or ``(T, L)`` per label)."""

    true_positives: torch.Tensor
    false_positives: torch.Tensor
    true_negatives: torch.Tensor
    false_negatives: torch.Tensor


# Host-side argument handling (runs once, at construction).


def is_real_number(value):
    """True for ints and floats (Python or NumPy), not bools."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def parse_thresholds(thresholds, default, owner):
    """The thresholds as a list of Python floats, checked to lie in ``[0, 1]``.

    Args:
        thresholds: ``None`` (use ``default``), a number, or a list / tuple /
            1-D array of numbers.
        default: the threshold used when ``thresholds`` is ``None``.
        owner: class name, for error messages.

    Returns:
        A non-empty list of floats.
    """
    if thresholds is None:
        return [float(default)]
    values = [thresholds] if is_real_number(thresholds) else thresholds
    if isinstance(values, np.ndarray):
        values = values.reshape(-1).tolist()
    if not isinstance(values, (list, tuple)) or not values or not all(is_real_number(t) for t in values):
        raise ValueError(
            f"{owner}: `thresholds` must be a number or a non-empty list of numbers in [0, 1], got "
            f"{thresholds!r}. Example: thresholds=[0.3, 0.5, 0.7]."
        )
    values = [float(t) for t in values]
    outside = [t for t in values if not 0.0 <= t <= 1.0]
    if outside:
        raise ValueError(
            f"{owner}: every threshold must be in [0, 1], got {outside} in thresholds={thresholds!r}. "
            "Scores are compared with `score > threshold`; rescale the thresholds to [0, 1]."
        )
    return values


def thresholds_config(thresholds):
    """``thresholds`` as given, made JSON-compatible (a float, a list of floats or ``None``)."""
    if thresholds is None:
        return None
    if is_real_number(thresholds):
        return float(thresholds)
    if isinstance(thresholds, np.ndarray):
        thresholds = thresholds.reshape(-1).tolist()
    return [float(t) for t in thresholds]


def evenly_spaced_thresholds(num_thresholds):
    """``num_thresholds`` thresholds ``i / (num_thresholds - 1)``: ``[0.0, ..., 1.0]``."""
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0] + inner + [1.0]


def is_evenly_spaced(thresholds):
    """True when ``thresholds`` (at least 3) are ``[0, 1/(T-1), ..., 1]`` up to float rounding.

    Such thresholds are counted with buckets instead of a broadcast comparison.
    """
    count = len(thresholds)
    if count < 3:
        return False
    grid = np.arange(count, dtype=np.float32) / (count - 1)
    return bool(np.allclose(thresholds, grid, atol=EPSILON))


def check_integer(value, name, owner, minimum, allow_none=False):
    """Raise unless ``value`` is an int ``>= minimum`` (any int for ``minimum=None``), or ``None`` when allowed."""
    if value is None and allow_none:
        return None
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not is_int or (minimum is not None and value < minimum):
        expected = "an integer" if minimum is None else f"an integer >= {minimum}"
        expected += " or None" if allow_none else ""
        raise ValueError(f"{owner}: `{name}` must be {expected}, got {name}={value!r}.")
    return int(value)


def check_unit_interval(value, name, owner):
    """Raise unless ``value`` is a number in ``[0, 1]``; return it as a float."""
    if not is_real_number(value) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{owner}: `{name}` must be a number in [0, 1], got {name}={value!r}.")
    return float(value)


# Device-side math (runs every batch; no host synchronisation).


def filter_top_k(scores, k):
    """Keep the ``k`` largest scores along the last axis; set the others to ``NEG_INF``.

    Example:
        >>> filter_top_k(torch.tensor([[0.1, 0.7, 0.4]]), 2).tolist()
        [[-10000000000.0, 0.699999988079071, 0.4000000059604645]]
    """
    if k > scores.shape[-1]:
        raise ValueError(
            f"`top_k`={k} is larger than the number of classes in y_pred (last axis of shape "
            f"{tuple(scores.shape)}). Use a top_k <= {scores.shape[-1]}."
        )
    indices = torch.topk(scores, k, dim=-1).indices
    keep = torch.zeros_like(scores).scatter_(-1, indices, 1.0)
    return scores * keep + NEG_INF * (1.0 - keep)


def align_confusion_inputs(y_true, y_pred, sample_weight=None, top_k=None, class_id=None, dtype=torch.float32):
    """Bring labels, scores and weights to the same shape, as Keras does before counting.

    Labels and scores meet at the same rank (a trailing axis of size 1 is
    squeezed or added); a per-sample weight ``(N,)`` gets a trailing axis so
    that it weighs every label of its sample; ``top_k`` keeps the ``k`` best
    scores per sample; ``class_id`` keeps one column.

    Returns:
        ``(y_true, y_pred, sample_weight)``: labels and scores of one shape,
        and the weights broadcast to it (or ``None``).
    """
    y_pred = to_tensor(y_pred, dtype)
    y_true = to_tensor(y_true, dtype, y_pred.device)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, dtype, y_pred.device).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape (up to a trailing axis of size 1), got "
            f"y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}."
        )
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.dim() < 2:
            raise ValueError(
                f"With `class_id`, y_pred must have shape (num_samples, num_classes), got shape "
                f"{tuple(y_pred.shape)}."
            )
        if not -y_pred.shape[-1] <= class_id < y_pred.shape[-1]:
            raise ValueError(
                f"`class_id`={class_id} is out of range for y_pred with {y_pred.shape[-1]} classes "
                f"(shape {tuple(y_pred.shape)})."
            )
        y_true = y_true[..., class_id].unsqueeze(-1)
        y_pred = y_pred[..., class_id].unsqueeze(-1)
    if sample_weight is not None:
        try:
            sample_weight = torch.broadcast_to(sample_weight, y_pred.shape)
        except RuntimeError as error:
            raise ValueError(
                f"sample_weight of shape {tuple(sample_weight.shape)} (after aligning its rank) cannot be "
                f"broadcast to y_pred's shape {tuple(y_pred.shape)}. Pass one weight per sample, shape (N,)."
            ) from error
    return y_true, y_pred, sample_weight


def _reverse_cumsum(values):
    return values.flip(0).cumsum(0).flip(0)


def confusion_counts(
    y_true,
    y_pred,
    thresholds,
    *,
    sample_weight=None,
    label_weights=None,
    multi_label=False,
    evenly_spaced=False,
    padded_ends=False,
):
    """Weighted confusion counts of one batch at every threshold.

    A score counts as a positive prediction at threshold ``t`` when
    ``score > t``; a label is positive when non-zero. Each (label, score)
    pair adds its weight to one of the four counts at each threshold.

    Args:
        y_true: labels, same shape as ``y_pred`` (see ``align_confusion_inputs``).
        y_pred: scores, floating point.
        thresholds: 1-D tensor of ``T`` thresholds on ``y_pred``'s device.
        sample_weight: ``None`` or weights of ``y_pred``'s shape.
        label_weights: ``None`` or a ``(L,)`` tensor weighing the last axis
            (only without ``multi_label``).
        multi_label: count each column of a ``(N, L)`` batch separately,
            giving ``(T, L)`` counts; otherwise every entry is one sample.
        evenly_spaced: the thresholds are ``i / (T - 1)``; scores are then
            counted by bucket, clipped to ``[0, 1]``. Only ``T`` is read from
            ``thresholds``.
        padded_ends: with ``evenly_spaced``, the first threshold lies just
            below 0 and the last just above 1 (as ``AUC``'s do), so a score
            of 0 is above the first threshold.

    Returns:
        A ``ConfusionCounts`` of ``(T,)`` tensors, ``(T, L)`` with ``multi_label``.

    Example:
        >>> counts = confusion_counts(torch.tensor([1.0, 0.0, 1.0]), torch.tensor([0.8, 0.6, 0.2]),
        ...                           torch.tensor([0.5, 0.7]))
        >>> counts.true_positives.tolist(), counts.false_positives.tolist()
        ([1.0, 1.0], [1.0, 0.0])
    """
    dtype = y_pred.dtype
    is_positive = y_true != 0
    weights = sample_weight
    if label_weights is not None:
        label_weights = torch.broadcast_to(label_weights.to(dtype).unsqueeze(0), y_pred.shape)
        weights = label_weights if weights is None else weights * label_weights
    if weights is None:
        positive_weight = is_positive.to(dtype)
        negative_weight = (~is_positive).to(dtype)
    else:
        positive_weight = torch.where(is_positive, weights, 0.0)
        negative_weight = torch.where(is_positive, 0.0, weights)
    if not multi_label:
        y_pred = y_pred.reshape(-1)
        positive_weight = positive_weight.reshape(-1)
        negative_weight = negative_weight.reshape(-1)
    num_thresholds = thresholds.shape[0]
    if evenly_spaced:
        # Scores in (t_{i-1}, t_i] fall in bucket i-1; a score exceeds t_j for every j <= its bucket.
        # Index -1 (a score not above the first threshold) goes to a spare slot that is dropped.
        scores = torch.clamp(y_pred, 0.0, 1.0)
        buckets = torch.ceil(scores * (num_thresholds - 1)) - 1
        if padded_ends:
            buckets = torch.relu(buckets)
        buckets = buckets.to(torch.int64)
        buckets = torch.where(buckets < 0, num_thresholds, buckets)
        shape = (num_thresholds + 1,) + tuple(y_pred.shape[1:])

        def above_threshold(weight):
            per_bucket = torch.zeros(shape, dtype=dtype, device=y_pred.device).scatter_add_(0, buckets, weight)
            return _reverse_cumsum(per_bucket[:-1])

        true_positives = above_threshold(positive_weight)
        false_positives = above_threshold(negative_weight)
        true_negatives = negative_weight.sum(0) - false_positives
        false_negatives = positive_weight.sum(0) - true_positives
    else:
        threshold_shape = (num_thresholds,) + (1,) * y_pred.dim()
        above = y_pred.unsqueeze(0) > thresholds.to(dtype).reshape(threshold_shape)
        above, below = above.to(dtype), (~above).to(dtype)

        def total(mask, weight):
            # (T, M) @ (M,) -> (T,); per label: (T, N, L) x (N, L) -> (T, L).
            return torch.einsum("tnl,nl->tl", mask, weight) if multi_label else mask @ weight

        true_positives = total(above, positive_weight)
        false_positives = total(above, negative_weight)
        true_negatives = total(below, negative_weight)
        false_negatives = total(below, positive_weight)
    return ConfusionCounts(true_positives, false_positives, true_negatives, false_negatives)

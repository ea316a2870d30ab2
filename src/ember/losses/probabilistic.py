"""Crossentropy losses: binary, categorical (one-hot) and sparse (integer labels).

Numerics follow Keras: probabilities are renormalised (categorical) and
clipped to ``[EPSILON, 1 - EPSILON]`` before the log; with
``from_logits=True`` the log-probabilities come from ``log_softmax`` /
``binary_cross_entropy_with_logits``, which are stable for any logit size.
"""

import warnings

import torch
import torch.nn.functional as F

from ember.losses._checks import check_axis as _check_axis
from ember.losses._checks import check_label_smoothing as _check_label_smoothing
from ember.losses._checks import check_same_shape as _check_same_shape
from ember.losses._utils import EPSILON, MASK_ATTRIBUTE, to_tensor
from ember.losses.loss import Loss, LossFunctionWrapper


def _predictions(y_pred):
    y_pred = to_tensor(y_pred)
    return y_pred if y_pred.is_floating_point() else y_pred.float()


def _labels_out_of_range(target, num_classes, ignore_class, axis):
    """The ``ValueError`` for sparse labels outside ``[0, num_classes)`` (reads ``target``'s values)."""
    kept = target if ignore_class is None else target[target != int(ignore_class)]
    low, high = int(kept.min()), int(kept.max())
    ignored = "" if ignore_class is None else f" other than ignore_class={ignore_class!r}"
    return ValueError(
        f"In sparse_categorical_crossentropy, every label{ignored} must be a class index in "
        f"[0, {num_classes - 1}] because y_pred has {num_classes} classes (y_pred.shape[{axis}]), "
        f"got labels ranging from {low} to {high}. Give the output layer one unit per class, "
        "or pass `ignore_class=` for a label value to leave out."
    )


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy, averaged over ``axis``.

    Args:
        y_true: labels in {0, 1} (or soft labels in [0, 1]).
        y_pred: probabilities, or logits when ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; labels become ``y * (1 - s) + 0.5 * s``.
        axis: the axis averaged over.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).tolist()]
        [0.9163, 0.7136]
    """
    _check_axis(axis)
    _check_label_smoothing(label_smoothing)
    y_pred = _predictions(y_pred)
    y_true = to_tensor(y_true, y_pred.dtype, y_pred.device)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    _check_same_shape(y_true, y_pred, "binary_crossentropy", "Give one label per predicted probability.")
    if from_logits:
        elementwise = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        # Written out rather than F.binary_cross_entropy, which autocast refuses to run.
        y_pred = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
        elementwise = -(y_true * torch.log(y_pred) + (1.0 - y_true) * torch.log(1.0 - y_pred))
    return torch.mean(elementwise, dim=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Crossentropy between one-hot (or soft) labels and class probabilities.

    Args:
        y_true: one-hot labels, same shape as ``y_pred``.
        y_pred: class probabilities (renormalised to sum to 1 along ``axis``),
            or logits when ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; labels become ``y * (1 - s) + s / C``.
        axis: the class axis.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., C)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in categorical_crossentropy([[0, 1, 0], [0, 0, 1]],
        ...                                                 [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).tolist()]
        [0.0513, 2.3026]
    """
    _check_axis(axis)
    _check_label_smoothing(label_smoothing)
    y_pred = _predictions(y_pred)
    y_true = to_tensor(y_true, y_pred.dtype, y_pred.device)
    if y_pred.dim() < 1:
        raise ValueError("In categorical_crossentropy, `y_pred` must have a class axis; got a scalar.")
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"In categorical_crossentropy, expected y_pred.shape to be (batch_size, num_classes) with "
            f"num_classes > 1, got y_pred.shape={tuple(y_pred.shape)}: the loss is always 0. Use "
            "binary_crossentropy for two classes.",
            UserWarning,
            stacklevel=2,
        )
    _check_same_shape(
        y_true, y_pred, "categorical_crossentropy", "For integer labels use sparse_categorical_crossentropy."
    )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        log_probabilities = F.log_softmax(y_pred, dim=axis)
    else:
        y_pred = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_probabilities = torch.log(torch.clamp(y_pred, EPSILON, 1.0 - EPSILON))
    return -torch.sum(y_true * log_probabilities, dim=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy between integer class labels and class probabilities.

    Args:
        y_true: class indices (integer or float), shape ``y_pred.shape``
            without the class axis, or with it of size 1.
        y_pred: class probabilities (renormalised along ``axis``), or logits
            when ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value whose entries get loss 0 and are left out
            of the average (e.g. a "void" class in segmentation); the result
            carries the boolean mask of kept entries.
        axis: the class axis.

    Shape:
        ``y_true``: ``(N, ...)`` or ``(N, ..., 1)``; ``y_pred``: ``(N, ..., C)``;
        result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in sparse_categorical_crossentropy([1, 2],
        ...                                                        [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).tolist()]
        [0.0513, 2.3026]
    """
    _check_axis(axis)
    y_pred = _predictions(y_pred)
    y_true = to_tensor(y_true, device=y_pred.device)
    if y_pred.dim() < 1:
        raise ValueError("In sparse_categorical_crossentropy, `y_pred` must have a class axis; got a scalar.")
    if y_true.dim() == y_pred.dim() and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    class_axis = axis % y_pred.dim()
    expected = tuple(size for i, size in enumerate(y_pred.shape) if i != class_axis)
    if tuple(y_true.shape) != expected:
        raise ValueError(
            f"In sparse_categorical_crossentropy, `y_true` must hold one class index per prediction: "
            f"expected shape {expected} (or {expected + (1,)}) for y_pred.shape={tuple(y_pred.shape)}, "
            f"got y_true.shape={tuple(y_true.shape)}. For one-hot labels use categorical_crossentropy."
        )
    target = y_true if y_true.dtype == torch.long else y_true.long()
    ignore_index = -100 if ignore_class is None else int(ignore_class)
    # F.cross_entropy / F.nll_loss want the class axis at position 1 (and a batch axis).
    if y_pred.dim() == 1:
        scores, target = y_pred.unsqueeze(0), target.unsqueeze(0)
    else:
        scores = y_pred if class_axis == 1 else y_pred.movedim(class_axis, 1)
    # Out-of-range labels: the CPU kernels bounds-check every target and raise IndexError, which
    # is turned into a clear ValueError here; the happy path pays nothing. No check of our own is
    # made, because on an accelerator reading the labels' range back would stall every step; there
    # the kernels' own device-side assertion reports a bad label instead.
    try:
        if from_logits:
            losses = F.cross_entropy(scores, target, reduction="none", ignore_index=ignore_index)
        else:
            scores = scores / torch.sum(scores, dim=1, keepdim=True)
            log_probabilities = torch.log(torch.clamp(scores, EPSILON, 1.0 - EPSILON))
            losses = F.nll_loss(log_probabilities, target, reduction="none", ignore_index=ignore_index)
    except IndexError as error:
        if target.device.type != "cpu" or "out of bounds" not in str(error):
            raise
        raise _labels_out_of_range(target, scores.shape[1], ignore_class, axis) from error
    if y_pred.dim() == 1:
        losses = losses.squeeze(0)
    if ignore_class is not None:
        setattr(losses, MASK_ATTRIBUTE, y_true != ignore_class)
    return losses


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary crossentropy between labels in {0, 1} and predicted probabilities.

    Args:
        from_logits: whether predictions are logits (recommended: it is more
            stable) rather than probabilities.
        label_smoothing: in [0, 1]; squeezes labels towards 0.5.
        axis: the axis averaged over. Defaults to -1.
        reduction: see ``Loss``.
        name: defaults to ``"binary_crossentropy"``.
        dtype: see ``Loss``.

    Example:
        >>> loss = BinaryCrossentropy(from_logits=True)
        >>> round(float(loss([[0.0], [1.0]], [[-18.6], [0.51]])), 4)
        0.2352
    """

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        _check_axis(axis)
        _check_label_smoothing(label_smoothing)
        super().__init__(
            binary_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config.update(from_logits=self.from_logits, label_smoothing=self.label_smoothing, axis=self.axis)
        return config


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between one-hot labels and predicted class probabilities.

    Args:
        from_logits: whether predictions are logits rather than probabilities.
        label_smoothing: in [0, 1]; labels become ``y * (1 - s) + s / C``.
        axis: the class axis. Defaults to -1.
        reduction: see ``Loss``.
        name: defaults to ``"categorical_crossentropy"``.
        dtype: see ``Loss``.

    Example:
        >>> loss = CategoricalCrossentropy()
        >>> round(float(loss([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 3)
        1.177
    """

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        _check_axis(axis)
        _check_label_smoothing(label_smoothing)
        super().__init__(
            categorical_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config.update(from_logits=self.from_logits, label_smoothing=self.label_smoothing, axis=self.axis)
        return config


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between integer class labels and predicted class probabilities.

    With ``ignore_class`` set, entries labelled with it get loss 0 and
    ``"sum_over_batch_size"`` averages over the other entries only.

    Args:
        from_logits: whether predictions are logits rather than probabilities.
        ignore_class: optional label value to leave out (e.g. -1 or 255).
        reduction: see ``Loss``.
        axis: the class axis. Defaults to -1.
        name: defaults to ``"sparse_categorical_crossentropy"``.
        dtype: see ``Loss``.

    Example:
        >>> loss = SparseCategoricalCrossentropy()
        >>> round(float(loss([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 3)
        1.177
    """

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        _check_axis(axis)
        super().__init__(
            sparse_categorical_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config.update(from_logits=self.from_logits, ignore_class=self.ignore_class, axis=self.axis)
        return config

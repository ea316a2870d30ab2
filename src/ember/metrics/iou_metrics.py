"""Intersection-over-Union metrics for segmentation and classification.

Every metric of the family accumulates one ``(num_classes, num_classes)``
confusion matrix (rows: true class, columns: predicted class) on the device,
adding each batch with a single scatter-add, and computes
``IoU = TP / (TP + FP + FN)`` per class from it in ``result()``. Classes
that never occur (neither true nor predicted) are left out of the mean.

The state is an ``int32`` matrix by default, as in Keras, so fractional
sample weights are truncated (a warning says so); pass ``dtype="float32"``
for fractional weights.
"""

import warnings

import torch

from ember.backend import to_torch_dtype
from ember.backend.naming import unique_name
from ember.losses._utils import EPSILON, to_snake_case, to_tensor
from ember.metrics.metric import Metric


def confusion_matrix(labels, predictions, num_classes, weights=None, dtype=torch.int32):
    """The ``(num_classes, num_classes)`` confusion matrix of one batch, built with one scatter-add.

    ``matrix[i, j]`` sums the weights of the entries whose label is ``i`` and
    prediction ``j``. Entries whose label or prediction lies outside
    ``[0, num_classes)`` are dropped.

    Args:
        labels: 1-D class ids.
        predictions: 1-D class ids, same length.
        num_classes: size of the matrix.
        weights: optional 1-D weights (1 per entry when ``None``).
        dtype: dtype of the matrix.

    Example:
        >>> confusion_matrix(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 0, 5]), 3).tolist()
        [[1, 0, 0], [1, 1, 0], [0, 0, 0]]
    """
    dtype = to_torch_dtype(dtype)
    valid = (labels >= 0) & (labels < num_classes) & (predictions >= 0) & (predictions < num_classes)
    if weights is None:
        weights = valid.to(dtype)
    else:
        weights = torch.where(valid, weights.to(dtype), torch.zeros((), dtype=dtype, device=labels.device))
    cells = torch.where(valid, labels.long() * num_classes + predictions.long(), 0)
    counts = torch.zeros(num_classes * num_classes, dtype=dtype, device=labels.device)
    return counts.index_add_(0, cells, weights).reshape(num_classes, num_classes)


def iou_from_confusion_matrix(matrix, target_class_ids=None):
    """Mean IoU over the target classes that occur in ``matrix``.

    Per class ``IoU = TP / (TP + FP + FN + 1e-7)``; classes with
    ``TP + FP + FN == 0`` are left out of the mean (0.0 when none is left).

    Args:
        matrix: ``(C, C)`` confusion matrix, rows true, columns predicted.
        target_class_ids: optional 1-D integer tensor of the classes to
            average; all classes when ``None``.

    Returns:
        A float32 scalar.
    """
    predicted = matrix.sum(dim=0).to(torch.float32)
    actual = matrix.sum(dim=1).to(torch.float32)
    true_positives = torch.diagonal(matrix).to(torch.float32)
    union = predicted + actual - true_positives
    if target_class_ids is not None:
        true_positives = true_positives.index_select(0, target_class_ids)
        union = union.index_select(0, target_class_ids)
    present = union > 1e-9
    iou = torch.where(present, true_positives / (union + EPSILON), torch.zeros_like(union))
    return iou.sum() / (present.to(torch.float32).sum() + EPSILON)


def _check_num_classes(num_classes):
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"`num_classes` must be an int >= 1, got num_classes={num_classes!r}.")


def _check_target_class_ids(target_class_ids, num_classes):
    if isinstance(target_class_ids, (str, bytes)) or not hasattr(target_class_ids, "__iter__"):
        raise ValueError(
            f"`target_class_ids` must be a list or tuple of class ids, got {target_class_ids!r}. "
            "For a single class write target_class_ids=[class_id]."
        )
    ids = list(target_class_ids)
    if not ids:
        raise ValueError("`target_class_ids` must name at least one class id, got an empty sequence.")
    for class_id in ids:
        if isinstance(class_id, bool) or not isinstance(class_id, int):
            raise ValueError(f"`target_class_ids` must hold ints, got {class_id!r} in {ids!r}.")
        if not 0 <= class_id < num_classes:
            raise ValueError(
                f"Target class id {class_id} is out of range [0, {num_classes}) (num_classes={num_classes}). "
                "Use ids between 0 and num_classes - 1."
            )
    return ids


class IoU(Metric):
    """Mean Intersection-over-Union of the given target classes.

    ``IoU = TP / (TP + FP + FN)`` per class, from a confusion matrix
    accumulated over every batch since the last reset, averaged over
    ``target_class_ids`` (classes that never occur are left out).

    Args:
        num_classes: number of classes (the confusion matrix is
            ``num_classes x num_classes``).
        target_class_ids: the class ids to average over.
        name: defaults to ``"io_u"`` (made unique: ``"io_u_1"``, ...).
        dtype: dtype of the confusion matrix; ``"int32"`` when ``None``.
        ignore_class: optional label value whose entries are left out (for
            example a "void" class in segmentation).
        sparse_y_true: whether labels are class ids (True) or one-hot /
            scores whose arg-max along ``axis`` is taken (False).
        sparse_y_pred: the same for predictions.
        axis: the class axis for the arg-max. Defaults to -1.

    Shape:
        ``y_true``, ``y_pred``: class ids of any shape with the same number of
        entries (flattened); one axis more for one-hot / scores.
        ``sample_weight``: one weight per entry, or a scalar.

    Example:
        >>> metric = IoU(num_classes=2, target_class_ids=[0])
        >>> metric.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(float(metric.result()), 4)
        0.3333
    """

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        _check_num_classes(num_classes)
        target_class_ids = _check_target_class_ids(target_class_ids, num_classes)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"`axis` must be an int, got axis={axis!r} of type {type(axis).__name__}.")
        super().__init__(name=name or unique_name(to_snake_case(type(self).__name__)), dtype=dtype or "int32")
        self.num_classes = num_classes
        self.target_class_ids = target_class_ids
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_weight(name="total_confusion_matrix", shape=(num_classes, num_classes))
        # Made once on the host; it follows the state's device (see `result`).
        self._target_index = torch.tensor(target_class_ids, dtype=torch.long)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch of (label, prediction) pairs to the confusion matrix."""
        with torch.no_grad():
            y_pred = self._as_input(y_pred)
            y_pred = to_tensor(y_pred, device=self._state_device())
            y_true = to_tensor(y_true, device=y_pred.device)
            if not self.sparse_y_true:
                y_true = torch.argmax(y_true, dim=self.axis)
            if not self.sparse_y_pred:
                y_pred = torch.argmax(y_pred, dim=self.axis)
            dtype = to_torch_dtype(self.dtype)
            y_true = y_true.to(dtype).reshape(-1)
            y_pred = y_pred.to(dtype).reshape(-1)
            if y_true.shape != y_pred.shape:
                raise ValueError(
                    f"{type(self).__name__} needs as many labels as predictions, got {y_true.shape[0]} labels "
                    f"and {y_pred.shape[0]} predictions (after flattening{self._argmax_note()})."
                )
            weights = None
            if sample_weight is not None:
                self._warn_if_truncated(sample_weight)
                weights = to_tensor(sample_weight, dtype, y_pred.device).reshape(-1)
                if weights.shape[0] not in (1, y_true.shape[0]):
                    raise ValueError(
                        f"`sample_weight` must hold one weight per entry ({y_true.shape[0]}) or be a scalar, "
                        f"got {weights.shape[0]} weights."
                    )
                weights = torch.broadcast_to(weights, y_true.shape)
            if self.ignore_class is not None:
                kept = y_true != self.ignore_class
                weights = kept.to(dtype) if weights is None else torch.where(kept, weights, 0)
            self.total_cm.add_(confusion_matrix(y_true, y_pred, self.num_classes, weights, dtype))

    def result(self):
        if self._target_index.device != self.total_cm.device:
            self._target_index = self._target_index.to(self.total_cm.device)
        return iou_from_confusion_matrix(self.total_cm.detach(), self._target_index)

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "num_classes": self.num_classes,
            "target_class_ids": list(self.target_class_ids),
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }

    def _warn_if_truncated(self, sample_weight):
        weight_dtype = str(getattr(sample_weight, "dtype", ""))
        if "float" in weight_dtype and "int" in self.dtype:
            warnings.warn(
                f"{type(self).__name__} got float sample weights but its state dtype is {self.dtype!r}: the "
                "weights are truncated to integers. Pass integer weights, or dtype='float32'.",
                stacklevel=3,
            )

    def _argmax_note(self):
        if self.sparse_y_true and self.sparse_y_pred:
            return ""
        return f" and the arg-max along axis {self.axis}"


class BinaryIoU(IoU):
    """IoU of a binary task: predictions ``>= threshold`` are class 1, others class 0.

    Args:
        target_class_ids: which of the classes 0 and 1 to average over.
            Defaults to ``(0, 1)``.
        threshold: predictions at or above it count as class 1. Defaults to 0.5.
        name: defaults to ``"binary_io_u"`` (made unique).
        dtype: dtype of the confusion matrix; ``"int32"`` when ``None``.

    Example:
        >>> metric = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        >>> metric.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
        >>> round(float(metric.result()), 4)
        0.3333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Threshold the predictions, then add the batch to the confusion matrix."""
        with torch.no_grad():
            y_pred = to_tensor(self._as_input(y_pred), torch.float32, self._state_device())
            predicted_class = (y_pred >= self.threshold).to(to_torch_dtype(self.dtype))
            super().update_state(y_true, predicted_class, sample_weight=sample_weight)

    def get_config(self):
        return {
            "target_class_ids": list(self.target_class_ids),
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self.dtype,
        }


class MeanIoU(IoU):
    """IoU averaged over every class (those that occur).

    Args:
        num_classes: number of classes.
        name: defaults to ``"mean_io_u"`` (made unique).
        dtype, ignore_class, sparse_y_true, sparse_y_pred, axis: see ``IoU``.

    Example:
        >>> metric = MeanIoU(num_classes=2)
        >>> metric.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(float(metric.result()), 4)
        0.3333
    """

    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1
    ):
        _check_num_classes(num_classes)
        super().__init__(
            num_classes=num_classes,
            target_class_ids=list(range(num_classes)),
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotIoU(IoU):
    """``IoU`` for one-hot labels (and, unless ``sparse_y_pred``, class scores as predictions).

    Args:
        num_classes, target_class_ids: see ``IoU``.
        name: defaults to ``"one_hot_io_u"`` (made unique).
        dtype, ignore_class, axis: see ``IoU``.
        sparse_y_pred: whether predictions are class ids. Defaults to False.

    Example:
        >>> metric = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
        >>> metric.update_state([[0, 0, 1], [1, 0, 0]], [[0.1, 0.2, 0.7], [0.2, 0.7, 0.1]])
        >>> round(float(metric.result()), 4)
        0.5
    """

    def __init__(
        self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1
    ):
        super().__init__(
            num_classes=num_classes,
            target_class_ids=target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "target_class_ids": list(self.target_class_ids),
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels (and, unless ``sparse_y_pred``, class scores as predictions).

    Args:
        num_classes: number of classes.
        name: defaults to ``"one_hot_mean_io_u"`` (made unique).
        dtype, ignore_class, axis: see ``IoU``.
        sparse_y_pred: whether predictions are class ids. Defaults to False.

    Example:
        >>> metric = OneHotMeanIoU(num_classes=3)
        >>> metric.update_state([[0, 0, 1], [1, 0, 0]], [[0.1, 0.2, 0.7], [0.2, 0.7, 0.1]])
        >>> round(float(metric.result()), 4)
        0.3333
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(
            num_classes=num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }

"""Focal crossentropy losses (Lin et al., 2017): binary and categorical.

The crossentropy of each entry is scaled by ``(1 - p_t) ** gamma``, where
``p_t`` is the probability given to the true label, so well-classified
examples count less and training focuses on the hard ones.

With ``from_logits=True`` everything is computed from log-probabilities
(``logsigmoid`` / ``log_softmax``) and ``1 - p_t`` from the complementary
sigmoid (``expm1`` for softmax), which stays exact for any logit size.
Keras instead converts logits to probabilities and clips them to
``[EPSILON, 1 - EPSILON]`` before the log, which loses precision and finally
caps each entry's crossentropy at ``-log(EPSILON)``, about 16.1. The two agree
to about 1e-5 relative while every entry's crossentropy stays below about 8
(``|logit| < 8`` for the binary loss) and part ways beyond that. With
probabilities (``from_logits=False``) the numerics are Keras's: clip, then log.
"""

import torch
import torch.nn.functional as F

from ember.losses._checks import check_axis, check_label_smoothing, check_number, check_same_shape
from ember.losses._utils import EPSILON, squeeze_or_expand_to_same_rank, to_tensor
from ember.losses.loss import Loss, LossFunctionWrapper


def _check_focal_arguments(alpha, gamma, label_smoothing, axis, per_class_alpha=False):
    check_axis(axis)
    check_label_smoothing(label_smoothing)
    check_number("gamma", gamma, low=0)
    if per_class_alpha and isinstance(alpha, torch.Tensor):
        return  # per-class weights already on the device (built by CategoricalFocalCrossentropy)
    if per_class_alpha and isinstance(alpha, (list, tuple)):
        for value in alpha:
            check_number("alpha", value, low=0, high=1)
    else:
        check_number("alpha", alpha, low=0, high=1)


def _pair(y_true, y_pred, loss_name, hint):
    y_pred = to_tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.float()
    y_true = to_tensor(y_true, y_pred.dtype, y_pred.device)
    check_same_shape(y_true, y_pred, loss_name, hint)
    return y_true, y_pred


def _focal_factor(miss_probability, gamma):
    """``miss_probability ** gamma``, with a finite gradient where the miss probability is 0.

    For ``gamma < 1`` the derivative of ``x ** gamma`` is infinite at 0, which
    turns into a NaN gradient for a perfectly classified entry. Flooring at
    the smallest normal float changes the value by less than that float and
    stops the gradient there.
    """
    floor = torch.finfo(miss_probability.dtype).tiny
    return torch.pow(torch.clamp(miss_probability, min=floor), gamma)


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    """Binary focal crossentropy, averaged over ``axis``.

    Each entry's binary crossentropy is multiplied by ``(1 - p_t) ** gamma``
    with ``p_t = y * p + (1 - y) * (1 - p)``, and, when
    ``apply_class_balancing``, by ``alpha`` for positives and ``1 - alpha``
    for negatives.

    Args:
        y_true: labels in {0, 1} (or soft labels in [0, 1]).
        y_pred: probabilities, or logits when ``from_logits=True``.
        apply_class_balancing: whether to weight positives by ``alpha``.
        alpha: weight of the positive class, in [0, 1].
        gamma: focusing exponent, >= 0 (0 gives plain binary crossentropy).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; labels become ``y * (1 - s) + 0.5 * s``.
        axis: the axis averaged over.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in binary_focal_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).tolist()]
        [0.3299, 0.2058]
    """
    _check_focal_arguments(alpha, gamma, label_smoothing, axis)
    y_true, y_pred = _pair(y_true, y_pred, "binary_focal_crossentropy", "Give one label per predicted probability.")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        crossentropy = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
        # 1 - p_t from the complementary sigmoids: exact even when p_t rounds to 1.
        miss_probability = y_true * torch.sigmoid(-y_pred) + (1.0 - y_true) * torch.sigmoid(y_pred)
    else:
        clipped = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
        crossentropy = -(y_true * torch.log(clipped) + (1.0 - y_true) * torch.log(1.0 - clipped))
        miss_probability = 1.0 - (y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred))
    losses = _focal_factor(miss_probability, gamma) * crossentropy
    if apply_class_balancing:
        losses = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * losses
    return torch.mean(losses, dim=axis)


def categorical_focal_crossentropy(
    y_true,
    y_pred,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    """Categorical focal crossentropy, summed over the class axis.

    ``-sum(alpha * (1 - p) ** gamma * y * log(p), axis)`` with ``p`` the
    predicted class probabilities (renormalised and clipped to
    ``[EPSILON, 1 - EPSILON]`` when ``from_logits=False``).

    Args:
        y_true: one-hot (or soft) labels, same shape as ``y_pred``.
        y_pred: class probabilities, or logits when ``from_logits=True``.
        alpha: weight of every class in [0, 1], or a list of one weight per
            class.
        gamma: focusing exponent, >= 0 (0 gives ``alpha`` times categorical
            crossentropy).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; labels become ``y * (1 - s) + s / C``.
        axis: the class axis.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., C)``; result ``(N, ...)``.

    Example:
        >>> [round(v, 4) for v in categorical_focal_crossentropy([[0, 1, 0], [0, 0, 1]],
        ...                                                       [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).tolist()]
        [0.0, 0.4663]
    """
    _check_focal_arguments(alpha, gamma, label_smoothing, axis, per_class_alpha=True)
    y_true, y_pred = _pair(
        y_true, y_pred, "categorical_focal_crossentropy", "For integer labels, one-hot encode them first."
    )
    if y_pred.dim() < 1:
        raise ValueError("In categorical_focal_crossentropy, `y_pred` must have a class axis; got a scalar.")
    num_classes = y_pred.shape[axis]
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        log_probabilities = F.log_softmax(y_pred, dim=axis)
        miss_probability = -torch.expm1(log_probabilities)  # 1 - p, exact when p is close to 1
    else:
        probabilities = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        probabilities = torch.clamp(probabilities, EPSILON, 1.0 - EPSILON)
        log_probabilities = torch.log(probabilities)
        miss_probability = 1.0 - probabilities
    weight = _class_weights(alpha, num_classes, axis, y_pred)
    losses = weight * _focal_factor(miss_probability, gamma) * (-y_true * log_probabilities)
    return torch.sum(losses, dim=axis)


def _class_weights(alpha, num_classes, axis, like):
    """``alpha`` as a number, or a per-class list shaped to broadcast along ``axis``."""
    if not isinstance(alpha, (list, tuple, torch.Tensor)):
        return alpha
    if len(alpha) != num_classes:
        raise ValueError(
            f"In categorical_focal_crossentropy, a per-class `alpha` needs one value per class: "
            f"got {len(alpha)} values for {num_classes} classes (y_pred.shape[{axis}])."
        )
    shape = [1] * like.dim()
    shape[axis] = num_classes
    if not isinstance(alpha, torch.Tensor):
        alpha = torch.tensor(alpha, dtype=like.dtype).to(like.device)
    return alpha.to(like.dtype).reshape(shape)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal crossentropy for binary (or multi-label) classification.

    Args:
        apply_class_balancing: whether to weight positives by ``alpha`` and
            negatives by ``1 - alpha``. Defaults to False.
        alpha: weight of the positive class when balancing, in [0, 1].
            Defaults to 0.25.
        gamma: focusing exponent, >= 0. Defaults to 2.0.
        from_logits: whether predictions are logits rather than probabilities.
        label_smoothing: in [0, 1]; squeezes labels towards 0.5.
        axis: the axis averaged over. Defaults to -1.
        reduction: see ``Loss``.
        name: defaults to ``"binary_focal_crossentropy"``.
        dtype: see ``Loss``.

    Example:
        >>> loss = BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
        >>> round(float(loss([[0.0, 1.0], [0.0, 0.0]], [[-0.6, 0.3], [-0.9, 0.4]])), 4)
        0.1278
    """

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        _check_focal_arguments(alpha, gamma, label_smoothing, axis)
        super().__init__(
            binary_focal_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        config = Loss.get_config(self)
        config.update(
            from_logits=self.from_logits,
            label_smoothing=self.label_smoothing,
            axis=self.axis,
            apply_class_balancing=self.apply_class_balancing,
            alpha=self.alpha,
            gamma=self.gamma,
        )
        return config


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Focal crossentropy between one-hot labels and predicted class probabilities.

    Args:
        alpha: weight of every class in [0, 1], or a list with one weight per
            class. Defaults to 0.25.
        gamma: focusing exponent, >= 0. Defaults to 2.0.
        from_logits: whether predictions are logits rather than probabilities.
        label_smoothing: in [0, 1]; labels become ``y * (1 - s) + s / C``.
        axis: the class axis. Defaults to -1.
        reduction: see ``Loss``.
        name: defaults to ``"categorical_focal_crossentropy"``.
        dtype: see ``Loss``.

    Example:
        >>> loss = CategoricalFocalCrossentropy()
        >>> round(float(loss([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 4)
        0.2332
    """

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        _check_focal_arguments(alpha, gamma, label_smoothing, axis, per_class_alpha=True)
        if isinstance(alpha, tuple):
            alpha = list(alpha)
        super().__init__(
            categorical_focal_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        # Per-class weights as a tensor per (device, dtype), built on first use: uploading the
        # list on every step would make each step wait for the copy.
        self._alpha_tensors = {}

    def call(self, y_true, y_pred):
        if not isinstance(self.alpha, list):
            return super().call(y_true, y_pred)
        key = (y_pred.device, y_pred.dtype)
        alpha = self._alpha_tensors.get(key)
        if alpha is None:
            alpha = self._alpha_tensors[key] = torch.tensor(self.alpha, dtype=y_pred.dtype, device=y_pred.device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **{**self._fn_kwargs, "alpha": alpha})

    def get_config(self):
        config = Loss.get_config(self)
        config.update(
            from_logits=self.from_logits,
            label_smoothing=self.label_smoothing,
            axis=self.axis,
            alpha=self.alpha,
            gamma=self.gamma,
        )
        return config

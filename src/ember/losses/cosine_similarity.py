"""Cosine similarity loss: the negated cosine of the angle between targets and predictions."""

import torch
import torch.nn.functional as F

from ember.losses._checks import check_axis
from ember.losses._utils import EPSILON, float_pair
from ember.losses.loss import Loss, LossFunctionWrapper


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negated cosine similarity along ``axis``: -1 for parallel vectors, 1 for opposite ones.

    Both inputs are L2-normalised along ``axis`` as ``x / max(norm(x), EPSILON)``,
    so a zero vector gives 0 rather than NaN.

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
        axis: the axis holding the vectors. Defaults to -1.

    Shape:
        ``y_true``, ``y_pred``: ``(N, ..., D)``; result ``(N, ...)``
        (``axis`` removed).

    Example:
        >>> [round(v, 4) for v in cosine_similarity([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]).tolist()]
        [-0.0, -1.0]
    """
    check_axis(axis)
    y_true, y_pred = float_pair(y_true, y_pred)
    y_true = F.normalize(y_true, p=2.0, dim=axis, eps=EPSILON)
    y_pred = F.normalize(y_pred, p=2.0, dim=axis, eps=EPSILON)
    return -torch.sum(y_true * y_pred, dim=axis)


class CosineSimilarity(LossFunctionWrapper):
    """Negated cosine similarity between targets and predictions.

    The loss is in [-1, 1]; minimising it drives predictions to point the
    same way as the targets (their length does not matter). Where either
    vector is zero the loss is 0.

    Args:
        axis: the axis holding the vectors. Defaults to -1.
        reduction: see ``Loss``.
        name: defaults to ``"cosine_similarity"``.
        dtype: see ``Loss``.

    Example:
        >>> round(float(CosineSimilarity()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])), 4)
        -0.5
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        check_axis(axis)
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        # Keras leaves `axis` out of the config; keeping it makes a round trip exact.
        config = Loss.get_config(self)
        config["axis"] = self.axis
        return config

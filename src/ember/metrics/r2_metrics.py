"""``R2Score``: the coefficient of determination, accumulated over batches.

The state holds, per output column, the weighted sums of ``y``, ``y^2`` and the
squared residuals plus the sum of weights; ``result()`` turns them into
``1 - SS_res / SS_tot`` without revisiting any batch.
"""

import warnings

import torch

from ember.losses._utils import squeeze_or_expand_to_same_rank, to_tensor
from ember.metrics.metric import Metric

_CLASS_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


def r2_from_sums(sum_y, sum_y2, sum_residual2, count, class_aggregation="uniform_average"):
    """R^2 per column from weighted sums, then aggregated across columns.

    A column whose targets are constant (``SS_tot == 0``) with a non-zero
    residual scores 0, as in Keras (an exact fit there gives NaN).

    Args:
        sum_y, sum_y2, sum_residual2, count: ``(C,)`` tensors: ``sum(w * y)``,
            ``sum(w * y^2)``, ``sum(w * (y - y_hat)^2)`` and ``sum(w)``.
        class_aggregation: ``"uniform_average"`` (mean over columns),
            ``"variance_weighted_average"`` (weighted by each column's
            ``SS_tot``) or ``None`` (one score per column).

    Returns:
        A scalar, or ``(C,)`` scores when ``class_aggregation`` is ``None``.
    """
    mean = sum_y / count
    total = sum_y2 - sum_y * mean
    scores = 1 - sum_residual2 / total
    scores = torch.where(torch.isinf(scores), torch.zeros_like(scores), scores)
    if class_aggregation == "uniform_average":
        return torch.mean(scores)
    if class_aggregation == "variance_weighted_average":
        return torch.sum(total * scores) / torch.sum(total)
    return scores


class R2Score(Metric):
    """Coefficient of determination ``R^2 = 1 - SS_res / SS_tot`` of a regression.

    Inputs are 2-D, ``(batch_size, output_dim)``; each output column gets its
    own score, and ``class_aggregation`` combines them. With
    ``num_regressors = p > 0`` the adjusted score
    ``1 - (1 - R^2) * (n - 1) / (n - p - 1)`` is returned, where ``n`` counts
    every value seen (samples x columns, as Keras counts); when
    ``p >= n - 1`` the plain score is returned with a warning.

    The column state is created on the first update, sized to its columns.

    Args:
        class_aggregation: ``"uniform_average"`` (default),
            ``"variance_weighted_average"`` or ``None`` (one score per column).
        num_regressors: number of independent regressors ``p`` for the
            adjusted score; ``0`` (default) for the plain score.
        name: defaults to ``"r2_score"``.
        dtype: see ``Metric``.

    Shape:
        ``y_true``, ``y_pred``: ``(N, C)`` (or ``(N,)`` with ``(N, 1)``);
        ``sample_weight``: ``(N,)``, ``(N, 1)`` or ``(N, C)``.

    Example:
        >>> metric = R2Score()
        >>> metric.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
        >>> round(float(metric.result()), 4)
        0.5714
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        if class_aggregation not in _CLASS_AGGREGATIONS:
            raise ValueError(
                f"`class_aggregation` must be one of {_CLASS_AGGREGATIONS}, got "
                f"class_aggregation={class_aggregation!r}."
            )
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError(
                f"`num_regressors` must be an int >= 0 (the number of independent variables of the model), "
                f"got num_regressors={num_regressors!r}."
            )
        super().__init__(name=name, dtype=dtype)
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_weight(name="num_samples", shape=(), initializer="zeros")
        # The same count on the host (it only depends on shapes), so that `result` can decide
        # whether the adjusted score is defined without reading the device.
        self._host_num_samples = 0
        self._built = False

    def _build(self, y_true, y_pred):
        if y_pred.dim() != 2 or y_true.dim() != 2:
            raise ValueError(
                "R2Score expects 2-D inputs of shape (batch_size, output_dim), got "
                f"y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}. Reshape them "
                "to (batch_size, output_dim)."
            )
        num_columns = y_pred.shape[-1]
        self.squared_sum = self.add_weight(name="squared_sum", shape=(num_columns,))
        self.sum = self.add_weight(name="sum", shape=(num_columns,))
        self.total_mse = self.add_weight(name="residual", shape=(num_columns,))
        self.count = self.add_weight(name="count", shape=(num_columns,))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch's weighted sums of targets, squared targets and squared residuals."""
        with torch.no_grad():
            y_pred = to_tensor(self._as_input(y_pred), self.dtype)
            y_true = to_tensor(y_true, self.dtype, y_pred.device)
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            if not self._built:
                self._build(y_true, y_pred)
            if y_true.shape != y_pred.shape or y_pred.shape[-1] != self.sum.shape[0]:
                raise ValueError(
                    f"R2Score expects y_true and y_pred of shape (batch_size, {self.sum.shape[0]}), got "
                    f"y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}."
                )
            if sample_weight is None:
                weight = torch.ones_like(y_true)
            else:
                weight = to_tensor(sample_weight, self.dtype, y_pred.device)
                if weight.dim() == 1:
                    weight = weight.unsqueeze(1)
                weight = torch.broadcast_to(weight, y_true.shape)
            weighted_y = y_true * weight
            self.sum.add_(weighted_y.sum(dim=0))
            self.squared_sum.add_((y_true * weighted_y).sum(dim=0))
            self.total_mse.add_((torch.square(y_true - y_pred) * weight).sum(dim=0))
            self.count.add_(weight.sum(dim=0))
            self.num_samples.add_(y_true.numel())
            self._host_num_samples += y_true.numel()

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self.num_samples.dtype, device=self.num_samples.device)
        score = r2_from_sums(
            self.sum.detach(),
            self.squared_sum.detach(),
            self.total_mse.detach(),
            self.count.detach(),
            self.class_aggregation,
        )
        p = self.num_regressors
        if p == 0:
            return score
        if p > self._host_num_samples - 1:
            warnings.warn(
                f"R2Score: num_regressors={p} is more than the number of values seen minus one "
                f"({self._host_num_samples} - 1); the adjusted score is undefined, returning the plain R2 score.",
                stacklevel=2,
            )
            return score
        if p == self._host_num_samples - 1:
            warnings.warn(
                f"R2Score: num_regressors={p} equals the number of values seen minus one, which makes the "
                "adjusted score divide by zero; returning the plain R2 score.",
                stacklevel=2,
            )
            return score
        n = self.num_samples.detach()
        return 1 - (1 - score) * (n - 1) / (n - p - 1)

    def reset_state(self):
        super().reset_state()
        self._host_num_samples = 0

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }

"""``OrthogonalRegularizer`` and its pure function."""

import torch
import torch.nn.functional as F

from ember.regularizers._validation import check_non_negative_float
from ember.regularizers.base import Regularizer, as_tensor

__all__ = ["OrthogonalRegularizer", "orthogonal_penalty"]

MODES = ("rows", "columns")

# Norms below this are clamped before dividing (Keras's backend epsilon), so a
# zero row normalizes to zero instead of NaN.
_NORM_EPSILON = 1e-7


def orthogonal_penalty(x, factor, mode="rows"):
    """Mean absolute cosine similarity between the rows (or columns) of a matrix, times ``factor``.

    Each row (``mode="rows"``) or column (``mode="columns"``) is scaled to unit
    L2 norm; the penalty is ``factor`` times the mean of ``|v_i . v_j|`` over
    all pairs ``i < j``.

    Args:
        x: A 2-D tensor with at least two rows (or columns).
        factor: Non-negative multiplier.
        mode: ``"rows"`` or ``"columns"``.

    Returns:
        A 0-d tensor.

    Example:
        >>> round(float(orthogonal_penalty(torch.tensor([[1.0, 0.0], [1.0, 1.0]]), 1.0)), 6)
        0.707107
    """
    if mode == "columns":
        x = x.T
    vectors = F.normalize(x, p=2.0, dim=1, eps=_NORM_EPSILON)
    count = vectors.shape[0]
    similarities = torch.abs(vectors @ vectors.T)
    off_diagonal = similarities.sum() - torch.diagonal(similarities).sum()
    # Each pair appears twice in the symmetric product.
    return factor * (0.5 * off_diagonal) / (count * (count - 1) / 2)


class OrthogonalRegularizer(Regularizer):
    """Encourages the rows (or columns) of a 2-D weight to be mutually orthogonal.

    The penalty is ``factor`` times the mean absolute cosine similarity over
    all pairs of rows (``mode="rows"``) or columns (``mode="columns"``). For a
    Dense kernel ``(input_dim, units)``, ``"columns"`` compares the output
    units' weight vectors.

    Args:
        factor: Non-negative multiplier (``None`` means the default, 0.01).
        mode: ``"rows"`` or ``"columns"``.

    Raises:
        ValueError: when called on a tensor that is not 2-D, or with fewer
            than two rows (columns), for which the mean over pairs is undefined.

    Example:
        >>> reg = OrthogonalRegularizer(factor=1.0, mode="columns")
        >>> float(reg(torch.eye(3)))
        0.0
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = check_non_negative_float(factor, "factor", "OrthogonalRegularizer", default=0.01)
        if mode not in MODES:
            raise ValueError(f"OrthogonalRegularizer argument `mode` must be one of {MODES}, got mode={mode!r}.")
        self.mode = mode

    def __call__(self, x):
        x = as_tensor(x)
        if x.ndim != 2:
            raise ValueError(
                f"OrthogonalRegularizer needs a 2-D tensor, got shape {tuple(x.shape)}. Use it on Dense "
                "kernels (input_dim, units), not on biases or convolution kernels."
            )
        axis = 0 if self.mode == "rows" else 1
        if x.shape[axis] < 2:
            raise ValueError(
                f"OrthogonalRegularizer(mode={self.mode!r}) needs at least 2 {self.mode} to compare, got a "
                f"tensor of shape {tuple(x.shape)}. Use the other mode, or no orthogonal regularizer here."
            )
        return orthogonal_penalty(x, self.factor, self.mode)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}

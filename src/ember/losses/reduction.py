"""How per-sample losses become one number: sample weights, masks, reductions.

Pure functions used by ``Loss.__call__`` (and by metrics for masks). They
follow Keras's rules:

* ``sample_weight`` is first brought to the loss tensor's rank with
  ``squeeze_or_expand_to_same_rank`` (``(N, 1)`` weights meet ``(N,)`` losses),
  then multiplies the losses elementwise.
* ``"sum_over_batch_size"`` (and its synonym ``"mean"``) divides the weighted
  sum by the *number of loss elements*, not by the sum of the weights;
  ``"mean_with_sample_weight"`` divides by the sum of the weights; ``"sum"``
  sums; ``"none"`` / ``None`` return the weighted per-sample losses.
* A scalar loss (or an empty one) is returned as it is.
"""

import torch

from ember.losses._utils import divide_no_nan, squeeze_or_expand_to_same_rank, to_tensor

#: Every accepted value of a loss's ``reduction`` argument.
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def standardize_reduction(reduction):
    """Return ``reduction`` if it is one of ``REDUCTIONS``, else raise ``ValueError``."""
    if reduction is not None and (not isinstance(reduction, str) or reduction not in REDUCTIONS):
        raise ValueError(
            f"Invalid value for argument `reduction`: expected one of {list(REDUCTIONS)}, "
            f"got reduction={reduction!r}. Use 'sum_over_batch_size' (the default) to average "
            "the loss over the batch, 'sum' to add it up, or None for per-sample losses."
        )
    return reduction


def align_weights(values, sample_weight):
    """Bring ``sample_weight`` to ``values``' rank so that it broadcasts per sample.

    Keras's ``squeeze_or_expand_to_same_rank`` first; a weight tensor that is
    still of lower rank (per-sample weights ``(N,)`` for per-timestep losses
    ``(N, T)``) gets trailing axes of size 1, so weight ``i`` scales every loss
    element of sample ``i``.
    """
    values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
    missing = values.dim() - sample_weight.dim()
    if sample_weight.dim() >= 1 and missing > 0:
        sample_weight = sample_weight.reshape(tuple(sample_weight.shape) + (1,) * missing)
    return values, sample_weight


def _multiply(values, sample_weight, what):
    try:
        return values * sample_weight
    except RuntimeError as error:
        raise ValueError(
            f"{what} of shape {tuple(sample_weight.shape)} cannot be applied to per-sample losses "
            f"of shape {tuple(values.shape)}: give one weight per sample (shape "
            f"({values.shape[0] if values.dim() else 1},)) or one per loss element."
        ) from error


def apply_mask(sample_weight, mask, dtype, reduction):
    """Merge a boolean ``mask`` into ``sample_weight`` (either may be ``None``).

    For ``"sum_over_batch_size"`` / ``"mean"`` the kept entries are scaled by
    ``total / kept`` so that dividing by the number of elements later averages
    over the kept entries only.
    """
    if mask is None:
        return sample_weight
    mask = mask.bool()
    if reduction in ("sum_over_batch_size", "mean"):
        kept = mask.sum(dtype=dtype)
        scale = divide_no_nan(mask.numel(), kept)
        float_mask = torch.where(mask, scale, torch.zeros_like(scale))
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = to_tensor(sample_weight, dtype, float_mask.device)
    float_mask, sample_weight = align_weights(float_mask, sample_weight)
    return _multiply(float_mask, sample_weight, "sample_weight")


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce already weighted ``values`` with ``reduction`` (see module docstring)."""
    if reduction is None or reduction == "none" or values.dim() == 0 or tuple(values.shape) == (0,):
        return values
    loss = values.sum()
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide_no_nan(loss, sample_weight.sum().to(loss.dtype))
    count = values.numel()
    return loss / count if count else torch.zeros_like(loss)


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None):
    """Weight per-sample ``values`` by ``sample_weight`` and ``mask``, then reduce.

    Args:
        values: per-sample losses (any shape).
        sample_weight: optional weights, shape ``(N,)``, ``(N, 1)`` or the
            shape of ``values``.
        mask: optional boolean tensor; ``False`` entries do not count.
        reduction: one of ``REDUCTIONS``.
        dtype: dtype of the computation (``None`` keeps ``values``' dtype).

    Returns:
        A scalar tensor, or the weighted ``values`` for ``"none"`` / ``None``.
    """
    reduction = standardize_reduction(reduction)
    values = to_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, values.dtype, values.device)
    if mask is not None:
        mask = to_tensor(mask, device=values.device)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = align_weights(values, sample_weight)
        values = _multiply(values, sample_weight, "sample_weight")
    return reduce_values(values, sample_weight, reduction)

"""Reducing metrics: ``Sum``, ``Mean`` and ``MeanMetricWrapper`` (the mean of a function)."""

import torch

from ember.backend import to_torch_dtype
from ember.losses._serialization import resolve_function, serialize_function
from ember.losses._utils import (
    MASK_ATTRIBUTE,
    divide_no_nan,
    get_mask,
    object_name,
    squeeze_or_expand_to_same_rank,
    to_tensor,
)
from ember.losses.reduction import apply_mask
from ember.metrics.metric import Metric


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Weight ``values`` and reduce them to one value per sample (Keras's rule).

    ``sample_weight`` is brought to ``values``' rank (squeeze / expand a
    trailing axis of size 1); ``values`` are reduced with ``reduce_fn`` down to
    the weights' rank, multiplied by the weights, then reduced over every axis
    but the first. A mask carried by ``values`` counts as a 0/1 weight.

    Returns:
        ``(values, sample_weight)``: per-sample weighted values ``(N,)`` (or a
        scalar) and the matching per-sample weights (``None`` without weights).
    """
    mask = get_mask(values)
    dtype = to_torch_dtype(dtype)
    values = to_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, dtype, values.device)
    sample_weight = apply_mask(sample_weight, mask, dtype, "sum")
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_rank = sample_weight.dim()
        if values.dim() > weight_rank:
            values = reduce_fn(values, dim=tuple(range(weight_rank, values.dim())))
        values, sample_weight = torch.broadcast_tensors(values, sample_weight)
        values = values * sample_weight
        if weight_rank > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, weight_rank)))
    if values.dim() > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.dim())))
    return values, sample_weight


def _fast_mean_update(metric, values, sample_weight):
    """The common unmasked cases of ``Mean.update_state``, in two in-place adds; False if not applicable.

    Covers a tensor of values without a mask and either no ``sample_weight``
    or a Python number weighting a scalar (how the loss tracker is fed). The
    arithmetic is the general path's: per-sample means over the trailing axes,
    then ``total += sum`` and ``count += samples`` (or ``value * w`` and ``w``).
    """
    if not isinstance(values, torch.Tensor) or getattr(values, MASK_ATTRIBUTE, None) is not None:
        return False
    if sample_weight is None:
        weight = None
    elif type(sample_weight) in (int, float) and values.dim() == 0:
        weight = sample_weight
    else:
        return False
    values = metric._as_input(values)
    dtype = metric.__dict__.get("_torch_dtype") or to_torch_dtype(metric.dtype)
    if values.requires_grad:
        values = values.detach()
    if values.dtype is not dtype:
        values = values.to(dtype)
    ndim = values.dim()
    if weight is not None:
        metric.total.add_(values * weight)
        metric.count.add_(weight)
        return True
    if ndim > 1:
        values = torch.mean(values, dim=tuple(range(1, ndim)))
    metric.total.add_(values.sum() if ndim else values)
    metric.count.add_(values.shape[0] if ndim else 1)
    return True


class Sum(Metric):
    """The running (weighted) sum of the values given.

    Args:
        name: defaults to ``"sum"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = Sum()
        >>> metric.update_state([1.0, 3.0, 5.0, 7.0])
        >>> float(metric.result())
        16.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_weight(name="total", initializer="zeros")

    def update_state(self, values, sample_weight=None):
        """Add ``sum(values * sample_weight)`` to the total."""
        with torch.no_grad():
            values, _ = reduce_to_samplewise_values(self._as_input(values), sample_weight, torch.sum, self.dtype)
            self.total.add_(values.sum())

    def result(self):
        return self.total.detach().clone()


class Mean(Metric):
    """The running (weighted) mean of the values given: ``total / count``.

    Each sample adds its weight (1 without ``sample_weight``) to ``count``
    and its weighted value to ``total``; values with more axes than the
    weights are first averaged per sample.

    Args:
        name: defaults to ``"mean"``.
        dtype: see ``Metric``.

    Example:
        >>> metric = Mean()
        >>> metric.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1.0, 1.0, 0.0, 0.0])
        >>> float(metric.result())
        2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_weight(name="total", initializer="zeros")
        self.count = self.add_weight(name="count", initializer="zeros")
        self._torch_dtype = to_torch_dtype(self.dtype)

    def update_state(self, values, sample_weight=None):
        """Add one batch of values (and their weights) to the running mean."""
        if _fast_mean_update(self, values, sample_weight):
            return
        with torch.no_grad():
            values, sample_weight = reduce_to_samplewise_values(
                self._as_input(values), sample_weight, torch.mean, self.dtype
            )
            self.total.add_(values.sum())
            if sample_weight is not None:
                self.count.add_(sample_weight.sum())
            else:
                # A Python number: adding it queues a kernel, no host-device copy.
                self.count.add_(values.shape[0] if values.dim() else 1)

    def result(self):
        return divide_no_nan(self.total.detach(), self.count.detach())


class MeanMetricWrapper(Mean):
    """The running weighted mean of ``fn(y_true, y_pred, **kwargs)``.

    Weights follow Keras: the result is ``sum(w * v) / sum(w)`` over all
    samples seen since the last reset.

    Args:
        fn: function ``(y_true, y_pred, **kwargs) -> per-sample values``.
        name: defaults to the function's name.
        dtype: see ``Metric``.
        **kwargs: keyword arguments passed to ``fn`` on every update.

    Example:
        >>> import torch
        >>> def absolute_error(y_true, y_pred):
        ...     return torch.abs(y_true - y_pred)
        >>> metric = MeanMetricWrapper(absolute_error)
        >>> metric.name
        'absolute_error'
        >>> metric.update_state(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 2.0]))
        >>> float(metric.result())
        0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(
                f"MeanMetricWrapper expects `fn` to be a function (y_true, y_pred) -> values, got {fn!r} "
                f"of type {type(fn).__name__}."
            )
        super().__init__(name=name or object_name(fn), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add ``fn(y_true, y_pred)`` for one batch, weighted by ``sample_weight``."""
        if torch.is_grad_enabled():
            with torch.no_grad():
                return self._update(y_true, y_pred, sample_weight)
        return self._update(y_true, y_pred, sample_weight)

    def _update(self, y_true, y_pred, sample_weight):
        mask = get_mask(y_pred)
        y_pred = self._as_input(y_pred)
        if not isinstance(y_true, torch.Tensor) and isinstance(y_pred, torch.Tensor):
            y_true = to_tensor(y_true, device=y_pred.device)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            if sample_weight is not None:
                sample_weight = to_tensor(sample_weight, self.dtype, mask.device)
            sample_weight = apply_mask(sample_weight, mask, to_torch_dtype(self.dtype), "sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "fn": serialize_function(self._fn), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("fn"), (str, dict)):
            from ember.metrics.registry import FUNCTIONS  # the registry imports this module

            config["fn"] = resolve_function(config["fn"], FUNCTIONS, None, "metric")
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

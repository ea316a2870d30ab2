"""Preprocessing layers for numbers and categories.

``Rescaling``, ``Masking``, ``Normalization`` (with ``adapt``) and
``CategoryEncoding``, with Keras 3's arguments and numerics
(``Discretization`` is in ``ember.layers.discretization``). None of them has trainable weights; ``Normalization`` keeps its
adapted statistics as non-trainable weights so they are saved with the model.
"""

import numpy as np
import torch

from ember.layers.embedding import attach_mask
from ember.layers.layer import Layer

__all__ = ["CategoryEncoding", "Masking", "Normalization", "Rescaling", "encode_categories"]

#: Smallest standard deviation ``Normalization`` divides by (Keras's ``backend.epsilon()``).
EPSILON = 1e-7

CATEGORY_OUTPUT_MODES = ("one_hot", "multi_hot", "count")


def _as_float_tensor(inputs, dtype=torch.float32):
    inputs = torch.as_tensor(inputs)
    if not inputs.is_floating_point():
        inputs = inputs.to(dtype)
    return inputs


class Rescaling(Layer):
    """Multiplies its inputs by ``scale`` and adds ``offset``: ``x * scale + offset``.

    Args:
        scale: Scale, a float (e.g. ``1 / 255`` maps ``[0, 255]`` to ``[0, 1]``).
        offset: Offset added after scaling.

    Example:
        >>> Rescaling(1 / 255.0)(torch.tensor([255.0]))
        tensor([1.])
    """

    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def call(self, inputs):
        return _as_float_tensor(inputs) * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(scale=self.scale, offset=self.offset)
        return config


class Masking(Layer):
    """Masks timesteps whose features all equal ``mask_value``.

    The output is the input with masked timesteps set to zero, carrying a
    boolean mask ``any(inputs != mask_value, axis=-1)`` as ``_keras_mask`` for
    downstream layers (recurrent layers skip masked steps).

    Args:
        mask_value: Value that marks padding.

    Shape:
        Input ``(batch, timesteps, features)`` (any rank ≥ 2); output the same,
        mask ``(batch, timesteps)``.

    Example:
        >>> Masking(0.0)(torch.tensor([[[0.0], [1.0]]]))._keras_mask
        tensor([[False,  True]])
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        """``True`` where any feature differs from ``mask_value``."""
        return torch.any(inputs != self.mask_value, dim=-1)

    def call(self, inputs):
        inputs = torch.as_tensor(inputs)
        if inputs.dim() < 2:
            raise ValueError(
                f"Masking layer {self.name!r} expects inputs of rank >= 2 (batch, ..., features), "
                f"got shape {tuple(inputs.shape)}."
            )
        mask = self.compute_mask(inputs)
        outputs = inputs * mask.unsqueeze(-1).to(inputs.dtype)
        return attach_mask(outputs, mask)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(mask_value=self.mask_value)
        return config


def _to_config_value(value):
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return np.asarray(value).tolist()
    return value


def _broadcastable(stat, shape):
    # A single given value broadcasts everywhere; otherwise lay it along the kept axes.
    return stat.reshape(()) if stat.numel() == 1 else stat.reshape(shape)


class Normalization(Layer):
    """Shifts and scales inputs to zero mean and unit variance: ``(x - mean) / sqrt(var)``.

    Give ``mean`` and ``variance``, or call ``adapt(data)`` to compute them.
    Statistics are kept per index of ``axis`` and shared over the other axes.

    Args:
        axis: Axis or tuple of axes that keep separate statistics (``-1``: one
            mean per feature); ``None`` for a single scalar mean and variance.
        mean: Optional mean (scalar or array broadcastable to the kept axes).
        variance: Optional variance; required when ``mean`` is given.
        invert: If ``True``, apply the inverse: ``x * sqrt(var) + mean``.

    Example:
        >>> layer = Normalization()
        >>> layer.adapt(np.array([[0.0], [2.0]]))
        >>> layer(torch.tensor([[2.0]]))
        tensor([[1.]])
    """

    supports_masking = True  # statistics ignore the mask; the mask passes through

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axis = (axis,)
        elif isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis):
            axis = tuple(axis)
        else:
            raise TypeError(f"Normalization `axis` must be an int, a tuple of ints or None, got axis={axis!r}.")
        if (mean is None) != (variance is None):
            raise ValueError(
                "Normalization needs both `mean` and `variance` or neither, got "
                f"mean={mean!r} and variance={variance!r}. Pass both, or neither and call `adapt()`."
            )
        self.axis = axis
        self.input_mean = _to_config_value(mean)
        self.input_variance = _to_config_value(variance)
        self.invert = bool(invert)

    def _kept_axes(self, rank):
        kept = []
        for a in self.axis:
            if not -rank <= a < rank:
                raise ValueError(
                    f"Normalization layer {self.name!r} has axis={a} but its input has rank {rank}. "
                    "Choose an axis inside the input's rank."
                )
            kept.append(a % rank)
        return tuple(sorted(kept))

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        kept = self._kept_axes(len(input_shape))
        self._broadcast_shape = tuple(input_shape[a] if a in kept else 1 for a in range(len(input_shape)))
        if self.input_mean is None:
            stat_shape = tuple(input_shape[a] for a in kept)
            if any(d is None for d in stat_shape):
                raise ValueError(
                    f"Normalization layer {self.name!r} keeps statistics along axis {self.axis}, whose size is "
                    f"unknown in input shape {input_shape}. Give those axes a fixed size."
                )
            self.mean = self.add_weight(name="mean", shape=stat_shape, initializer="zeros", trainable=False)
            self.variance = self.add_weight(name="variance", shape=stat_shape, initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), initializer="zeros", dtype="int32", trainable=False)
        self.built = True

    def _statistics(self, inputs):
        shape = tuple(1 if d is None else d for d in self._broadcast_shape)
        shape = (1,) + shape[1:] if shape else shape
        if self.input_mean is None:
            mean, variance = self.mean, self.variance
        else:
            mean = torch.as_tensor(self.input_mean, dtype=inputs.dtype, device=inputs.device)
            variance = torch.as_tensor(self.input_variance, dtype=inputs.dtype, device=inputs.device)
        return _broadcastable(mean.to(inputs.dtype), shape), _broadcastable(variance.to(inputs.dtype), shape)

    def call(self, inputs):
        inputs = _as_float_tensor(inputs)
        if not self.axis:
            mean, variance = self._scalar_statistics(inputs)
        else:
            mean, variance = self._statistics(inputs)
        std = torch.clamp(torch.sqrt(variance), min=EPSILON)
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def _scalar_statistics(self, inputs):
        if self.input_mean is None:
            return self.mean.to(inputs.dtype), self.variance.to(inputs.dtype)
        return (
            torch.as_tensor(self.input_mean, dtype=inputs.dtype, device=inputs.device),
            torch.as_tensor(self.input_variance, dtype=inputs.dtype, device=inputs.device),
        )

    def adapt(self, data):
        """Compute ``mean`` and ``variance`` from ``data``.

        Args:
            data: An array or tensor of samples, or an iterable of such
                batches (a list of arrays, a generator, a ``DataLoader``); the
                statistics are those of all batches together.
        """
        if self.input_mean is not None:
            raise ValueError(
                f"Normalization layer {self.name!r} was given `mean` and `variance`; it cannot be adapted. "
                "Create it without them to call `adapt()`."
            )
        batches = [data] if isinstance(data, (np.ndarray, torch.Tensor)) else data
        total, mean, m2 = 0, None, None
        for batch in batches:
            if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], (np.ndarray, torch.Tensor)):
                batch = batch[0]  # (x, y) pairs from a data loader: adapt on x
            batch = torch.as_tensor(np.asarray(batch) if not isinstance(batch, torch.Tensor) else batch)
            batch = batch.detach().to(torch.float64)
            if batch.dim() == 0:
                raise ValueError(f"Normalization.adapt got a scalar; pass an array of samples, got {batch!r}.")
            if not self.built:
                self.build((None,) + tuple(batch.shape[1:]))
            kept = self._kept_axes(batch.dim())
            reduce = tuple(a for a in range(batch.dim()) if a not in kept)
            n = int(np.prod([batch.shape[a] for a in reduce])) if reduce else 1
            batch_mean = batch.mean(dim=reduce) if reduce else batch
            batch_m2 = ((batch - batch.mean(dim=reduce, keepdim=True)) ** 2).sum(dim=reduce) if reduce else 0 * batch
            if mean is None:
                total, mean, m2 = n, batch_mean, batch_m2
                continue
            # Chan et al.'s pairwise update: exact mean and variance over all batches.
            delta = batch_mean - mean
            new_total = total + n
            mean = mean + delta * n / new_total
            m2 = m2 + batch_m2 + delta**2 * total * n / new_total
            total = new_total
        if mean is None:
            raise ValueError("Normalization.adapt got no data: pass a non-empty array or iterable of batches.")
        with torch.no_grad():
            self.mean.copy_(mean.reshape(self.mean.shape).to(self.mean.dtype))
            self.variance.copy_((m2 / total).reshape(self.variance.shape).to(self.variance.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, invert=self.invert, mean=self.input_mean, variance=self.input_variance)
        return config


def encode_categories(inputs, num_tokens, output_mode, count_weights=None, layer_name="category_encoding"):
    """One-hot, multi-hot or count encoding of integer ``inputs`` (a pure function).

    ``one_hot`` encodes each value (a trailing axis of size 1 is dropped
    first); ``multi_hot`` and ``count`` encode each sample, the last axis
    (rank-1 inputs are one sample).

    Returns:
        A float32 tensor with a last axis of size ``num_tokens``.
    """
    inputs = torch.as_tensor(inputs).long()
    if inputs.numel() and (int(inputs.max()) >= num_tokens or int(inputs.min()) < 0):
        raise ValueError(
            f"Layer {layer_name!r} expects values in [0, {num_tokens}) (num_tokens={num_tokens}), got values from "
            f"{int(inputs.min())} to {int(inputs.max())}. Raise `num_tokens` or fix the input."
        )
    if output_mode == "one_hot":
        if inputs.dim() > 1 and inputs.shape[-1] == 1:
            inputs = inputs.squeeze(-1)
        return torch.nn.functional.one_hot(inputs, num_tokens).to(torch.float32)
    squeeze = inputs.dim() == 1
    if squeeze:
        inputs = inputs.unsqueeze(0)
    if inputs.dim() != 2:
        raise ValueError(
            f"Layer {layer_name!r} in output_mode={output_mode!r} expects inputs of rank 1 or 2, "
            f"got shape {tuple(inputs.shape)}."
        )
    if count_weights is None:
        weights = torch.ones(inputs.shape, dtype=torch.float32, device=inputs.device)
    else:
        weights = torch.as_tensor(count_weights, dtype=torch.float32, device=inputs.device)
        weights = weights.reshape(inputs.shape)
    out = torch.zeros(inputs.shape[0], num_tokens, dtype=torch.float32, device=inputs.device)
    out.scatter_add_(1, inputs, weights)
    if output_mode == "multi_hot":
        out = (out > 0).to(torch.float32)
    return out.squeeze(0) if squeeze else out


def _check_output_mode(layer, output_mode, allowed):
    if output_mode not in allowed:
        raise ValueError(
            f"{layer} `output_mode` must be one of {allowed}, got output_mode={output_mode!r}."
        )


class CategoryEncoding(Layer):
    """Encodes integer categories as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: Number of categories; inputs must lie in ``[0, num_tokens)``.
        output_mode: ``"multi_hot"`` (1 for every category present in a
            sample), ``"one_hot"`` (one vector per value) or ``"count"``
            (occurrences per category, optionally weighted by
            ``count_weights`` passed to the call).

    Example:
        >>> CategoryEncoding(3, output_mode="count")(torch.tensor([[0, 2, 2]]))
        tensor([[1., 0., 2.]])
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_tokens, int) or isinstance(num_tokens, bool) or num_tokens <= 0:
            raise ValueError(f"CategoryEncoding `num_tokens` must be a positive integer, got num_tokens={num_tokens!r}.")
        _check_output_mode("CategoryEncoding", output_mode, CATEGORY_OUTPUT_MODES)
        self.num_tokens = num_tokens
        self.output_mode = output_mode

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(
                f"CategoryEncoding `count_weights` only applies to output_mode='count', "
                f"got output_mode={self.output_mode!r}."
            )
        return encode_categories(inputs, self.num_tokens, self.output_mode, count_weights, self.name)

    def get_config(self):
        config = super().get_config()
        config.update(num_tokens=self.num_tokens, output_mode=self.output_mode)
        return config

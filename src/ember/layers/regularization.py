"""Regularization layers: spatial dropout, noise layers and ``ActivityRegularization``.

Every noise layer is the identity at inference; noise is drawn only when the
layer is called with ``training=True`` (as ``fit`` does). A ``seed`` makes the
layer's random stream reproducible.
"""

import math

import torch

from ember import regularizers
from ember.layers.layer import Layer

__all__ = [
    "ActivityRegularization",
    "AlphaDropout",
    "GaussianDropout",
    "GaussianNoise",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_rate(rate, owner, allow_one=False):
    upper_ok = (lambda r: r <= 1) if allow_one else (lambda r: r < 1)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not (rate >= 0 and upper_ok(rate)):
        interval = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"{owner} `rate` must be a number in {interval}, got {rate!r}.")
    return float(rate)


def _check_seed(seed, owner):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"{owner} `seed` must be an integer or None, got {seed!r}.")
    return seed


class _RandomLayer(Layer):
    """Holds the optional seeded generator of a noise layer (not public)."""

    supports_masking = True  # the noise ignores the mask; the mask passes through unchanged

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _check_seed(seed, type(self).__name__)
        self._generator = None
        self.built = True

    def _rng(self, device):
        if self.seed is None:
            return None
        if self._generator is None or self._generator.device != torch.device(device):
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def _uniform(self, shape, like):
        return torch.rand(shape, device=like.device, dtype=like.dtype, generator=self._rng(like.device))

    def _normal(self, shape, like):
        return torch.randn(shape, device=like.device, dtype=like.dtype, generator=self._rng(like.device))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


def spatial_noise_shape(shape, data_format):
    """Mask shape dropping whole channels: ones on every axis but batch and channels."""
    if data_format == "channels_last":
        return (shape[0],) + (1,) * (len(shape) - 2) + (shape[-1],)
    return (shape[0], shape[1]) + (1,) * (len(shape) - 2)


class _SpatialDropout(_RandomLayer):
    _rank = None  # input rank, set by subclasses

    def __init__(self, rate, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate, type(self).__name__, allow_one=True)
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"{type(self).__name__} `data_format` must be 'channels_last' or 'channels_first', got "
                f"{data_format!r}."
            )
        self.data_format = data_format

    def call(self, inputs, training=None):
        if inputs.dim() != self._rank:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects inputs of rank {self._rank}, got shape "
                f"{tuple(inputs.shape)}."
            )
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        keep = self._uniform(spatial_noise_shape(inputs.shape, self.data_format), inputs) >= self.rate
        return inputs * keep.to(inputs.dtype) / (1.0 - self.rate)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, data_format=self.data_format)
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole feature channels of ``(batch, steps, channels)`` inputs during training.

    Kept channels are scaled by ``1 / (1 - rate)``.

    Args:
        rate: Fraction of the channels to drop, in ``[0, 1]``.
        seed: Optional integer seed.

    Example:
        >>> SpatialDropout1D(0.5)(torch.ones(2, 3, 4)).shape
        torch.Size([2, 3, 4])
    """

    _rank = 3

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of 4D inputs during training.

    Args:
        rate: Fraction of the channels to drop, in ``[0, 1]``.
        data_format: ``"channels_last"`` (``(N, H, W, C)``, default) or
            ``"channels_first"`` (``(N, C, H, W)``).
        seed: Optional integer seed.
    """

    _rank = 4


class SpatialDropout3D(_SpatialDropout):
    """Drops whole feature volumes of 5D inputs during training.

    Args:
        rate: Fraction of the channels to drop, in ``[0, 1]``.
        data_format: ``"channels_last"`` (``(N, D, H, W, C)``, default) or
            ``"channels_first"``.
        seed: Optional integer seed.
    """

    _rank = 5


class GaussianNoise(_RandomLayer):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` during training.

    Args:
        stddev: Standard deviation of the noise (non-negative).
        seed: Optional integer seed.

    Example:
        >>> layer = GaussianNoise(0.1)
        >>> bool((layer(torch.ones(2, 3)) == 1).all())  # inference: identity
        True
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"GaussianNoise `stddev` must be a non-negative number, got {stddev!r}.")
        self.stddev = float(stddev)

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        return inputs + self.stddev * self._normal(inputs.shape, inputs)

    def get_config(self):
        config = super().get_config()
        config["stddev"] = self.stddev
        return config


class GaussianDropout(_RandomLayer):
    """Multiplies the inputs by Gaussian noise of mean 1 and stddev ``sqrt(rate / (1 - rate))``.

    Args:
        rate: Drop probability of the equivalent dropout, in ``[0, 1)``.
        seed: Optional integer seed.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate, "GaussianDropout")

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (1.0 + stddev * self._normal(inputs.shape, inputs))

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        return config


def alpha_dropout(inputs, keep, rate):
    """Alpha dropout given the boolean ``keep`` mask: keeps SELU's mean and variance."""
    alpha_p = -_SELU_ALPHA * _SELU_SCALE
    a = ((1.0 - rate) * (1.0 + rate * alpha_p**2)) ** -0.5
    b = -a * alpha_p * rate
    keep = keep.to(inputs.dtype)
    return a * (inputs * keep + alpha_p * (1.0 - keep)) + b


class AlphaDropout(_RandomLayer):
    """Dropout for self-normalizing (SELU) networks.

    Dropped values are set to SELU's negative saturation value and the result
    is affinely rescaled so that the mean and variance of the inputs are kept.

    Args:
        rate: Fraction of the inputs to drop, in ``[0, 1)``.
        noise_shape: Optional shape of the mask, broadcast to the inputs
            (``None`` entries take the input's size).
        seed: Optional integer seed.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _check_rate(rate, "AlphaDropout")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = tuple(inputs.shape)
        if self.noise_shape is not None:
            if len(self.noise_shape) != inputs.dim():
                raise ValueError(
                    f"AlphaDropout {self.name!r}: `noise_shape` {self.noise_shape} must have one entry per "
                    f"input axis; inputs have shape {shape}."
                )
            shape = tuple(s if n is None else n for s, n in zip(shape, self.noise_shape))
        keep = self._uniform(shape, inputs) >= self.rate
        return alpha_dropout(inputs, keep, self.rate)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=None if self.noise_shape is None else list(self.noise_shape))
        return config


class ActivityRegularization(Layer):
    """Identity layer that adds ``(l1 * sum|x| + l2 * sum x**2) / batch_size`` to the losses.

    Args:
        l1: Non-negative L1 factor.
        l2: Non-negative L2 factor.

    Example:
        >>> layer = ActivityRegularization(l2=0.5)
        >>> _ = layer(torch.ones(2, 3))
        >>> float(layer.losses[0])
        1.5
    """

    supports_masking = True  # the penalty covers every position; the mask passes through

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        for arg_name, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"ActivityRegularization `{arg_name}` must be a non-negative number, got {value!r}.")
        self.l1 = float(l1)
        self.l2 = float(l2)
        self._regularizer = regularizers.L1L2(l1=self.l1, l2=self.l2)
        self.built = True

    def call(self, inputs):
        self.add_loss(self._regularizer(inputs) / inputs.shape[0])
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(l1=self.l1, l2=self.l2)
        return config

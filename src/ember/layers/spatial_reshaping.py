"""Spatial reshaping layers: ``Cropping1D/2D/3D``, ``ZeroPadding1D/2D/3D`` and
``UpSampling1D/2D/3D``.

Each works on the spatial axes of ``(batch, *spatial, channels)`` inputs
(``channels_last``, the default) or ``(batch, channels, *spatial)`` inputs
(``channels_first``) and leaves the batch and channel axes alone.
"""

import torch
import torch.nn.functional as F

from ember.layers.layer import Layer

__all__ = [
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
]

DATA_FORMATS = ("channels_last", "channels_first")


# ---------------------------------------------------------------------- argument and shape helpers
def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _normalize_pairs(value, rank, arg_name, layer_name):
    """``(before, after)`` per spatial axis from an int, ``rank`` ints, or ``rank`` pairs (1-D: one pair)."""
    pairs = None
    if _is_int(value):
        pairs = ((value, value),) * rank
    elif isinstance(value, (tuple, list)):
        if rank == 1 and len(value) == 2 and all(_is_int(v) for v in value):
            pairs = (tuple(value),)
        elif len(value) == rank and all(_is_int(v) for v in value):
            pairs = tuple((v, v) for v in value)
        elif len(value) == rank and all(
            isinstance(p, (tuple, list)) and len(p) == 2 and all(_is_int(v) for v in p) for p in value
        ):
            pairs = tuple(tuple(p) for p in value)
    if pairs is None or any(v < 0 for p in pairs for v in p):
        forms = "an integer or a pair of integers" if rank == 1 else (
            f"a non-negative integer, a tuple of {rank} integers or a tuple of {rank} (before, after) pairs"
        )
        raise ValueError(f"{layer_name} `{arg_name}` must be {forms}, all >= 0; got {arg_name}={value!r}.")
    return pairs


def _normalize_sizes(value, rank, layer_name):
    sizes = (value,) * rank if _is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if sizes is None or len(sizes) != rank or any(not _is_int(v) or v <= 0 for v in sizes):
        raise ValueError(
            f"{layer_name} `size` must be a positive integer or a tuple of {rank} positive integers, "
            f"got size={value!r}."
        )
    return sizes


def _normalize_data_format(data_format, layer_name):
    data_format = "channels_last" if data_format is None else data_format
    if data_format not in DATA_FORMATS:
        raise ValueError(f"{layer_name} `data_format` must be one of {DATA_FORMATS}, got data_format={data_format!r}.")
    return data_format


class BaseSpatialLayer(Layer):
    """Shared rank checks and axis bookkeeping; subclasses set ``rank`` and
    implement ``_output_size(axis_index, size)`` and ``call``.

    Not meant to be subclassed outside this module.
    """

    rank = None

    def _spatial_axes(self):
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self.rank))

    def _check_rank(self, shape):
        if len(shape) != self.rank + 2:
            layout = "spatial..., channels" if self.data_format == "channels_last" else "channels, spatial..."
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects inputs of rank {self.rank + 2} "
                f"(batch, {layout}), got shape {tuple(shape)}."
            )

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        shape = list(input_shape)
        for i, axis in enumerate(self._spatial_axes()):
            if shape[axis] is not None:
                shape[axis] = self._output_size(i, shape[axis], input_shape)
        return tuple(shape)

    def _flat_pad(self, pairs):
        """``F.pad``'s argument (last axis first) for ``pairs`` on the spatial axes."""
        flat = [0, 0] if self.data_format == "channels_last" else []
        for before, after in reversed(pairs):
            flat += [before, after]
        return flat


# ---------------------------------------------------------------------- cropping
class BaseCropping(BaseSpatialLayer):
    """Crops ``cropping[i] = (before, after)`` elements off spatial axis ``i``."""

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _normalize_pairs(cropping, self.rank, "cropping", type(self).__name__)
        self.data_format = _normalize_data_format(data_format, type(self).__name__)
        self.built = True

    def _output_size(self, i, size, input_shape):
        before, after = self.cropping[i]
        if before + after >= size:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r}: cropping={self.config_cropping()} must leave at least "
                f"one element on every spatial axis, got input shape {tuple(input_shape)}."
            )
        return size - before - after

    def config_cropping(self):
        return self.cropping[0] if self.rank == 1 else self.cropping

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        index = [slice(None)] * inputs.ndim
        for (before, after), axis in zip(self.cropping, self._spatial_axes()):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.config_cropping()
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class Cropping1D(BaseCropping):
    """Crops the steps axis of ``(batch, steps, channels)`` inputs.

    Args:
        cropping: Elements to remove, an integer (both ends) or a pair
            ``(start, end)``.

    Example:
        >>> Cropping1D((1, 2))(torch.ones(2, 6, 3)).shape
        torch.Size([2, 3, 3])
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        if "data_format" in kwargs:
            raise TypeError("Cropping1D takes no `data_format`: its inputs are (batch, steps, channels).")
        super().__init__(cropping, **kwargs)


class Cropping2D(BaseCropping):
    """Crops height and width of image inputs.

    Args:
        cropping: An integer (all sides), ``(height_crop, width_crop)``
            (symmetric) or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> Cropping2D(((1, 0), (0, 2)))(torch.ones(2, 5, 5, 3)).shape
        torch.Size([2, 4, 3, 3])
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)


class Cropping3D(BaseCropping):
    """Crops the three spatial axes of volumetric inputs.

    Args:
        cropping: An integer, three integers (symmetric per axis) or three
            ``(before, after)`` pairs.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> Cropping3D(1)(torch.ones(2, 4, 4, 4, 3)).shape
        torch.Size([2, 2, 2, 2, 3])
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)


# ---------------------------------------------------------------------- zero padding
class BaseZeroPadding(BaseSpatialLayer):
    """Adds ``padding[i] = (before, after)`` zeros to spatial axis ``i``."""

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _normalize_pairs(padding, self.rank, "padding", type(self).__name__)
        self.data_format = _normalize_data_format(data_format, type(self).__name__)
        self.built = True

    def _output_size(self, i, size, input_shape):
        return size + sum(self.padding[i])

    def call(self, inputs):
        self._check_rank(inputs.shape)
        return F.pad(inputs, self._flat_pad(self.padding))

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding[0] if self.rank == 1 else self.padding, data_format=self.data_format)
        return config


class ZeroPadding1D(BaseZeroPadding):
    """Pads the steps axis with zeros.

    Args:
        padding: An integer (both ends) or a pair ``(start, end)``.
        data_format: ``"channels_last"`` (default, ``(batch, steps,
            channels)``) or ``"channels_first"``.

    Example:
        >>> ZeroPadding1D((1, 2))(torch.ones(2, 3, 4)).shape
        torch.Size([2, 6, 4])
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class ZeroPadding2D(BaseZeroPadding):
    """Pads height and width with zeros.

    Args:
        padding: An integer (all sides), ``(height_pad, width_pad)``
            (symmetric) or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> ZeroPadding2D(1)(torch.ones(2, 3, 3, 4)).shape
        torch.Size([2, 5, 5, 4])
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class ZeroPadding3D(BaseZeroPadding):
    """Pads the three spatial axes with zeros.

    Args:
        padding: An integer, three integers (symmetric per axis) or three
            ``(before, after)`` pairs.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> ZeroPadding3D(1)(torch.ones(2, 2, 2, 2, 3)).shape
        torch.Size([2, 4, 4, 4, 3])
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


# ---------------------------------------------------------------------- upsampling
class BaseUpSampling(BaseSpatialLayer):
    """Repeats every element ``size[i]`` times along spatial axis ``i``."""

    interpolations = ("nearest",)

    def __init__(self, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.size = _normalize_sizes(size, self.rank, cls)
        self.data_format = _normalize_data_format(data_format, cls)
        if interpolation not in self.interpolations:
            raise ValueError(f"{cls} `interpolation` must be one of {self.interpolations}, got {interpolation!r}.")
        self.interpolation = interpolation
        self.built = True

    def _output_size(self, i, size, input_shape):
        return size * self.size[i]

    def call(self, inputs):
        self._check_rank(inputs.shape)
        if self.interpolation == "bilinear":
            channels_last = self.data_format == "channels_last"
            x = inputs.movedim(-1, 1) if channels_last else inputs
            out = F.interpolate(x, scale_factor=self.size, mode="bilinear", align_corners=False)
            return out.movedim(1, -1) if channels_last else out
        for repeats, axis in zip(self.size, self._spatial_axes()):
            if repeats > 1:
                inputs = torch.repeat_interleave(inputs, repeats, dim=axis)
        return inputs

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format)
        return config


class UpSampling1D(BaseUpSampling):
    """Repeats each step ``size`` times: ``(batch, steps, channels)`` → ``(batch, steps * size, channels)``.

    Args:
        size: Repetitions, a positive integer.

    Example:
        >>> UpSampling1D(3)(torch.ones(2, 4, 5)).shape
        torch.Size([2, 12, 5])
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        if "data_format" in kwargs or "interpolation" in kwargs:
            raise TypeError(
                "UpSampling1D takes only `size`: its inputs are (batch, steps, channels) and steps are repeated."
            )
        super().__init__(size, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size[0]
        del config["data_format"]
        return config


class UpSampling2D(BaseUpSampling):
    """Upsamples height and width by ``size``.

    Args:
        size: Factors ``(height, width)``, or one integer for both.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (repeat each pixel) or ``"bilinear"``
            (half-pixel centres, edges clamped, no antialiasing, as Keras's
            image resize).

    Example:
        >>> UpSampling2D(2)(torch.ones(2, 3, 4, 5)).shape
        torch.Size([2, 6, 8, 5])
    """

    rank = 2
    interpolations = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format=data_format, interpolation=interpolation, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(BaseUpSampling):
    """Upsamples the three spatial axes by ``size`` (each element repeated).

    Args:
        size: Three factors, or one integer for all.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> UpSampling3D(2)(torch.ones(2, 1, 2, 3, 4)).shape
        torch.Size([2, 2, 4, 6, 4])
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format=data_format, **kwargs)

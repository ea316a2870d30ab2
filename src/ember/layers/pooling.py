"""Global pooling layers: ``GlobalMaxPooling1D/2D/3D``, ``GlobalAveragePooling1D/2D/3D``.

Each reduces every spatial axis to a single value per channel, by maximum or
by mean.
"""

import torch

from ember.layers.layer import Layer

__all__ = [
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
]

DATA_FORMATS = ("channels_last", "channels_first")


class BaseGlobalPooling(Layer):
    """Shared implementation; subclasses set ``rank`` and ``_reduce`` (``torch.amax`` or ``torch.mean``).

    Not meant to be subclassed outside this module.
    """

    rank = None
    _reduce = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        data_format = "channels_last" if data_format is None else data_format
        if data_format not in DATA_FORMATS:
            raise ValueError(
                f"{type(self).__name__} `data_format` must be one of {DATA_FORMATS}, got data_format={data_format!r}."
            )
        if not isinstance(keepdims, bool):
            raise ValueError(f"{type(self).__name__} `keepdims` must be True or False, got keepdims={keepdims!r}.")
        self.data_format = data_format
        self.keepdims = keepdims
        self.built = True

    def _spatial_axes(self):
        if self.data_format == "channels_last":
            return tuple(range(1, self.rank + 1))
        return tuple(range(2, self.rank + 2))

    def _check_rank(self, ndim, shape):
        if ndim != self.rank + 2:
            layout = "spatial..., channels" if self.data_format == "channels_last" else "channels, spatial..."
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects inputs of rank {self.rank + 2} "
                f"(batch, {layout}), got shape {tuple(shape)}."
            )

    def build(self, input_shape):
        if input_shape is not None:
            self._check_rank(len(input_shape), input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_rank(len(input_shape), input_shape)
        axes = self._spatial_axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def call(self, inputs):
        self._check_rank(inputs.ndim, inputs.shape)
        return self._reduce(inputs, dim=self._spatial_axes(), keepdim=self.keepdims)

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Maximum over the steps axis of ``(batch, steps, channels)`` inputs.

    Args:
        data_format: ``"channels_last"`` (default, inputs ``(batch, steps,
            channels)``) or ``"channels_first"`` (``(batch, channels, steps)``).
        keepdims: Keep the steps axis with length 1.

    Shape:
        Output ``(batch, channels)``, or with ``keepdims`` ``(batch, 1,
        channels)`` / ``(batch, channels, 1)``.

    Example:
        >>> GlobalMaxPooling1D()(torch.ones(2, 5, 3)).shape
        torch.Size([2, 3])
    """

    rank = 1
    _reduce = staticmethod(torch.amax)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Maximum over height and width of image inputs.

    Args:
        data_format: ``"channels_last"`` (default, inputs ``(batch, height,
            width, channels)``) or ``"channels_first"``.
        keepdims: Keep the spatial axes with length 1.

    Shape:
        Output ``(batch, channels)``, or with ``keepdims`` ``(batch, 1, 1,
        channels)`` / ``(batch, channels, 1, 1)``.

    Example:
        >>> GlobalMaxPooling2D()(torch.ones(2, 4, 4, 3)).shape
        torch.Size([2, 3])
    """

    rank = 2
    _reduce = staticmethod(torch.amax)


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over the steps axis of ``(batch, steps, channels)`` inputs.

    ``call(inputs, mask=None)`` accepts an optional ``(batch, steps)`` mask;
    masked-out steps are left out of the mean.

    Args:
        data_format: ``"channels_last"`` (default, inputs ``(batch, steps,
            channels)``) or ``"channels_first"`` (``(batch, channels, steps)``).
        keepdims: Keep the steps axis with length 1.

    Shape:
        Output ``(batch, channels)``, or with ``keepdims`` ``(batch, 1,
        channels)`` / ``(batch, channels, 1)``.

    Example:
        >>> GlobalAveragePooling1D()(torch.ones(2, 5, 3)).shape
        torch.Size([2, 3])
    """

    rank = 1
    _reduce = staticmethod(torch.mean)

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        self._check_rank(inputs.ndim, inputs.shape)
        steps_axis = self._spatial_axes()[0]
        expected = (inputs.shape[0], inputs.shape[steps_axis])
        if tuple(mask.shape) != expected:
            raise ValueError(
                f"GlobalAveragePooling1D layer {self.name!r}: `mask` must have shape (batch, steps) = "
                f"{expected}, got {tuple(mask.shape)}."
            )
        mask = mask.to(inputs.dtype).unsqueeze(2 if self.data_format == "channels_last" else 1)
        total = torch.sum(inputs * mask, dim=steps_axis, keepdim=self.keepdims)
        return total / torch.sum(mask, dim=steps_axis, keepdim=self.keepdims)


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over height and width of image inputs.

    Args:
        data_format: ``"channels_last"`` (default, inputs ``(batch, height,
            width, channels)``) or ``"channels_first"``.
        keepdims: Keep the spatial axes with length 1.

    Shape:
        Output ``(batch, channels)``, or with ``keepdims`` ``(batch, 1, 1,
        channels)`` / ``(batch, channels, 1, 1)``.

    Example:
        >>> GlobalAveragePooling2D()(torch.ones(2, 4, 4, 3)).shape
        torch.Size([2, 3])
    """

    rank = 2
    _reduce = staticmethod(torch.mean)


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Maximum over the three spatial axes of volumetric inputs.

    Args:
        data_format: ``"channels_last"`` (default, inputs ``(batch, dim1,
            dim2, dim3, channels)``) or ``"channels_first"``.
        keepdims: Keep the spatial axes with length 1.

    Shape:
        Output ``(batch, channels)``, or with ``keepdims`` ``(batch, 1, 1, 1,
        channels)`` / ``(batch, channels, 1, 1, 1)``.

    Example:
        >>> GlobalMaxPooling3D()(torch.ones(2, 3, 4, 4, 3)).shape
        torch.Size([2, 3])
    """

    rank = 3
    _reduce = staticmethod(torch.amax)


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over the three spatial axes of volumetric inputs.

    Args:
        data_format: ``"channels_last"`` (default, inputs ``(batch, dim1,
            dim2, dim3, channels)``) or ``"channels_first"``.
        keepdims: Keep the spatial axes with length 1.

    Shape:
        Output ``(batch, channels)``, or with ``keepdims`` ``(batch, 1, 1, 1,
        channels)`` / ``(batch, channels, 1, 1, 1)``.

    Example:
        >>> GlobalAveragePooling3D()(torch.ones(2, 3, 4, 4, 3)).shape
        torch.Size([2, 3])
    """

    rank = 3
    _reduce = staticmethod(torch.mean)

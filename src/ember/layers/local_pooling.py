"""Local pooling layers: ``MaxPooling1D/2D/3D`` and ``AveragePooling1D/2D/3D``.

Each slides a ``pool_size`` window over the spatial axes with ``strides``
(``None``: ``pool_size``) and keeps the window's maximum or mean.
``padding="same"`` pads so that every axis has ``ceil(size / stride)``
outputs, the odd extra element after, as in Keras; padded positions never
win a maximum and are left out of a mean.

channels_last inputs are permuted to a channels_first view (no copy) for the
torch pooling kernels and the result is permuted back, as in ``conv.py``.

Keras's torch backend, for ``AveragePooling`` with ``padding="same"`` and an
odd total padding on some axis, pads by repeating edge values and counts them
in the mean; ember leaves padding out of the mean on every axis, as Keras's
other backends (and its own even-padding case) do.
"""

import torch
import torch.nn.functional as F

from ember.layers.conv import _normalize_tuple, conv_output_length, same_padding
from ember.layers.layer import Layer

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "pool",
]

DATA_FORMATS = ("channels_last", "channels_first")
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


# ---------------------------------------------------------------------- pure math
def pool(inputs, *, mode, pool_size, strides, padding):
    """Max or average pooling of a channels_first tensor ``(N, C, *spatial)``.

    Args:
        inputs: Tensor with 1 to 3 spatial axes after ``(N, C)``.
        mode: ``"max"`` or ``"average"``.
        pool_size: Window size per spatial axis.
        strides: Step per spatial axis.
        padding: ``"valid"`` or ``"same"``; ``"same"`` padding is ignored by
            the maximum and left out of the mean.

    Returns:
        The pooled tensor ``(N, C, *out_spatial)``.
    """
    rank = len(pool_size)
    pads = (0,) * rank
    if padding == "same":
        pads = [same_padding(size, k, s, 1) for size, k, s in zip(inputs.shape[2:], pool_size, strides)]
        if all(before == after for before, after in pads):
            pads = tuple(before for before, _ in pads)
        else:
            # Uneven padding: pad explicitly (torch pads symmetrically only).
            flat = [p for pair in reversed(pads) for p in pair]
            if mode == "max":
                padded = F.pad(inputs, flat, value=float("-inf"))
                return _MAX_POOL[rank](padded, pool_size, strides)
            ones = torch.ones((1, 1) + tuple(inputs.shape[2:]), dtype=inputs.dtype, device=inputs.device)
            total = _AVG_POOL[rank](F.pad(inputs, flat), pool_size, strides)
            count = _AVG_POOL[rank](F.pad(ones, flat), pool_size, strides)
            return total / count
    if mode == "max":
        return _MAX_POOL[rank](inputs, pool_size, strides, padding=pads)
    return _AVG_POOL[rank](inputs, pool_size, strides, padding=pads, count_include_pad=False)


# ---------------------------------------------------------------------- layers
class BasePooling(Layer):
    """Shared implementation; subclasses set ``rank`` and ``mode``.

    Not meant to be subclassed outside this module.
    """

    rank = None
    mode = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = _normalize_tuple(pool_size, self.rank, "pool_size", cls)
        self.strides = self.pool_size if strides is None else _normalize_tuple(strides, self.rank, "strides", cls)
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in ("valid", "same"):
            raise ValueError(f"{cls} `padding` must be 'valid' or 'same', got padding={padding!r}.")
        self.padding = padding
        data_format = "channels_last" if data_format is None else data_format
        if data_format not in DATA_FORMATS:
            raise ValueError(f"{cls} `data_format` must be one of {DATA_FORMATS}, got data_format={data_format!r}.")
        self.data_format = data_format
        self.built = True

    def _check_input_shape(self, shape):
        shape = tuple(shape)
        layout = "spatial..., channels" if self.data_format == "channels_last" else "channels, spatial..."
        if len(shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects inputs of rank {self.rank + 2} "
                f"(batch, {layout}), got shape {shape}."
            )
        spatial = shape[1:-1] if self.data_format == "channels_last" else shape[2:]
        if self.padding == "valid" and any(d is not None and d < k for d, k in zip(spatial, self.pool_size)):
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r}: with padding='valid' every spatial size must be at "
                f"least pool_size={self.pool_size}, got input shape {shape}. Use padding='same' or a smaller pool."
            )
        return spatial

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        spatial = self._check_input_shape(input_shape)
        out = tuple(
            conv_output_length(d, k, self.padding, s, 1) for d, k, s in zip(spatial, self.pool_size, self.strides)
        )
        if self.data_format == "channels_last":
            return (input_shape[0], *out, input_shape[-1])
        return (input_shape[0], input_shape[1], *out)

    def call(self, inputs):
        self._check_input_shape(inputs.shape)
        channels_last = self.data_format == "channels_last"
        x = inputs.movedim(-1, 1) if channels_last else inputs
        out = pool(x, mode=self.mode, pool_size=self.pool_size, strides=self.strides, padding=self.padding)
        return out.movedim(1, -1) if channels_last else out

    def get_config(self):
        config = super().get_config()
        config.update(
            pool_size=self.pool_size, padding=self.padding, strides=self.strides, data_format=self.data_format
        )
        return config


class MaxPooling1D(BasePooling):
    """Max pooling over steps.

    Args:
        pool_size: Window size, an integer or a tuple of 1 integers
            (default 2).
        strides: Window step, an integer, a tuple of 1 integers, or
            ``None`` (default) for ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (``ceil(size /
            stride)`` outputs per axis; padding is never the maximum).
        data_format: ``"channels_last"`` (default, inputs ``(batch,
            steps, channels)``) or ``"channels_first"`` (``(batch,
            channels, steps)``).

    Shape:
        Output keeps batch and channels; each spatial axis has
        ``(size - pool) // stride + 1`` positions (``"valid"``) or
        ``ceil(size / stride)`` (``"same"``).

    Example:
        >>> MaxPooling1D()(torch.ones(2, 6, 3)).shape
        torch.Size([2, 3, 3])
    """

    rank = 1
    mode = "max"


class MaxPooling2D(BasePooling):
    """Max pooling over height and width.

    Args:
        pool_size: Window size, an integer or a tuple of 2 integers
            (default (2, 2)).
        strides: Window step, an integer, a tuple of 2 integers, or
            ``None`` (default) for ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (``ceil(size /
            stride)`` outputs per axis; padding is never the maximum).
        data_format: ``"channels_last"`` (default, inputs ``(batch,
            height, width, channels)``) or ``"channels_first"`` (``(batch,
            channels, height, width)``).

    Shape:
        Output keeps batch and channels; each spatial axis has
        ``(size - pool) // stride + 1`` positions (``"valid"``) or
        ``ceil(size / stride)`` (``"same"``).

    Example:
        >>> MaxPooling2D()(torch.ones(2, 4, 4, 3)).shape
        torch.Size([2, 2, 2, 3])
    """

    rank = 2
    mode = "max"


class MaxPooling3D(BasePooling):
    """Max pooling over the three spatial axes.

    Args:
        pool_size: Window size, an integer or a tuple of 3 integers
            (default (2, 2, 2)).
        strides: Window step, an integer, a tuple of 3 integers, or
            ``None`` (default) for ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (``ceil(size /
            stride)`` outputs per axis; padding is never the maximum).
        data_format: ``"channels_last"`` (default, inputs ``(batch,
            dim1, dim2, dim3, channels)``) or ``"channels_first"`` (``(batch,
            channels, dim1, dim2, dim3)``).

    Shape:
        Output keeps batch and channels; each spatial axis has
        ``(size - pool) // stride + 1`` positions (``"valid"``) or
        ``ceil(size / stride)`` (``"same"``).

    Example:
        >>> MaxPooling3D()(torch.ones(2, 4, 4, 4, 3)).shape
        torch.Size([2, 2, 2, 2, 3])
    """

    rank = 3
    mode = "max"


class AveragePooling1D(BasePooling):
    """Average pooling over steps.

    Args:
        pool_size: Window size, an integer or a tuple of 1 integers
            (default 2).
        strides: Window step, an integer, a tuple of 1 integers, or
            ``None`` (default) for ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (``ceil(size /
            stride)`` outputs per axis; padding is left out of the mean).
        data_format: ``"channels_last"`` (default, inputs ``(batch,
            steps, channels)``) or ``"channels_first"`` (``(batch,
            channels, steps)``).

    Shape:
        Output keeps batch and channels; each spatial axis has
        ``(size - pool) // stride + 1`` positions (``"valid"``) or
        ``ceil(size / stride)`` (``"same"``).

    Example:
        >>> AveragePooling1D()(torch.ones(2, 6, 3)).shape
        torch.Size([2, 3, 3])
    """

    rank = 1
    mode = "average"


class AveragePooling2D(BasePooling):
    """Average pooling over height and width.

    Args:
        pool_size: Window size, an integer or a tuple of 2 integers
            (default (2, 2)).
        strides: Window step, an integer, a tuple of 2 integers, or
            ``None`` (default) for ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (``ceil(size /
            stride)`` outputs per axis; padding is left out of the mean).
        data_format: ``"channels_last"`` (default, inputs ``(batch,
            height, width, channels)``) or ``"channels_first"`` (``(batch,
            channels, height, width)``).

    Shape:
        Output keeps batch and channels; each spatial axis has
        ``(size - pool) // stride + 1`` positions (``"valid"``) or
        ``ceil(size / stride)`` (``"same"``).

    Example:
        >>> AveragePooling2D()(torch.ones(2, 4, 4, 3)).shape
        torch.Size([2, 2, 2, 3])
    """

    rank = 2
    mode = "average"


class AveragePooling3D(BasePooling):
    """Average pooling over the three spatial axes.

    Args:
        pool_size: Window size, an integer or a tuple of 3 integers
            (default (2, 2, 2)).
        strides: Window step, an integer, a tuple of 3 integers, or
            ``None`` (default) for ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (``ceil(size /
            stride)`` outputs per axis; padding is left out of the mean).
        data_format: ``"channels_last"`` (default, inputs ``(batch,
            dim1, dim2, dim3, channels)``) or ``"channels_first"`` (``(batch,
            channels, dim1, dim2, dim3)``).

    Shape:
        Output keeps batch and channels; each spatial axis has
        ``(size - pool) // stride + 1`` positions (``"valid"``) or
        ``ceil(size / stride)`` (``"same"``).

    Example:
        >>> AveragePooling3D()(torch.ones(2, 4, 4, 4, 3)).shape
        torch.Size([2, 2, 2, 2, 3])
    """

    rank = 3
    mode = "average"

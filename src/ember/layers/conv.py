"""Convolution layers: ``Conv1D``, ``Conv2D``.

Kernels are created in Keras's layout ``(*kernel_size, in_channels // groups,
filters)``, so initializers see Keras's fans, then stored in PyTorch's layout
``(filters, in_channels // groups, *kernel_size)``. ``get_weights`` and
``set_weights`` convert back and forth, so weights move between Keras and ember.

channels_last inputs (Keras's default) are never copied: a ``(N, H, W, C)``
tensor permuted to ``(N, C, H, W)`` already is in PyTorch's ``channels_last``
memory format, which the convolution kernels consume directly, and the
result permuted back to ``(N, H, W, C)`` is contiguous. Conv1D runs as a 2-D
convolution over a height-1 image for the same reason.
"""

import torch
import torch.nn.functional as F

from ember import activations, constraints, initializers, regularizers
from ember.layers._config import activation_config
from ember.layers.core import regularization_config
from ember.layers.layer import Layer

__all__ = ["Conv1D", "Conv2D", "conv_output_length", "same_padding"]

DATA_FORMATS = ("channels_last", "channels_first")


# ---------------------------------------------------------------------- pure shape math
def same_padding(size, kernel_size, stride, dilation):
    """Padding ``(before, after)`` of one spatial axis for ``padding="same"``.

    The output has ``ceil(size / stride)`` positions; when the total padding is
    odd, the extra element goes after (right/bottom), as in Keras.

    Example:
        >>> same_padding(7, 2, 1, 1)
        (0, 1)
        >>> same_padding(8, 3, 2, 1)
        (0, 1)
    """
    effective = (kernel_size - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def conv_output_length(size, kernel_size, padding, stride, dilation):
    """Length of one output axis (``None`` for an unknown ``size``).

    Example:
        >>> conv_output_length(10, 3, "valid", 2, 1)
        4
        >>> conv_output_length(10, 3, "same", 2, 1)
        5
    """
    if size is None:
        return None
    if padding in ("same", "causal"):
        return -(-size // stride)
    effective = (kernel_size - 1) * dilation + 1
    return (size - effective) // stride + 1


# ---------------------------------------------------------------------- layout helpers
class _Permute:
    """``tensor.permute(dims)`` as a picklable callable (weight layout conversions)."""

    def __init__(self, dims):
        self.dims = tuple(dims)

    def __call__(self, tensor):
        return tensor.permute(self.dims)


class _InKerasLayout:
    """Applies a regularizer or constraint written for Keras's kernel layout to a
    kernel stored in PyTorch's layout (a constraint's result is converted back)."""

    def __init__(self, fn, to_keras, from_keras=None):
        self.fn = fn
        self.to_keras = to_keras
        self.from_keras = from_keras

    def __call__(self, weight):
        result = self.fn(self.to_keras(weight))
        return result if self.from_keras is None else self.from_keras(result)


def _normalize_tuple(value, rank, arg_name, layer_name):
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * rank
    try:
        value = tuple(value)
    except TypeError:
        value = None
    if (
        value is None
        or len(value) != rank
        or any(not isinstance(v, int) or isinstance(v, bool) or v <= 0 for v in value)
    ):
        raise ValueError(
            f"{layer_name} `{arg_name}` must be a positive integer or a tuple of {rank} positive integers, "
            f"got {arg_name}={value!r}."
        )
    return value


# ---------------------------------------------------------------------- layers
class BaseConv(Layer):
    """Shared implementation of the convolution layers; subclasses set ``rank``
    and ``call`` (``conv_more`` adds Conv3D and the transposed convolutions).
    """

    rank = None
    _paddings = ("valid", "same")
    # Whether ``strides`` > 1 may be combined with ``dilation_rate`` > 1.
    _strided_dilation = False

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        cls = type(self).__name__
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{cls} `filters` must be a positive integer, got filters={filters!r}.")
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{cls} `groups` must be a positive integer, got groups={groups!r}.")
        if filters % groups:
            raise ValueError(
                f"{cls} `filters` must be divisible by `groups`, got filters={filters} and groups={groups}. "
                f"Pick a number of filters that is a multiple of {groups}."
            )
        padding_value = padding.lower() if isinstance(padding, str) else padding
        if padding_value not in self._paddings:
            raise ValueError(f"{cls} `padding` must be one of {self._paddings}, got padding={padding!r}.")
        data_format = "channels_last" if data_format is None else data_format
        if data_format not in DATA_FORMATS:
            raise ValueError(f"{cls} `data_format` must be one of {DATA_FORMATS}, got data_format={data_format!r}.")
        self.filters = filters
        self.kernel_size = _normalize_tuple(kernel_size, self.rank, "kernel_size", cls)
        self.strides = _normalize_tuple(strides, self.rank, "strides", cls)
        self.dilation_rate = _normalize_tuple(dilation_rate, self.rank, "dilation_rate", cls)
        if not self._strided_dilation and max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{cls} does not support `strides` > 1 together with `dilation_rate` > 1, got "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}. Set one of them to 1."
            )
        self.padding = padding_value
        self.data_format = data_format
        self.groups = groups
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    # ------------------------------------------------------------------ build
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _check_input_shape(self, input_shape):
        if input_shape is None or len(input_shape) != self.rank + 2:
            layout = "spatial..., channels" if self.data_format == "channels_last" else "channels, spatial..."
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects inputs of rank {self.rank + 2} "
                f"(batch, {layout}), got shape {input_shape}."
            )

    def _keras_kernel_shape(self, in_channels):
        """Kernel shape in Keras's layout; the stored PyTorch layout is this
        shape permuted by ``(rank + 1, rank, 0, ..., rank - 1)``."""
        return self.kernel_size + (in_channels // self.groups, self.filters)

    def _input_channels(self, input_shape):
        """The checked number of input channels of ``input_shape``."""
        self._check_input_shape(input_shape)
        in_channels = input_shape[self._channel_axis()]
        if in_channels is None:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} needs a known number of input channels, got input "
                f"shape {tuple(input_shape)}."
            )
        if in_channels % self.groups:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r}: the number of input channels ({in_channels}) must "
                f"be divisible by `groups` ({self.groups}); full input shape {tuple(input_shape)}."
            )
        return in_channels

    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        rank = self.rank
        self.kernel = self._add_kernel(
            "kernel",
            self._keras_kernel_shape(in_channels),
            self.kernel_initializer,
            self.kernel_regularizer,
            self.kernel_constraint,
            to_torch=_Permute((rank + 1, rank) + tuple(range(rank))),
            to_keras=_Permute(tuple(range(2, rank + 2)) + (1, 0)),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    def _add_kernel(self, name, keras_shape, initializer, regularizer, constraint, to_torch, to_keras):
        """A kernel created in Keras's layout ``keras_shape`` (so initializers see
        Keras's fans), then stored in PyTorch's layout; ``to_torch``/``to_keras``
        convert between the two, and regularizers and constraints see Keras's."""
        kernel = self.add_weight(
            name=name,
            shape=keras_shape,
            initializer=initializer,
            regularizer=None if regularizer is None else _InKerasLayout(regularizer, to_keras),
            constraint=None if constraint is None else _InKerasLayout(constraint, to_keras, to_torch),
        )
        # Same Parameter object, now holding the kernel in PyTorch's layout.
        kernel.data = to_torch(kernel.data).contiguous()
        kernel._to_keras = to_keras
        kernel._from_keras = to_torch
        return kernel

    # ------------------------------------------------------------------ call
    def _padding_argument(self, spatial_sizes):
        """``(conv_padding, pad_for_F_pad)``: what to give the conv op, and an
        optional ``F.pad`` spec (last axis first) applied to the input before."""
        if self.padding == "valid":
            return 0, None
        if self.padding == "causal":
            left = (self.kernel_size[0] - 1) * self.dilation_rate[0]
            return 0, (left, 0)
        # Symmetric padding goes to the conv op (no copy); an odd total (even
        # kernels, or strides > 1) needs F.pad to put the extra element after.
        pads = [
            same_padding(size, k, s, d)
            for size, k, s, d in zip(spatial_sizes, self.kernel_size, self.strides, self.dilation_rate)
        ]
        if all(before == after for before, after in pads):
            return tuple(before for before, _ in pads), None
        spec = []
        for before, after in reversed(pads):
            spec.extend((before, after))
        return 0, tuple(spec)

    def _finish(self, outputs):
        if self.activation is not activations.linear:
            outputs = self.activation(outputs)
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(outputs) / outputs.shape[0])
        return outputs

    # ------------------------------------------------------------------ shapes and config
    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        if self.data_format == "channels_last":
            spatial = input_shape[1:-1]
        else:
            spatial = input_shape[2:]
        out = []
        for size, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate):
            length = conv_output_length(size, k, self.padding, s, d)
            if length is not None and length <= 0:
                raise ValueError(
                    f"{type(self).__name__} layer {self.name!r}: input shape {tuple(input_shape)} is too small for "
                    f"kernel_size={self.kernel_size}, dilation_rate={self.dilation_rate}, strides={self.strides} "
                    f"with padding={self.padding!r}; the output would be empty. Use padding='same' or a "
                    f"smaller kernel."
                )
            out.append(length)
        channels = self._output_channels(input_shape)
        if self.data_format == "channels_last":
            return (input_shape[0], *out, channels)
        return (input_shape[0], channels, *out)

    def _output_channels(self, input_shape):
        """Number of output channels for ``input_shape``."""
        return self.filters

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            groups=self.groups,
            activation=activation_config(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            **regularization_config(self),
        )
        return config

    def extra_repr(self):
        return (
            f"name={self.name!r}, filters={self.filters}, kernel_size={self.kernel_size}, "
            f"strides={self.strides}, padding={self.padding!r}, data_format={self.data_format!r}"
        )


class Conv1D(BaseConv):
    """1-D convolution (temporal convolution) over ``(batch, steps, channels)`` inputs.

    Args:
        filters: Number of output channels.
        kernel_size: Int or tuple of 1 int, the window length.
        strides: Int or tuple of 1 int (``strides`` > 1 cannot be combined
            with ``dilation_rate`` > 1).
        padding: ``"valid"`` (no padding), ``"same"`` (output length
            ``ceil(steps / strides)``, extra padding on the right) or
            ``"causal"`` (left padding only, so output ``t`` sees inputs ``<= t``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: Int or tuple of 1 int.
        groups: Number of channel groups; both channel counts must divide by it.
        activation: Activation name or callable (``None``: linear).
        use_bias: Whether to add a bias vector.
        kernel_initializer: Initializer of the kernel, in Keras's
            ``(kernel_size, in_channels // groups, filters)`` layout.
        bias_initializer: Initializer of the bias.
        kernel_regularizer, bias_regularizer: Optional regularizers (a name
            such as ``"l2"``, a config dict or a callable ``w -> scalar``; the
            kernel is seen in Keras's layout) added to ``layer.losses``.
        activity_regularizer: Optional regularizer of the output; its value
            divided by the batch size is added to ``layer.losses``.
        kernel_constraint, bias_constraint: Optional constraints (a name such
            as ``"max_norm"``, a config dict or a callable ``w -> w``; the
            kernel is given in Keras's layout, so ``MaxNorm(axis=[0, 1, 2])``
            constrains each filter) applied by the optimizer after each update.

    Shape:
        Input ``(batch, steps, channels)`` (channels_last) or
        ``(batch, channels, steps)``; output likewise with ``filters`` channels.

    Example:
        >>> Conv1D(4, 3)(torch.ones(2, 10, 3)).shape
        torch.Size([2, 8, 4])
    """

    rank = 1
    _paddings = ("valid", "same", "causal")

    def call(self, inputs):
        return self._finish(self._convolve(inputs, self.kernel, self.bias, self.groups))

    def _convolve(self, inputs, kernel, bias, groups):
        """The convolution of ``inputs`` with a PyTorch-layout ``kernel``, in the
        layer's data format, with its strides, padding and dilation."""
        if self.data_format == "channels_first":
            conv_padding, pad = self._padding_argument(inputs.shape[2:])
            if pad is not None:
                inputs = F.pad(inputs, pad)
            return F.conv1d(inputs, kernel, bias, self.strides, conv_padding, self.dilation_rate, groups)
        conv_padding, pad = self._padding_argument(inputs.shape[1:2])
        # (N, L, C) -> (N, C, 1, L): a channels_last view of a height-1 image, no copy.
        images = inputs.unsqueeze(1).permute(0, 3, 1, 2)
        if pad is not None:
            images = F.pad(images, pad)
        if conv_padding != 0:
            conv_padding = (0,) + conv_padding
        outputs = F.conv2d(
            images, kernel.unsqueeze(2), bias, (1,) + self.strides, conv_padding, (1,) + self.dilation_rate, groups
        )
        return outputs.permute(0, 2, 3, 1).squeeze(1)


class Conv2D(BaseConv):
    """2-D convolution over images.

    Args:
        filters: Number of output channels.
        kernel_size: Int or tuple of 2 ints ``(height, width)``.
        strides: Int or tuple of 2 ints (``strides`` > 1 cannot be combined
            with ``dilation_rate`` > 1).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size
            ``ceil(size / strides)``; odd total padding puts the extra row and
            column at the bottom and right, as Keras does).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: Int or tuple of 2 ints.
        groups: Number of channel groups; both channel counts must divide by it.
        activation: Activation name or callable (``None``: linear).
        use_bias: Whether to add a bias vector.
        kernel_initializer: Initializer of the kernel, in Keras's
            ``(kh, kw, in_channels // groups, filters)`` layout.
        bias_initializer: Initializer of the bias.
        kernel_regularizer, bias_regularizer: Optional regularizers (a name
            such as ``"l2"``, a config dict or a callable ``w -> scalar``; the
            kernel is seen in Keras's layout) added to ``layer.losses``.
        activity_regularizer: Optional regularizer of the output; its value
            divided by the batch size is added to ``layer.losses``.
        kernel_constraint, bias_constraint: Optional constraints (a name such
            as ``"max_norm"``, a config dict or a callable ``w -> w``; the
            kernel is given in Keras's layout, so ``MaxNorm(axis=[0, 1, 2])``
            constrains each filter) applied by the optimizer after each update.

    Shape:
        Input ``(batch, height, width, channels)`` (channels_last) or
        ``(batch, channels, height, width)``; output likewise with ``filters``
        channels.

    Example:
        >>> Conv2D(4, 3)(torch.ones(2, 8, 8, 3)).shape
        torch.Size([2, 6, 6, 4])
    """

    rank = 2

    def call(self, inputs):
        return self._finish(self._convolve(inputs, self.kernel, self.bias, self.groups))

    def _convolve(self, inputs, kernel, bias, groups):
        """The convolution of ``inputs`` with a PyTorch-layout ``kernel``, in the
        layer's data format, with its strides, padding and dilation."""
        channels_last = self.data_format == "channels_last"
        if channels_last:
            # (N, H, W, C) -> (N, C, H, W): already channels_last in memory, no copy.
            inputs = inputs.permute(0, 3, 1, 2)
        conv_padding, pad = self._padding_argument(inputs.shape[2:])
        if pad is not None:
            inputs = F.pad(inputs, pad)
        outputs = F.conv2d(inputs, kernel, bias, self.strides, conv_padding, self.dilation_rate, groups)
        if channels_last:
            outputs = outputs.permute(0, 2, 3, 1)
        return outputs

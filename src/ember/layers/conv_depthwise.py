"""Depthwise and separable convolutions: ``DepthwiseConv1D``, ``DepthwiseConv2D``,
``SeparableConv1D``, ``SeparableConv2D``.

A depthwise convolution convolves each input channel with its own
``depth_multiplier`` filters: a PyTorch convolution with ``groups`` equal to the
number of input channels and ``in_channels * depth_multiplier`` outputs, output
channel ``c * depth_multiplier + m`` coming from input channel ``c``. A separable
convolution follows it with a pointwise (1x1) convolution to ``filters``
channels, then adds the bias.

Kernels are created in Keras's layouts, so initializers see Keras's fans, and
stored in PyTorch's:

* depthwise: Keras ``(*kernel_size, in, depth_multiplier)``, PyTorch
  ``(in * depth_multiplier, 1, *kernel_size)``;
* pointwise: Keras ``(1, ..., in * depth_multiplier, filters)``, PyTorch
  ``(filters, in * depth_multiplier, 1, ...)``.

``get_weights``/``set_weights`` use Keras's layouts.
"""

import types

import torch.nn.functional as F

from ember import constraints, initializers, regularizers
from ember.layers.conv import BaseConv, Conv1D, Conv2D, _Permute
from ember.layers.core import regularization_config

__all__ = ["DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"]


# ---------------------------------------------------------------------- layout helpers
class _DepthwiseToTorch:
    """Keras ``(*k, in, dm)`` -> PyTorch ``(in * dm, 1, *k)`` (picklable)."""

    def __init__(self, rank):
        self.rank = rank

    def __call__(self, tensor):
        spatial = tuple(tensor.shape[: self.rank])
        flat = tensor.reshape(spatial + (-1,))
        return flat.permute((self.rank,) + tuple(range(self.rank))).unsqueeze(1)


class _DepthwiseToKeras:
    """PyTorch ``(in * dm, 1, *k)`` -> Keras ``(*k, in, dm)`` (picklable)."""

    def __init__(self, rank, depth_multiplier):
        self.rank = rank
        self.depth_multiplier = depth_multiplier

    def __call__(self, tensor):
        flat = tensor.squeeze(1).permute(tuple(range(1, self.rank + 1)) + (0,))
        return flat.reshape(tuple(flat.shape[: self.rank]) + (-1, self.depth_multiplier))


def _check_depth_multiplier(cls, depth_multiplier):
    if not isinstance(depth_multiplier, int) or isinstance(depth_multiplier, bool) or depth_multiplier <= 0:
        raise ValueError(
            f"{cls.__name__} `depth_multiplier` must be a positive integer, got "
            f"depth_multiplier={depth_multiplier!r}."
        )


def _kernel_entries_as(config, prefix):
    """Renames the ``kernel_*`` entries of a convolution config to ``{prefix}_*``."""
    for kind in ("initializer", "regularizer", "constraint"):
        config[f"{prefix}_{kind}"] = config.pop(f"kernel_{kind}")
    return config


class _DepthwiseKernelArgs:
    """Keras's ``depthwise_*`` names of the depthwise kernel's settings."""

    @property
    def depthwise_initializer(self):
        return self.kernel_initializer

    @property
    def depthwise_regularizer(self):
        return self.kernel_regularizer

    @property
    def depthwise_constraint(self):
        return self.kernel_constraint


# ---------------------------------------------------------------------- depthwise
class BaseDepthwiseConv(_DepthwiseKernelArgs, BaseConv):
    """Shared implementation of ``DepthwiseConv1D``/``DepthwiseConv2D``; the
    convolution itself comes from ``Conv1D``/``Conv2D`` with ``groups`` set to
    the number of input channels at build time."""

    _strided_dilation = True

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        _check_depth_multiplier(type(self), depth_multiplier)
        super().__init__(
            depth_multiplier,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        self.depth_multiplier = depth_multiplier
        self.filters = None  # in_channels * depth_multiplier, known at build time

    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        self.groups = in_channels
        self.filters = in_channels * self.depth_multiplier
        self.kernel = self._add_kernel(
            "kernel",
            self.kernel_size + (in_channels, self.depth_multiplier),
            self.kernel_initializer,
            self.kernel_regularizer,
            self.kernel_constraint,
            to_torch=_DepthwiseToTorch(self.rank),
            to_keras=_DepthwiseToKeras(self.rank, self.depth_multiplier),
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

    def _output_channels(self, input_shape):
        in_channels = input_shape[self._channel_axis()]
        return None if in_channels is None else in_channels * self.depth_multiplier

    def get_config(self):
        config = _kernel_entries_as(super().get_config(), "depthwise")
        del config["filters"], config["groups"]
        config["depth_multiplier"] = self.depth_multiplier
        return config

    def extra_repr(self):
        return (
            f"name={self.name!r}, kernel_size={self.kernel_size}, depth_multiplier={self.depth_multiplier}, "
            f"strides={self.strides}, padding={self.padding!r}, data_format={self.data_format!r}"
        )


_DEPTHWISE_ARGS = """
    Args:
        kernel_size: Int or tuple of {rank} int(s), the window size.
        strides: Int or tuple of {rank} int(s).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size
            ``ceil(size / strides)``; an odd total padding puts the extra
            element after, as Keras does).
        depth_multiplier: Number of output channels per input channel.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: Int or tuple of {rank} int(s).
        activation: Activation name or callable (``None``: linear).
        use_bias: Whether to add a bias vector of ``in_channels * depth_multiplier``.
        depthwise_initializer: Initializer of the kernel, in Keras's
            ``(*kernel_size, in_channels, depth_multiplier)`` layout.
        bias_initializer: Initializer of the bias.
        depthwise_regularizer, bias_regularizer: Optional regularizers (the
            kernel is seen in Keras's layout) added to ``layer.losses``.
        activity_regularizer: Optional regularizer of the output; its value
            divided by the batch size is added to ``layer.losses``.
        depthwise_constraint, bias_constraint: Optional constraints (the kernel
            is given in Keras's layout) applied by the optimizer after each update.
"""


class DepthwiseConv1D(BaseDepthwiseConv, Conv1D):
    """Depthwise 1-D convolution: each channel of ``(batch, steps, channels)``
    inputs is convolved with its own ``depth_multiplier`` filters.

    {args}

    Shape:
        Input ``(batch, steps, channels)`` (channels_last) or
        ``(batch, channels, steps)``; output likewise with
        ``channels * depth_multiplier`` channels.

    Example:
        >>> DepthwiseConv1D(3, depth_multiplier=2)(torch.ones(2, 10, 3)).shape
        torch.Size([2, 8, 6])
    """

    rank = 1
    _paddings = ("valid", "same")


class DepthwiseConv2D(BaseDepthwiseConv, Conv2D):
    """Depthwise 2-D convolution: each channel of an image is convolved with its
    own ``depth_multiplier`` filters.

    {args}

    Shape:
        Input ``(batch, height, width, channels)`` (channels_last) or
        ``(batch, channels, height, width)``; output likewise with
        ``channels * depth_multiplier`` channels.

    Example:
        >>> DepthwiseConv2D(3, depth_multiplier=2)(torch.ones(2, 8, 8, 3)).shape
        torch.Size([2, 6, 6, 6])
    """

    rank = 2


# ---------------------------------------------------------------------- separable
class BaseSeparableConv(_DepthwiseKernelArgs, BaseConv):
    """Shared implementation of ``SeparableConv1D``/``SeparableConv2D``: the
    depthwise step uses ``Conv1D``/``Conv2D``'s convolution, the pointwise step a
    matrix product over the channels."""

    _strided_dilation = True

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        _check_depth_multiplier(type(self), depth_multiplier)
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        self.depth_multiplier = depth_multiplier
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        in_channels = self._input_channels(input_shape)
        rank = self.rank
        self.depthwise_kernel = self._add_kernel(
            "depthwise_kernel",
            self.kernel_size + (in_channels, self.depth_multiplier),
            self.kernel_initializer,
            self.kernel_regularizer,
            self.kernel_constraint,
            to_torch=_DepthwiseToTorch(rank),
            to_keras=_DepthwiseToKeras(rank, self.depth_multiplier),
        )
        self.pointwise_kernel = self._add_kernel(
            "pointwise_kernel",
            (1,) * rank + (in_channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer,
            self.pointwise_regularizer,
            self.pointwise_constraint,
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

    def call(self, inputs):
        in_channels = self.depthwise_kernel.shape[0] // self.depth_multiplier
        depthwise = self._convolve(inputs, self.depthwise_kernel, None, in_channels)
        if self.data_format == "channels_last":
            outputs = F.linear(depthwise, self.pointwise_kernel.flatten(1), self.bias)
        else:
            conv = F.conv1d if self.rank == 1 else F.conv2d
            outputs = conv(depthwise, self.pointwise_kernel, self.bias)
        return self._finish(outputs)

    def get_config(self):
        config = _kernel_entries_as(super().get_config(), "depthwise")
        del config["groups"]
        pointwise = regularization_config(
            types.SimpleNamespace(
                kernel_regularizer=self.pointwise_regularizer,
                kernel_constraint=self.pointwise_constraint,
                bias_regularizer=None,
                activity_regularizer=None,
                bias_constraint=None,
            )
        )
        config.update(
            depth_multiplier=self.depth_multiplier,
            pointwise_initializer=initializers.serialize(self.pointwise_initializer),
            pointwise_regularizer=pointwise["kernel_regularizer"],
            pointwise_constraint=pointwise["kernel_constraint"],
        )
        return config


_SEPARABLE_ARGS = """
    Args:
        filters: Number of output channels.
        kernel_size: Int or tuple of {rank} int(s), the depthwise window size.
        strides: Int or tuple of {rank} int(s) of the depthwise step.
        padding: ``"valid"`` or ``"same"``, as in ``DepthwiseConv{rank}D``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: Int or tuple of {rank} int(s) of the depthwise step.
        depth_multiplier: Depthwise output channels per input channel.
        activation: Activation name or callable (``None``: linear).
        use_bias: Whether to add a bias vector of ``filters``.
        depthwise_initializer: Initializer of the depthwise kernel, in Keras's
            ``(*kernel_size, in_channels, depth_multiplier)`` layout.
        pointwise_initializer: Initializer of the pointwise kernel, in Keras's
            ``(1, ..., in_channels * depth_multiplier, filters)`` layout.
        bias_initializer: Initializer of the bias.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer:
            Optional regularizers (kernels are seen in Keras's layouts).
        activity_regularizer: Optional regularizer of the output; its value
            divided by the batch size is added to ``layer.losses``.
        depthwise_constraint, pointwise_constraint, bias_constraint: Optional
            constraints applied by the optimizer after each update.
"""


class SeparableConv1D(BaseSeparableConv, Conv1D):
    """Depthwise separable 1-D convolution: a depthwise convolution followed by a
    pointwise convolution mixing the channels.

    {args}

    Shape:
        Input ``(batch, steps, channels)`` (channels_last) or
        ``(batch, channels, steps)``; output likewise with ``filters`` channels.

    Example:
        >>> SeparableConv1D(4, 3)(torch.ones(2, 10, 3)).shape
        torch.Size([2, 8, 4])
    """

    rank = 1
    _paddings = ("valid", "same")


class SeparableConv2D(BaseSeparableConv, Conv2D):
    """Depthwise separable 2-D convolution: a depthwise convolution followed by a
    pointwise (1x1) convolution mixing the channels.

    {args}

    Shape:
        Input ``(batch, height, width, channels)`` (channels_last) or
        ``(batch, channels, height, width)``; output likewise with ``filters``
        channels.

    Example:
        >>> SeparableConv2D(4, 3)(torch.ones(2, 8, 8, 3)).shape
        torch.Size([2, 6, 6, 4])
    """

    rank = 2


for _cls, _args in (
    (DepthwiseConv1D, _DEPTHWISE_ARGS),
    (DepthwiseConv2D, _DEPTHWISE_ARGS),
    (SeparableConv1D, _SEPARABLE_ARGS),
    (SeparableConv2D, _SEPARABLE_ARGS),
):
    _cls.__doc__ = _cls.__doc__.replace("{args}", _args.format(rank=_cls.rank).strip())
del _cls, _args

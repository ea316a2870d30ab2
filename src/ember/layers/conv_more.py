"""More convolution layers: ``Conv3D`` and the transposed convolutions
``Conv1DTranspose``, ``Conv2DTranspose``, ``Conv3DTranspose``.

They share ``BaseConv`` (argument checks, kernel layout conversion, config)
with ``Conv1D``/``Conv2D``. Kernels are created in Keras's layout, so
initializers see Keras's fans, and stored in PyTorch's layout:

* ``Conv3D``: Keras ``(kd, kh, kw, in // groups, filters)``, PyTorch
  ``(filters, in // groups, kd, kh, kw)``.
* transposed: Keras ``(*kernel_size, filters, in)``, PyTorch
  ``(in, filters, *kernel_size)``, the same axis permutation as above.

A transposed convolution is computed as the full (unpadded) PyTorch transposed
convolution, then cropped or zero-extended to Keras's output length: the
result equals the gradient of the matching forward convolution, as in Keras.
"""

import torch
import torch.nn.functional as F

from ember.layers.conv import BaseConv

__all__ = [
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "deconv_output_length",
]

_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


# ---------------------------------------------------------------------- pure shape math
def deconv_output_length(size, kernel_size, padding, output_padding, stride, dilation):
    """Length of one output axis of a transposed convolution (``None`` for an unknown ``size``).

    Without ``output_padding`` the length is ``size * stride`` (``"same"``) or
    ``size * stride + max(effective_kernel - stride, 0)`` (``"valid"``); with it,
    ``(size - 1) * stride + effective_kernel - 2 * pad + output_padding`` where
    ``pad`` is ``effective_kernel // 2`` for ``"same"`` and 0 for ``"valid"``.

    Example:
        >>> deconv_output_length(5, 3, "valid", None, 2, 1)
        11
        >>> deconv_output_length(5, 3, "same", 1, 2, 1)
        10
    """
    if size is None:
        return None
    effective = (kernel_size - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(effective - stride, 0)
        return size * stride
    pad = effective // 2 if padding == "same" else 0
    return (size - 1) * stride + effective - 2 * pad + output_padding


def _crop_before(size, out_size, kernel_size, padding, stride, dilation):
    """Elements of the full transposed output dropped before the kept window:
    the leading padding of the forward convolution this one is the gradient of."""
    if padding == "valid":
        return 0
    effective = (kernel_size - 1) * dilation + 1
    return max((size - 1) * stride + effective - out_size, 0) // 2


# ---------------------------------------------------------------------- Conv3D
class Conv3D(BaseConv):
    """3-D convolution over volumes (e.g. spatial volumes or video).

    Args:
        filters: Number of output channels.
        kernel_size: Int or tuple of 3 ints ``(depth, height, width)``.
        strides: Int or tuple of 3 ints (``strides`` > 1 cannot be combined
            with ``dilation_rate`` > 1).
        padding: ``"valid"`` or ``"same"`` (output size ``ceil(size / strides)``;
            an odd total padding puts the extra element after, as Keras does).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: Int or tuple of 3 ints.
        groups: Number of channel groups; both channel counts must divide by it.
        activation: Activation name or callable (``None``: linear).
        use_bias: Whether to add a bias vector.
        kernel_initializer: Initializer of the kernel, in Keras's
            ``(kd, kh, kw, in_channels // groups, filters)`` layout.
        bias_initializer: Initializer of the bias.
        kernel_regularizer, bias_regularizer, activity_regularizer: Optional
            regularizers, as in ``Conv2D``.
        kernel_constraint, bias_constraint: Optional constraints, as in ``Conv2D``.

    Shape:
        Input ``(batch, depth, height, width, channels)`` (channels_last) or
        ``(batch, channels, depth, height, width)``; output likewise with
        ``filters`` channels.

    Example:
        >>> Conv3D(4, 3)(torch.ones(2, 5, 6, 7, 3)).shape
        torch.Size([2, 3, 4, 5, 4])
    """

    rank = 3

    def call(self, inputs):
        channels_last = self.data_format == "channels_last"
        if channels_last:
            # (N, D, H, W, C) -> (N, C, D, H, W): a view in channels_last_3d memory format, no copy.
            inputs = inputs.permute(0, 4, 1, 2, 3)
        conv_padding, pad = self._padding_argument(inputs.shape[2:])
        if pad is not None:
            inputs = F.pad(inputs, pad)
        outputs = F.conv3d(inputs, self.kernel, self.bias, self.strides, conv_padding, self.dilation_rate, self.groups)
        if channels_last:
            outputs = outputs.permute(0, 2, 3, 4, 1)
        return self._finish(outputs)


# ---------------------------------------------------------------------- transposed convolutions
class BaseConvTranspose(BaseConv):
    """Shared implementation of the transposed convolutions; subclasses set ``rank``."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
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
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=1,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        cls = type(self).__name__
        if output_padding is not None:
            if isinstance(output_padding, int) and not isinstance(output_padding, bool):
                output_padding = (output_padding,) * self.rank
            output_padding = tuple(output_padding) if isinstance(output_padding, (tuple, list)) else output_padding
            if (
                not isinstance(output_padding, tuple)
                or len(output_padding) != self.rank
                or any(not isinstance(p, int) or isinstance(p, bool) or p < 0 for p in output_padding)
            ):
                raise ValueError(
                    f"{cls} `output_padding` must be None, a non-negative integer or a tuple of {self.rank} "
                    f"non-negative integers, got output_padding={output_padding!r}."
                )
            for axis, (p, s) in enumerate(zip(output_padding, self.strides)):
                if p >= s:
                    raise ValueError(
                        f"{cls} `output_padding` must be strictly less than `strides` on every axis, got "
                        f"output_padding={output_padding} and strides={self.strides} (axis {axis}). Lower "
                        f"output_padding or raise strides."
                    )
        self.output_padding = output_padding

    def _keras_kernel_shape(self, in_channels):
        return self.kernel_size + (self.filters, in_channels)

    def _output_sizes(self, spatial):
        output_padding = self.output_padding or (None,) * self.rank
        return [
            deconv_output_length(size, k, self.padding, p, s, d)
            for size, k, p, s, d in zip(spatial, self.kernel_size, output_padding, self.strides, self.dilation_rate)
        ]

    def call(self, inputs):
        rank = self.rank
        channels_last = self.data_format == "channels_last"
        if channels_last:
            # (N, *spatial, C) -> (N, C, *spatial): a view, no copy.
            inputs = inputs.permute(0, rank + 1, *range(1, rank + 1))
        spatial = inputs.shape[2:]
        out_sizes = self._output_sizes(spatial)
        spec = []  # F.pad spec, last axis first; negative values crop
        for size, out, k, s, d in reversed(
            list(zip(spatial, out_sizes, self.kernel_size, self.strides, self.dilation_rate))
        ):
            full = (size - 1) * s + (k - 1) * d + 1
            before = _crop_before(size, out, k, self.padding, s, d)
            spec.extend((-before, out + before - full))
        needs_pad = any(spec)
        # The bias goes in after the crop/extension so zero-extended elements get it too.
        outputs = _CONV_TRANSPOSE[rank](
            inputs,
            self.kernel,
            None if needs_pad else self.bias,
            self.strides,
            0,
            0,
            1,
            self.dilation_rate,
        )
        if needs_pad:
            outputs = F.pad(outputs, tuple(spec))
            if self.bias is not None:
                outputs = outputs + self.bias.view(-1, *([1] * rank))
        if channels_last:
            outputs = outputs.permute(0, *range(2, rank + 2), 1)
        return self._finish(outputs)

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        channels_last = self.data_format == "channels_last"
        spatial = input_shape[1:-1] if channels_last else input_shape[2:]
        out = self._output_sizes(spatial)
        if channels_last:
            return (input_shape[0], *out, self.filters)
        return (input_shape[0], self.filters, *out)

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = self.output_padding
        return config


_TRANSPOSE_ARGS = """
    Args:
        filters: Number of output channels.
        kernel_size: Int or tuple of {rank} ints.
        strides: Int or tuple of {rank} ints (``strides`` > 1 cannot be combined
            with ``dilation_rate`` > 1).
        padding: ``"valid"`` or ``"same"``.
        output_padding: ``None`` (output length ``size * strides`` for
            ``"same"``, ``size * strides + max(kernel - strides, 0)`` for
            ``"valid"``) or an int / tuple of {rank} ints, each less than its
            stride, giving the extra length along each axis.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: Int or tuple of {rank} ints.
        activation: Activation name or callable (``None``: linear).
        use_bias: Whether to add a bias vector.
        kernel_initializer: Initializer of the kernel, in Keras's
            ``(*kernel_size, filters, in_channels)`` layout.
        bias_initializer: Initializer of the bias.
        kernel_regularizer, bias_regularizer, activity_regularizer: Optional
            regularizers, as in ``Conv2D`` (the kernel is seen in Keras's layout).
        kernel_constraint, bias_constraint: Optional constraints, as in ``Conv2D``.
"""


class Conv1DTranspose(BaseConvTranspose):
    __doc__ = (
        "Transposed 1-D convolution (the gradient of ``Conv1D``), e.g. to upsample sequences.\n"
        + _TRANSPOSE_ARGS.format(rank=1)
        + """
    Shape:
        Input ``(batch, steps, channels)`` (channels_last) or
        ``(batch, channels, steps)``; output likewise with ``filters`` channels.

    Example:
        >>> Conv1DTranspose(4, 3, strides=2)(torch.ones(2, 5, 3)).shape
        torch.Size([2, 11, 4])
    """
    )

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    __doc__ = (
        "Transposed 2-D convolution (the gradient of ``Conv2D``), e.g. to upsample images.\n"
        + _TRANSPOSE_ARGS.format(rank=2)
        + """
    Shape:
        Input ``(batch, height, width, channels)`` (channels_last) or
        ``(batch, channels, height, width)``; output likewise with ``filters``
        channels.

    Example:
        >>> Conv2DTranspose(4, 3, strides=2, padding="same")(torch.ones(2, 5, 5, 3)).shape
        torch.Size([2, 10, 10, 4])
    """
    )

    rank = 2


class Conv3DTranspose(BaseConvTranspose):
    __doc__ = (
        "Transposed 3-D convolution (the gradient of ``Conv3D``), e.g. to upsample volumes.\n"
        + _TRANSPOSE_ARGS.format(rank=3)
        + """
    Shape:
        Input ``(batch, depth, height, width, channels)`` (channels_last) or
        ``(batch, channels, depth, height, width)``; output likewise with
        ``filters`` channels.

    Example:
        >>> Conv3DTranspose(2, 2, strides=2)(torch.ones(1, 3, 3, 3, 3)).shape
        torch.Size([1, 6, 6, 6, 2])
    """
    )

    rank = 3

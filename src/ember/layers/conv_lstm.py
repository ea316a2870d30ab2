"""``ConvLSTM2D``: an LSTM whose input and recurrent transforms are 2-D convolutions.

Weights use Keras's layouts: ``kernel (kh, kw, channels, 4 * filters)``,
``recurrent_kernel (kh, kw, filters, 4 * filters)``, ``bias (4 * filters,)``,
gate order ``i, f, c, o``. The input convolution uses the layer's strides,
padding and dilation; the recurrent one is always stride 1, ``"same"``.
Inputs are channels_last ``(batch, time, rows, cols, channels)``.
"""

import torch.nn.functional as F

from ember import activations
from ember.layers._config import activation_config
from ember.layers.conv import _normalize_tuple, conv_output_length, same_padding
from ember.layers.lstm import _UnitForgetBias
from ember.layers.rnn_base import RNNBase

__all__ = ["ConvLSTM2D"]

MSG_RANK = (
    "ConvLSTM2D layer {name!r} expects inputs of rank 5, (batch, timesteps, rows, cols, channels), got "
    "shape {shape}."
)


def conv2d_nhwc(x, kernel, strides, padding, dilation):
    """2-D convolution of a channels_last ``x`` with a Keras-layout ``(kh, kw, in, out)`` kernel."""
    x = x.permute(0, 3, 1, 2)
    weight = kernel.permute(3, 2, 0, 1)
    if padding == "same":
        pads = [same_padding(x.shape[2 + i], kernel.shape[i], strides[i], dilation[i]) for i in range(2)]
        if any(p != (0, 0) for p in pads):
            x = F.pad(x, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    return F.conv2d(x, weight, stride=strides, dilation=dilation).permute(0, 2, 3, 1)


class ConvLSTM2D(RNNBase):
    """Convolutional LSTM (Shi et al., 2015), as Keras's ``ConvLSTM2D`` (channels_last only).

    Args:
        filters: Number of output channels (the state's channels).
        kernel_size: Int or pair, the size of both convolutions' windows.
        strides: Strides of the input convolution.
        padding: ``"valid"`` or ``"same"`` for the input convolution.
        data_format: ``"channels_last"`` (or ``None``).
        dilation_rate: Dilation of the input convolution.
        **kwargs: The other arguments of ``LSTM`` (activations, initializers,
            regularizers, constraints, dropout, return_sequences,
            return_state, go_backwards, stateful).

    Shape:
        Input ``(batch, time, rows, cols, channels)``; output ``(batch,
        new_rows, new_cols, filters)``, with a time axis after the batch when
        ``return_sequences``.

    Example:
        >>> import torch
        >>> ConvLSTM2D(2, 3, padding="same")(torch.ones(1, 4, 5, 5, 3)).shape
        torch.Size([1, 5, 5, 2])
    """

    gates = 4
    num_states = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        **kwargs,
    ):
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"ConvLSTM2D `filters` must be a positive integer, got filters={filters!r}.")
        kwargs.pop("unroll", None)
        super().__init__(filters, activation=activation, **kwargs)
        self.filters = filters
        self.kernel_size = _normalize_tuple(kernel_size, 2, "kernel_size", "ConvLSTM2D")
        self.strides = _normalize_tuple(strides, 2, "strides", "ConvLSTM2D")
        self.dilation_rate = _normalize_tuple(dilation_rate, 2, "dilation_rate", "ConvLSTM2D")
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in ("valid", "same"):
            raise ValueError(f"ConvLSTM2D `padding` must be 'valid' or 'same', got padding={padding!r}.")
        self.padding = padding
        if data_format not in (None, "channels_last"):
            raise ValueError(
                f"ConvLSTM2D supports data_format='channels_last' only, got data_format={data_format!r}. "
                "Permute the input to (batch, time, rows, cols, channels)."
            )
        self.data_format = "channels_last"
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _check_input_shape(self, shape):
        if shape is None or len(shape) != 5:
            raise ValueError(MSG_RANK.format(name=self.name, shape=tuple(shape or ())))

    def _output_spatial(self, rows, cols):
        return tuple(
            conv_output_length(size, self.kernel_size[i], self.padding, self.strides[i], self.dilation_rate[i])
            for i, size in enumerate((rows, cols))
        )

    def _state_shape(self, inputs):
        return (inputs.shape[0],) + self._output_spatial(inputs.shape[2], inputs.shape[3]) + (self.filters,)

    def _build_weights(self, input_dim):
        kh, kw = self.kernel_size
        n = 4 * self.filters
        self.kernel = self.add_weight(
            name="kernel",
            shape=(kh, kw, input_dim, n),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(kh, kw, self.filters, n),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            bias_init = self.bias_initializer
            if self.unit_forget_bias:
                bias_init = _UnitForgetBias(self.bias_initializer, self.filters)
            self.bias = self.add_weight(
                name="bias",
                shape=(n,),
                initializer=bias_init,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _project_inputs(self, inputs):
        batch, steps = inputs.shape[:2]
        folded = inputs.reshape((batch * steps,) + tuple(inputs.shape[2:]))
        projected = conv2d_nhwc(folded, self.kernel, self.strides, self.padding, self.dilation_rate)
        if self.use_bias:
            projected = projected + self.bias
        return projected.reshape((batch, steps) + tuple(projected.shape[1:]))

    def _step(self, projected, states, recurrent_mask):
        h, c = states
        h_in = h if recurrent_mask is None else h * recurrent_mask
        z = projected + conv2d_nhwc(h_in, self.recurrent_kernel, (1, 1), "same", (1, 1))
        i, f, g, o = z.chunk(4, dim=-1)
        i, f, o = self.recurrent_activation(i), self.recurrent_activation(f), self.recurrent_activation(o)
        c = f * c + i * self.activation(g)
        h = o * self.activation(c)
        return h, [h, c]

    def compute_output_shape(self, input_shape):
        if self.return_state:
            raise NotImplementedError  # several outputs: inferred by tracing the call
        self._check_input_shape(input_shape)
        spatial = self._output_spatial(input_shape[2], input_shape[3])
        head = (input_shape[0], input_shape[1]) if self.return_sequences else (input_shape[0],)
        return head + spatial + (self.filters,)

    def get_config(self):
        config = super().get_config()
        del config["units"], config["unroll"]
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            recurrent_activation=activation_config(self.recurrent_activation),
            unit_forget_bias=self.unit_forget_bias,
        )
        return config

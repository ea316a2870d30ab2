"""``GRU``: gated recurrent unit in Keras's weight layout, on PyTorch's fused kernel.

Keras orders the gates ``z, r, h`` (update, reset, candidate): ``kernel
(input_dim, 3 * units)``, ``recurrent_kernel (units, 3 * units)`` and, with
``reset_after=True`` (the default, the variant PyTorch computes), ``bias (2,
3 * units)`` holding the input bias and the recurrent bias. PyTorch orders
them ``r, z, n``; the fused path reorders and transposes.
"""

import torch

from ember import activations
from ember.layers._config import activation_config
from ember.layers.rnn_base import RNNBase

__all__ = ["GRU", "gru_step"]


def gru_step(x_parts, h, h_recurrent, recurrent_kernel, recurrent_bias, reset_after, activation, recurrent_activation):
    """One GRU timestep.

    Args:
        x_parts: ``x_t @ kernel + input_bias``, shape ``(batch, 3 * units)``.
        h: Previous state (the carry).
        h_recurrent: Previous state after any recurrent dropout (enters the
            recurrent transform).
        recurrent_kernel: ``(units, 3 * units)``.
        recurrent_bias: ``(3 * units,)`` or ``None`` (``reset_after`` only).
        reset_after: Apply the reset gate after the recurrent matmul.

    Returns:
        The new state.
    """
    units = h.shape[-1]
    x_z, x_r, x_h = x_parts.chunk(3, dim=-1)
    if reset_after:
        inner = h_recurrent @ recurrent_kernel
        if recurrent_bias is not None:
            inner = inner + recurrent_bias
        rec_z, rec_r, rec_h = inner.chunk(3, dim=-1)
        z = recurrent_activation(x_z + rec_z)
        r = recurrent_activation(x_r + rec_r)
        candidate = activation(x_h + r * rec_h)
    else:
        rec_zr = h_recurrent @ recurrent_kernel[:, : 2 * units]
        z = recurrent_activation(x_z + rec_zr[:, :units])
        r = recurrent_activation(x_r + rec_zr[:, units:])
        candidate = activation(x_h + (r * h_recurrent) @ recurrent_kernel[:, 2 * units :])
    return z * h + (1 - z) * candidate


def _zrh_to_rzn(tensor, units):
    """Reorder the gate blocks of the first axis from Keras's ``z, r, h`` to PyTorch's ``r, z, n``."""
    return torch.cat([tensor[units : 2 * units], tensor[:units], tensor[2 * units :]])


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al., 2014), as Keras's ``GRU``.

    Args:
        units: Size of the state and output.
        activation: Candidate activation (``"tanh"``).
        recurrent_activation: Gate activation (``"sigmoid"``).
        reset_after: Apply the reset gate after the recurrent matmul (``True``,
            PyTorch's and cuDNN's variant) or before it (``False``).
        **kwargs: The other arguments of ``LSTM`` (initializers, regularizers,
            constraints, dropout, return_sequences, return_state, go_backwards,
            stateful, unroll).

    Example:
        >>> GRU(4)(torch.ones(2, 5, 3)).shape
        torch.Size([2, 4])
    """

    gates = 3
    num_states = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _build_weights(self, input_dim):
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._add_kernels(input_dim, shape, self.bias_initializer)

    def _fused_ok(self):
        return (
            self.reset_after
            and self.activation is activations.tanh
            and self.recurrent_activation is activations.sigmoid
        )

    def _fused(self, inputs, states):
        u = self.units
        params = [_zrh_to_rzn(self.kernel.t(), u), _zrh_to_rzn(self.recurrent_kernel.t(), u)]
        if self.use_bias:
            params += [_zrh_to_rzn(self.bias[0], u), _zrh_to_rzn(self.bias[1], u)]
        outputs, h = torch._VF.gru(inputs, states[0][None], params, self.use_bias, 1, 0.0, False, False, True)
        return outputs, [h[0]]

    def _project_inputs(self, inputs):
        projected = inputs @ self.kernel
        if not self.use_bias:
            return projected
        return projected + (self.bias[0] if self.reset_after else self.bias)

    def _step(self, projected, states, recurrent_mask):
        h = states[0]
        h_recurrent = h if recurrent_mask is None else h * recurrent_mask
        recurrent_bias = self.bias[1] if (self.use_bias and self.reset_after) else None
        h = gru_step(
            projected,
            h,
            h_recurrent,
            self.recurrent_kernel,
            recurrent_bias,
            self.reset_after,
            self.activation,
            self.recurrent_activation,
        )
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=activation_config(self.recurrent_activation), reset_after=self.reset_after)
        return config

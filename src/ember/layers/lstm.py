"""``LSTM``: long short-term memory, Keras's weight layout on PyTorch's fused kernel.

Weights use Keras's layouts and gate order ``i, f, c, o`` (input, forget,
cell candidate, output): ``kernel (input_dim, 4 * units)``, ``recurrent_kernel
(units, 4 * units)``, ``bias (4 * units,)``. PyTorch's ``torch.lstm`` uses the
same gate order with transposed matrices, so the fused path only transposes.
"""

import torch

from ember import activations
from ember.layers._config import activation_config
from ember.layers.rnn_base import RNNBase

__all__ = ["LSTM", "lstm_step"]


def lstm_step(projected, h, c, recurrent_kernel, activation, recurrent_activation):
    """One LSTM timestep.

    Args:
        projected: ``x_t @ kernel + bias``, shape ``(batch, 4 * units)``.
        h, c: Previous hidden and cell states ``(batch, units)`` (``h`` after
            any recurrent dropout).
        recurrent_kernel: ``(units, 4 * units)``.

    Returns:
        ``(h_new, c_new)`` before masking (``h`` is computed from the unmasked carry).
    """
    z = projected + h @ recurrent_kernel
    i, f, g, o = z.chunk(4, dim=-1)
    i, f, o = recurrent_activation(i), recurrent_activation(f), recurrent_activation(o)
    c_new = f * c + i * activation(g)
    return o * activation(c_new), c_new


class _UnitForgetBias:
    """Bias initializer: the forget-gate quarter is ones, the rest from ``initializer``."""

    def __init__(self, initializer, units):
        self.initializer = initializer
        self.units = units

    def __call__(self, shape, dtype=None):
        u = self.units
        head = torch.as_tensor(self.initializer((u,), dtype=dtype))
        tail = torch.as_tensor(self.initializer((2 * u,), dtype=dtype))
        return torch.cat([head, torch.ones_like(head), tail])


class LSTM(RNNBase):
    """Long short-term memory layer (Hochreiter & Schmidhuber, 1997), as Keras's ``LSTM``.

    Args:
        units: Size of the hidden state and output.
        activation: Cell and output activation (``"tanh"``).
        recurrent_activation: Gate activation (``"sigmoid"``).
        use_bias: Whether to use a bias vector.
        kernel_initializer, recurrent_initializer, bias_initializer:
            Initializers (``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``).
        unit_forget_bias: Initialize the forget-gate bias to ones.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
            activity_regularizer, kernel_constraint, recurrent_constraint,
            bias_constraint: Optional regularizers and constraints.
        dropout: Fraction of the input features dropped in training (one mask
            for all timesteps).
        recurrent_dropout: Fraction of the hidden state dropped in the
            recurrent transform during training.
        seed: Seed of the dropout masks.
        return_sequences: Return every timestep's output, not only the last.
        return_state: Also return the final states ``[output, h, c]``.
        go_backwards: Process the sequence in reverse (the returned sequence is
            in reverse order too).
        stateful: Carry the final states of a batch into the next call.
        unroll: Accepted for compatibility, ignored.

    Call arguments:
        inputs: ``(batch, timesteps, features)``.
        mask: Optional boolean ``(batch, timesteps)``; masked steps keep the
            previous states. Defaults to the input's ``_keras_mask``.
        training: Whether dropout is active.
        initial_state: Optional list ``[h0, c0]``.

    Example:
        >>> LSTM(4)(torch.ones(2, 5, 3)).shape
        torch.Size([2, 4])
    """

    gates = 4
    num_states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _build_weights(self, input_dim):
        bias_init = self.bias_initializer
        if self.unit_forget_bias:
            bias_init = _UnitForgetBias(self.bias_initializer, self.units)
        self._add_kernels(input_dim, (4 * self.units,), bias_init)

    def _fused_ok(self):
        return self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid

    def _fused(self, inputs, states):
        params = [self.kernel.t(), self.recurrent_kernel.t()]
        if self.use_bias:
            params += [self.bias, torch.zeros_like(self.bias)]
        h0, c0 = states
        outputs, h, c = torch._VF.lstm(
            inputs, (h0[None], c0[None]), params, self.use_bias, 1, 0.0, False, False, True
        )
        return outputs, [h[0], c[0]]

    def _project_inputs(self, inputs):
        projected = inputs @ self.kernel
        return projected + self.bias if self.use_bias else projected

    def _step(self, projected, states, recurrent_mask):
        h, c = states
        h_in = h if recurrent_mask is None else h * recurrent_mask
        h, c = lstm_step(projected, h_in, c, self.recurrent_kernel, self.activation, self.recurrent_activation)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(
            recurrent_activation=activation_config(self.recurrent_activation),
            unit_forget_bias=self.unit_forget_bias,
        )
        return config

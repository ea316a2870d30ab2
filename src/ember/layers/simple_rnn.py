"""``SimpleRNN``: a fully connected recurrent layer, ``h_t = activation(x_t W + h_{t-1} U + b)``."""

import torch

from ember import activations
from ember.layers.rnn_base import RNNBase

__all__ = ["SimpleRNN"]


class SimpleRNN(RNNBase):
    """Fully connected RNN whose output is fed back as the next input, as Keras's ``SimpleRNN``.

    Weights (Keras's layouts): ``kernel (input_dim, units)``,
    ``recurrent_kernel (units, units)``, ``bias (units,)``. With ``tanh`` or
    ``relu`` activation and no mask or recurrent dropout it runs PyTorch's fused
    ``rnn_tanh`` / ``rnn_relu`` kernels, otherwise a loop over timesteps.

    Args:
        units: Size of the output.
        activation: ``"tanh"`` by default.
        **kwargs: The arguments of ``LSTM`` other than ``recurrent_activation``
            and ``unit_forget_bias``.

    Example:
        >>> SimpleRNN(4, return_sequences=True)(torch.ones(2, 5, 3)).shape
        torch.Size([2, 5, 4])
    """

    gates = 1
    num_states = 1

    def _build_weights(self, input_dim):
        self._add_kernels(input_dim, (self.units,), self.bias_initializer)

    def _fused_ok(self):
        return self.activation is activations.tanh or self.activation is activations.relu

    def _fused(self, inputs, states):
        params = [self.kernel.t(), self.recurrent_kernel.t()]
        if self.use_bias:
            params += [self.bias, torch.zeros_like(self.bias)]
        kernel = torch._VF.rnn_tanh if self.activation is activations.tanh else torch._VF.rnn_relu
        outputs, h = kernel(inputs, states[0][None], params, self.use_bias, 1, 0.0, False, False, True)
        return outputs, [h[0]]

    def _project_inputs(self, inputs):
        projected = inputs @ self.kernel
        return projected + self.bias if self.use_bias else projected

    def _step(self, projected, states, recurrent_mask):
        h = states[0] if recurrent_mask is None else states[0] * recurrent_mask
        h = self.activation(projected + h @ self.recurrent_kernel)
        return h, [h]

"""Shared machinery of the recurrent layers (``SimpleRNN``, ``LSTM``, ``GRU``).

A recurrent layer here is one class (no separate cell object). Subclasses say
how many gates and states they have, create their weights in Keras's layouts
(``kernel (input_dim, gates * units)``, ``recurrent_kernel (units, gates *
units)``, ``bias``) and provide two ways to run a sequence:

* ``_fused(inputs, states)``: PyTorch's fused ``torch.lstm`` / ``torch.gru`` /
  ``torch.rnn_tanh`` kernels, used when the configuration is the one those
  kernels compute (default activations, no recurrent dropout, no mask);
* ``_step(projected_t, states, recurrent_mask)``: one timestep of a Python
  loop, used otherwise.

Both give the same numbers. Under ``torch.compile`` the recurrence (either
way) runs eagerly, outside the graph, so compiling takes seconds and keeps the
fused kernels. With a mask (``mask`` argument, or a
``_keras_mask`` carried by the input), a masked timestep keeps the previous
states and repeats the previous output, as Keras does.
"""

import torch

from ember import activations, constraints, initializers, regularizers
from ember.backend.scope import in_symbolic_scope
from ember.layers._config import activation_config
from ember.layers.core import regularization_config
from ember.layers.embedding import attach_mask, mask_of
from ember.layers.layer import Layer

__all__ = ["RNNBase"]

MSG_RANK = (
    "{cls} layer {name!r} expects inputs of rank 3, (batch, timesteps, features), got shape {shape}. "
    "Add a time axis (e.g. x[:, None, :]) or reshape the input."
)


def _check_rate(cls, arg, value):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{cls} `{arg}` must be a number in [0, 1), got {arg}={value!r}.")
    return float(value)


@torch.compiler.disable
def _outside_graph(run_sequence, sequence, states, step_mask, recurrent_mask):
    """Runs the recurrence eagerly when called under ``torch.compile`` (a deliberate graph break).

    Traced, the fused kernels decompose into one set of operations per
    timestep, forward and backward, and so does the Python loop: compiling a
    100-step sequence then takes minutes and the generated code is no faster
    than PyTorch's fused kernel (oneDNN on CPU, cuDNN on GPU), which this keeps.
    """
    return run_sequence(sequence, states, step_mask, recurrent_mask)


def dropout_mask(shape, rate, like, generator=None):
    """A Bernoulli keep-mask scaled by ``1 / (1 - rate)`` (inverted dropout)."""
    keep = torch.rand(shape, device=like.device, generator=generator) >= rate
    return keep.to(like.dtype) / (1.0 - rate)


class RNNBase(Layer):
    """Base of ``SimpleRNN``, ``LSTM`` and ``GRU``; not meant to be subclassed elsewhere.

    Subclasses set ``gates`` and ``num_states`` and implement ``build``,
    ``_fused_ok``, ``_fused`` and ``_step``.
    """

    gates = 1
    num_states = 1
    # Under torch.compile the recurrence runs eagerly between graphs (see ``_outside_graph``).
    _runs_outside_graph = True

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        **kwargs,
    ):
        zero_output_for_mask = kwargs.pop("zero_output_for_mask", False)
        kwargs.pop("use_cudnn", None)
        super().__init__(**kwargs)
        cls = type(self).__name__
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"{cls} `units` must be a positive integer, got units={units!r}.")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _check_rate(cls, "dropout", dropout)
        self.recurrent_dropout = _check_rate(cls, "recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted for compatibility; the loop is never unrolled
        # Masked timesteps of a returned sequence hold zeros instead of the previous output
        # (``Bidirectional`` sets it so that both directions line up).
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._generator = None
        self._states = None

    # ------------------------------------------------------------------ weights
    def _check_input_shape(self, shape):
        if shape is None or len(shape) != 3:
            raise ValueError(MSG_RANK.format(cls=type(self).__name__, name=self.name, shape=tuple(shape or ())))

    def _state_shape(self, inputs):
        """Shape of one state for ``inputs`` (``(batch, units)``; convolutional layers override it)."""
        return (inputs.shape[0], self.units)

    def _add_kernels(self, input_dim, bias_shape, bias_initializer):
        n = self.gates * self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, n),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, n),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=bias_shape,
                initializer=bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        if input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} needs a known number of features, got {input_shape}."
            )
        self._build_weights(int(input_shape[-1]))
        self.built = True

    # ------------------------------------------------------------------ subclass hooks
    def _build_weights(self, input_dim):
        raise NotImplementedError

    def _fused_ok(self):
        return False

    def _fused(self, inputs, states):
        raise NotImplementedError

    def _project_inputs(self, inputs):
        """``inputs @ kernel (+ input bias)`` for all timesteps at once."""
        raise NotImplementedError

    def _step(self, projected, states, recurrent_mask):
        raise NotImplementedError

    # ------------------------------------------------------------------ running
    def _random_generator(self, device):
        if self.seed is None:
            return None
        if self._generator is None or self._generator.device != torch.device(device):
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def _initial_states(self, inputs, initial_state):
        batch = inputs.shape[0]
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != self.num_states:
                raise ValueError(
                    f"{type(self).__name__} layer {self.name!r} has {self.num_states} state(s), but "
                    f"initial_state holds {len(states)} tensor(s)."
                )
            for s in states:
                if tuple(s.shape) != tuple(self._state_shape(inputs)):
                    raise ValueError(
                        f"{type(self).__name__} layer {self.name!r}: each initial state must have shape "
                        f"{tuple(self._state_shape(inputs))}, got {tuple(s.shape)}."
                    )
            return [torch.as_tensor(s, dtype=inputs.dtype, device=inputs.device) for s in states]
        if self.stateful and self._states is not None:
            if self._states[0].shape[0] != batch:
                raise ValueError(
                    f"Stateful {type(self).__name__} layer {self.name!r} holds states for batch size "
                    f"{self._states[0].shape[0]}, got a batch of {batch}. Use a fixed batch size or call "
                    "reset_states()."
                )
            return list(self._states)
        zeros = inputs.new_zeros(self._state_shape(inputs))
        return [zeros] * self.num_states

    def reset_states(self, states=None):
        """Reset the states of a stateful layer to zeros (or to ``states``)."""
        self._states = None if states is None else [torch.as_tensor(s) for s in states]

    reset_state = reset_states

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(inputs, dtype=self.kernel.dtype)
        self._check_input_shape(tuple(inputs.shape))
        if mask is None:
            mask = mask_of(inputs)
        if mask is not None:
            mask = torch.as_tensor(mask, device=inputs.device).bool()
            if mask.ndim == 3:  # a mask over features: a timestep counts when any feature does
                mask = mask.any(-1)
        states = self._initial_states(inputs, initial_state)
        sequence = inputs.flip(1) if self.go_backwards else inputs
        step_mask = mask.flip(1) if (mask is not None and self.go_backwards) else mask
        generator = None
        if training and (self.dropout or self.recurrent_dropout):
            generator = self._random_generator(inputs.device)
        if training and self.dropout:
            drop = dropout_mask((inputs.shape[0],) + tuple(inputs.shape[2:]), self.dropout, inputs, generator)
            sequence = sequence * drop[:, None]
        recurrent_mask = None
        if training and self.recurrent_dropout:
            recurrent_mask = dropout_mask(self._state_shape(inputs), self.recurrent_dropout, inputs, generator)

        if torch.compiler.is_compiling():
            outputs, last, states = _outside_graph(self._run_sequence, sequence, states, step_mask, recurrent_mask)
        else:
            outputs, last, states = self._run_sequence(sequence, states, step_mask, recurrent_mask)

        if self.stateful and not in_symbolic_scope():
            self._states = [s.detach() for s in states]
        output = attach_mask(outputs, mask) if self.return_sequences else last
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(output) / output.shape[0])
        if self.return_state:
            return [output] + list(states)
        return output

    def _run_sequence(self, sequence, states, step_mask, recurrent_mask):
        """``(outputs, last output, final states)``: the fused kernel when it applies, else the loop."""
        if step_mask is None and recurrent_mask is None and self._fused_ok():
            outputs, states = self._fused(sequence, states)
            return outputs, outputs[:, -1], states
        return self._loop(sequence, states, step_mask, recurrent_mask)

    def _loop(self, sequence, states, step_mask, recurrent_mask):
        projected = self._project_inputs(sequence)
        previous = sequence.new_zeros(self._state_shape(sequence))
        outputs = []
        for t in range(sequence.shape[1]):
            output, new_states = self._step(projected[:, t], states, recurrent_mask)
            if step_mask is not None:
                keep = step_mask[:, t].reshape((-1,) + (1,) * (previous.ndim - 1))
                carried = torch.where(keep, output, previous)
                new_states = [torch.where(keep, new, old) for new, old in zip(new_states, states)]
                output = torch.where(keep, output, torch.zeros_like(output)) if self.zero_output_for_mask else carried
                outputs.append(output)
                previous, states = carried, new_states
            else:
                outputs.append(output)
                previous, states = output, new_states
        return torch.stack(outputs, 1), previous, states

    def compute_mask(self, inputs, mask=None):
        """The input mask for sequence outputs, ``None`` otherwise (states are never masked)."""
        if mask is None:
            mask = mask_of(inputs)
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * self.num_states
        return output_mask

    def compute_output_shape(self, input_shape):
        if self.return_state:
            raise NotImplementedError  # several outputs: inferred by tracing the call
        self._check_input_shape(input_shape)
        batch, steps = input_shape[0], input_shape[1]
        return (batch, steps, self.units) if self.return_sequences else (batch, self.units)

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activation_config(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            **regularization_config(self),
            recurrent_regularizer=regularization_config(_Recurrent(self))["kernel_regularizer"],
            recurrent_constraint=regularization_config(_Recurrent(self))["kernel_constraint"],
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            seed=self.seed,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
            unroll=self.unroll,
            zero_output_for_mask=self.zero_output_for_mask,
        )
        return config


class _Recurrent:
    """Presents a layer's recurrent regularizer/constraint under the kernel names."""

    def __init__(self, layer):
        self.kernel_regularizer = layer.recurrent_regularizer
        self.kernel_constraint = layer.recurrent_constraint
        self.bias_regularizer = self.activity_regularizer = self.bias_constraint = None

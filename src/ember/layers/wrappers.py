"""Layer wrappers: ``Bidirectional`` (a recurrent layer run both ways) and ``TimeDistributed``."""

import torch

from ember.layers.embedding import attach_mask, mask_of
from ember.layers.layer import Layer

__all__ = ["Bidirectional", "TimeDistributed"]

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _layer_from(value, where):
    """A layer from a layer object or from its saved config (``serialize_layer``'s layout)."""
    if isinstance(value, Layer):
        return value
    if isinstance(value, dict):
        from ember.saving.serialization import deserialize_value  # saving imports the layers package

        return deserialize_value(value)
    raise TypeError(f"{where} must be a Layer instance, got {value!r}.")


def _layer_config(layer):
    from ember.saving.layer_config import serialize_layer  # saving imports the layers package

    return serialize_layer(layer)


def _clone(layer, **overrides):
    config = layer.get_config()
    config.update(overrides)
    return type(layer).from_config(config)


def merge_outputs(forward, backward, merge_mode):
    """Combine the two directions' outputs as ``Bidirectional`` does."""
    if merge_mode == "concat":
        return torch.cat([forward, backward], dim=-1)
    if merge_mode == "sum":
        return forward + backward
    if merge_mode == "ave":
        return (forward + backward) / 2
    if merge_mode == "mul":
        return forward * backward
    return [forward, backward]


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the outputs.

    Args:
        layer: A recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN``); it is used
            as a template: the wrapper holds two fresh copies, named
            ``forward_<name>`` and ``backward_<name>``.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or
            ``None`` (a list ``[forward, backward]``).
        backward_layer: Optional layer to use for the backward direction
            (its ``go_backwards`` must be the opposite of ``layer``'s).

    With ``return_sequences`` the backward outputs are flipped back so that both
    directions line up in time. With ``return_state`` the result is
    ``[output, *forward_states, *backward_states]``. Weights are ordered
    forward then backward, as in Keras.

    Example:
        >>> from ember.layers.lstm import LSTM
        >>> Bidirectional(LSTM(3))(torch.ones(2, 5, 4)).shape
        torch.Size([2, 6])
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        layer = _layer_from(layer, "Bidirectional `layer`")
        if not hasattr(layer, "return_sequences") or not hasattr(layer, "go_backwards"):
            raise ValueError(
                f"Bidirectional needs a recurrent layer (LSTM, GRU, SimpleRNN), got {type(layer).__name__}."
            )
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional `merge_mode` must be one of {MERGE_MODES}, got merge_mode={merge_mode!r}.")
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        self.__dict__["_template"] = layer  # a config template, not a sublayer (owns no weights)
        self.forward_layer = _clone(layer, name=f"forward_{layer.name}")
        if backward_layer is None:
            self.backward_layer = _clone(layer, name=f"backward_{layer.name}", go_backwards=not layer.go_backwards)
            self.__dict__["_custom_backward"] = None
        else:
            backward_layer = _layer_from(backward_layer, "Bidirectional `backward_layer`")
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError(
                    "Bidirectional `backward_layer.go_backwards` must be the opposite of `layer.go_backwards`, "
                    f"got {backward_layer.go_backwards} for both."
                )
            self.__dict__["_custom_backward"] = backward_layer
            self.backward_layer = _clone(backward_layer)
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = self.return_sequences
        self._initial_weights = weights

    def build(self, input_shape):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(tuple(input_shape))
                sub.built = True
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if mask is None:
            mask = mask_of(inputs)
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        forward = self.forward_layer(inputs, mask=mask, training=training, initial_state=forward_state)
        backward = self.backward_layer(inputs, mask=mask, training=training, initial_state=backward_state)
        states = []
        if self.return_state:
            states = list(forward[1:]) + list(backward[1:])
            forward, backward = forward[0], backward[0]
        if self.return_sequences:
            backward = backward.flip(1)
        output = merge_outputs(forward, backward, self.merge_mode)
        if self.return_sequences and mask is not None:
            for out in output if isinstance(output, list) else [output]:
                attach_mask(out, mask)
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def compute_mask(self, inputs, mask=None):
        """The input mask for sequence outputs, ``None`` otherwise."""
        if mask is None:
            mask = mask_of(inputs)
        return mask if self.return_sequences else None

    def reset_states(self, states=None):
        """Reset both directions' states (stateful layers)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self):
        config = super().get_config()
        config.update(merge_mode=self.merge_mode, layer=_layer_config(self._template))
        if self._custom_backward is not None:
            config["backward_layer"] = _layer_config(self._custom_backward)
        return config


class TimeDistributed(Layer):
    """Applies a layer to every temporal slice of an input (axis 1 is time).

    The ``(batch, timesteps, ...)`` input is folded to ``(batch * timesteps,
    ...)``, passed through the wrapped layer once, and unfolded. An input mask
    passes through unchanged.

    Args:
        layer: The layer to apply (its weights are shared across timesteps).

    Example:
        >>> from ember.layers.core import Dense
        >>> TimeDistributed(Dense(2))(torch.ones(3, 4, 5)).shape
        torch.Size([3, 4, 2])
    """

    def __init__(self, layer, **kwargs):
        layer = _layer_from(layer, "TimeDistributed `layer`")
        super().__init__(**kwargs)
        self.layer = layer

    def _check_shape(self, shape):
        if shape is None or len(shape) < 3:
            raise ValueError(
                f"TimeDistributed layer {self.name!r} expects inputs of rank >= 3, (batch, timesteps, ...), "
                f"got shape {tuple(shape or ())}."
            )

    def build(self, input_shape):
        self._check_shape(input_shape)
        if not self.layer.built:
            self.layer.build((None,) + tuple(input_shape[2:]))
            self.layer.built = True
        self.built = True

    def call(self, inputs, mask=None, training=None):
        self._check_shape(tuple(inputs.shape))
        if mask is None:
            mask = mask_of(inputs)
        batch, steps = inputs.shape[0], inputs.shape[1]
        folded = inputs.reshape((batch * steps,) + tuple(inputs.shape[2:]))
        outputs = self.layer(folded, training=training)
        outputs = outputs.reshape((batch, steps) + tuple(outputs.shape[1:]))
        return attach_mask(outputs, mask)

    def compute_mask(self, inputs, mask=None):
        """The input mask, unchanged."""
        return mask if mask is not None else mask_of(inputs)

    def get_config(self):
        config = super().get_config()
        config["layer"] = _layer_config(self.layer)
        return config

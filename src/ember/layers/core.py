"""Core layers: ``Dense``, ``Activation``, ``Dropout``."""

import torch
import torch.nn.functional as F

from ember import activations, constraints, initializers, regularizers
from ember.backend.dense_matmul import dense_matmul
from ember.layers._config import activation_config
from ember.layers.layer import Layer

__all__ = ["Activation", "Dense", "Dropout"]


class Dense(Layer):
    """Densely connected layer: ``activation(inputs @ kernel + bias)``.

    The kernel is stored in Keras's layout ``(input_dim, units)``; it applies to
    the last axis of inputs of any rank.

    Args:
        units: Size of the output's last dimension.
        activation: Activation name or callable (``None``: linear).
        use_bias: Whether to add a bias vector.
        kernel_initializer: Initializer for the kernel (``"glorot_uniform"``).
        bias_initializer: Initializer for the bias (``"zeros"``).
        kernel_regularizer, bias_regularizer: Optional regularizers (a name
            such as ``"l2"``, a config dict or a callable ``w -> scalar``)
            whose values appear in ``layer.losses`` and are added to the
            training loss.
        activity_regularizer: Optional regularizer of the output; its value
            divided by the batch size is added to ``layer.losses``.
        kernel_constraint, bias_constraint: Optional constraints (a name such
            as ``"max_norm"``, a config dict or a callable ``w -> w``) applied
            by the optimizer after each update.

    Shape:
        Input ``(..., input_dim)``; output ``(..., units)``.

    Example:
        >>> Dense(4)(torch.ones(2, 3)).shape
        torch.Size([2, 4])
    """

    supports_masking = True

    def __init__(
        self,
        units,
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
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense `units` must be a positive integer, got {units!r}.")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Dense layer {self.name!r} needs a known last input dimension, got shape {input_shape}.")
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    def call(self, inputs):
        outputs = dense_matmul(inputs, self.kernel, self.bias)
        if self.activation is not activations.linear:
            outputs = self.activation(outputs)
        if self.activity_regularizer is not None:
            # As Keras: on the activated output, averaged over the batch.
            self.add_loss(self.activity_regularizer(outputs) / outputs.shape[0])
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activation_config(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            **regularization_config(self),
        )
        return config


def regularization_config(layer):
    """The config entries of a layer's regularizers and constraints.

    Built-in and ``get_config``-capable objects are serialized; a plain
    callable is kept as is, so ``from_config(get_config())`` works in memory.
    """

    def config_of(obj, kind):
        if obj is None or isinstance(obj, (regularizers.Regularizer, constraints.Constraint)):
            try:
                return kind.serialize(obj)
            except NotImplementedError:  # a subclass without get_config()
                return obj
        return obj

    return {
        "kernel_regularizer": config_of(layer.kernel_regularizer, regularizers),
        "bias_regularizer": config_of(layer.bias_regularizer, regularizers),
        "activity_regularizer": config_of(layer.activity_regularizer, regularizers),
        "kernel_constraint": config_of(layer.kernel_constraint, constraints),
        "bias_constraint": config_of(layer.bias_constraint, constraints),
    }


class Activation(Layer):
    """Applies an activation function (a name such as ``"relu"`` or a callable)."""

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activation_config(self.activation)
        return config


class Dropout(Layer):
    """Randomly zeroes a fraction ``rate`` of the inputs during training.

    Kept values are scaled by ``1 / (1 - rate)``; at inference it is the identity.

    Args:
        rate: Fraction of the inputs to drop, in ``[0, 1)``.
        noise_shape: Optional shape of the binary mask, broadcast to the input
            (``None`` entries take the input's size).
        seed: Optional seed for the mask.
    """

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout `rate` must be a number in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._generator = None
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is None and self.seed is None:
            return F.dropout(inputs, self.rate, training=True)
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        generator = None
        if self.seed is not None:
            if self._generator is None or self._generator.device != inputs.device:
                self._generator = torch.Generator(device=inputs.device).manual_seed(self.seed)
            generator = self._generator
        keep = torch.rand(shape, device=inputs.device, generator=generator) >= self.rate
        return inputs * keep.to(inputs.dtype) / (1.0 - self.rate)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config

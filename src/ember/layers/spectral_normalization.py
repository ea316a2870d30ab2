"""``SpectralNormalization``: a wrapper that divides a layer's kernel by its spectral norm."""

import torch

from ember.layers.layer import Layer

__all__ = ["SpectralNormalization"]


def _l2_normalize(x):
    return x * torch.rsqrt(x.square().sum().clamp_min(1e-12))


def spectral_normalize(matrix, vector_u, power_iterations):
    """Power iteration on ``matrix`` ``(rows, out)``; returns ``(new_u, sigma)``.

    ``vector_u`` has shape ``(1, out)``; ``sigma`` (a ``(1, 1)`` tensor)
    estimates the largest singular value of ``matrix``.
    """
    vector_v = None
    for _ in range(power_iterations):
        vector_v = _l2_normalize(vector_u @ matrix.T)
        vector_u = _l2_normalize(vector_v @ matrix)
    sigma = vector_v @ matrix @ vector_u.T
    return vector_u, sigma


class SpectralNormalization(Layer):
    """Wraps a layer with a ``kernel`` (or ``embeddings``) and keeps its spectral norm near 1.

    On every training call the largest singular value ``sigma`` of the kernel
    (reshaped to ``(-1, output_dim)`` in Keras's layout) is estimated by power
    iteration from the non-trainable ``vector_u``, the kernel is replaced by
    ``kernel / sigma``, and the wrapped layer is called. At inference the
    wrapped layer is called unchanged.

    Args:
        layer: The layer to wrap (``Dense``, ``Conv2D``, ...).
        power_iterations: Number of power iterations per training call (>= 1).

    Weights: the wrapped layer's weights, then ``vector_u`` of shape
    ``(1, output_dim)`` (Keras lists ``vector_u`` right after the kernel; copy
    weights between the two by name).

    Example:
        >>> from ember.layers import Dense
        >>> SpectralNormalization(Dense(3))(torch.ones(2, 4), training=True).shape
        torch.Size([2, 3])
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise TypeError(f"SpectralNormalization `layer` must be an ember Layer instance, got {layer!r}.")
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, int) or power_iterations < 1:
            raise ValueError(
                f"SpectralNormalization `power_iterations` must be an integer >= 1, got {power_iterations!r}."
            )
        self.layer = layer
        self.power_iterations = power_iterations

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None:
            kernel = getattr(self.layer, "embeddings", None)
        if not isinstance(kernel, torch.Tensor):
            raise ValueError(
                f"SpectralNormalization can only wrap a layer with a `kernel` or `embeddings` weight; "
                f"{type(self.layer).__name__} {self.layer.name!r} has neither."
            )
        self._kernel = kernel
        output_dim = self._keras_view(kernel).shape[-1]
        self.vector_u = self.add_weight(name="vector_u", shape=(1, output_dim),
                                        initializer={"class_name": "TruncatedNormal", "config": {"stddev": 0.02}},
                                        trainable=False)
        self.built = True

    @staticmethod
    def _keras_view(kernel):
        to_keras = getattr(kernel, "_to_keras", None)
        return to_keras(kernel) if to_keras is not None else kernel

    def call(self, inputs, training=None):
        if training:
            with torch.no_grad():
                matrix = self._keras_view(self._kernel).reshape(-1, self.vector_u.shape[-1])
                vector_u, sigma = spectral_normalize(matrix, self.vector_u, self.power_iterations)
                self.vector_u.copy_(vector_u)
                self._kernel.div_(sigma.reshape(()))  # a scalar: the same in any storage layout
        return self.layer(inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        from ember.saving.serialization import serialize_value  # saving imports the layers

        config = super().get_config()
        config.update(layer=serialize_value(self.layer), power_iterations=self.power_iterations)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("layer"), dict):
            from ember.saving.serialization import deserialize_value

            config["layer"] = deserialize_value(config["layer"])
        return cls(**config)

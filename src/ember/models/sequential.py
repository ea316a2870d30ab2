"""``Sequential``: a plain stack of layers, one input and one output."""

from ember.graph.keras_tensor import KerasTensor
from ember.layers.input_layer import Input, InputLayer
from ember.layers.layer import Layer
from ember.models.functional import FunctionalGraph
from ember.models.model import Model

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers.

    The input shape comes from an ``ember.Input`` / ``InputLayer`` at the front,
    from ``input_shape=`` on the first layer, or from the first real batch.

    Example:
        >>> import torch, ember
        >>> model = Sequential([ember.Input(shape=(4,)), ember.layers.Dense(2)])
        >>> model(torch.ones(3, 4)).shape
        torch.Size([3, 2])
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._input_layer = None
        self._stack = []
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build_graph()

    def add(self, layer, rebuild=True):
        """Append a layer (or an ``ember.Input`` tensor / ``InputLayer`` at the front)."""
        if isinstance(layer, KerasTensor):
            layer = layer.history[0]
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._stack:
                raise ValueError("An Input / InputLayer can only be the first entry of a Sequential model.")
            self._input_layer = layer
        else:
            if not isinstance(layer, Layer) and not callable(layer):
                raise TypeError(f"Sequential.add() expects a layer, got {type(layer).__name__}: {layer!r}.")
            if not isinstance(layer, Layer):
                from ember.layers.torch_module import TorchModuleWrapper

                layer = TorchModuleWrapper(layer)
            names = [l.name for l in self._stack]
            if layer.name in names:
                raise ValueError(f"All layers added to a Sequential model must have unique names; {layer.name!r} is already used.")
            self._stack.append(layer)
            self.add_module(str(len(self._stack) - 1), layer)
        self.built = False
        self._graph = None
        if rebuild:
            self._maybe_build_graph()

    def pop(self):
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        del self._modules[str(len(self._stack))]
        self._graph = None
        self._maybe_build_graph()
        return layer

    def _maybe_build_graph(self):
        shape, dtype = None, None
        if self._input_layer is not None:
            shape, dtype = self._input_layer.batch_shape, self._input_layer.dtype
            inputs = self._input_layer.output_tensor
        elif self._stack and self._stack[0]._batch_input_shape is not None:
            shape = self._stack[0]._batch_input_shape
            inputs = Input(batch_shape=shape)
            self._input_layer = inputs.history[0]
        if shape is None or not self._stack:
            return
        x = inputs
        for layer in self._stack:
            x = layer(x)
        self._graph = FunctionalGraph(inputs, x)
        self.built = True

    def build(self, input_shape=None):
        if self._graph is None and input_shape is not None:
            spec = getattr(self, "_build_input_spec", None) or (None,)
            dtype = "string" if getattr(spec[0], "dtype", None) == "string" else None  # first call on raw text
            self._input_layer = InputLayer(batch_shape=(None,) + tuple(input_shape[1:]), dtype=dtype)
            self._maybe_build_graph()
        self.built = True

    @property
    def layers(self):
        return list(self._stack)

    @property
    def output_names(self):
        return [self._stack[-1].name] if self._stack else []

    def call(self, inputs, training=None):
        if self._graph is not None:
            (inputs,) = self._graph.standardize_inputs(inputs, self.name)  # shape and dtype checks
        for layer in self._stack:
            inputs = layer(inputs)
        return inputs

    def get_config(self):
        config = super().get_config()
        config["layers"] = [{"class_name": type(l).__name__, "config": l.get_config()} for l in self._stack]
        return config

"""``InputLayer`` and ``Input``: the entry points of a functional model."""

from ember.backend.dtypes import standardize_dtype
from ember.graph.keras_tensor import KerasTensor
from ember.graph.node import Node
from ember.layers.layer import Layer

__all__ = ["Input", "InputLayer"]


class InputLayer(Layer):
    """The layer behind ``ember.Input``; it has no weights and passes data through.

    Args:
        shape: Shape of one sample, without the batch dimension (``None`` allowed).
        batch_size: Optional fixed batch size.
        dtype: Dtype of the input (``"float32"`` by default).
        batch_shape: Full shape including the batch dimension (instead of ``shape``).
        name: Name of the input; dict inputs are matched by it.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError("Pass either `shape` or `batch_shape` to Input, not both.")
        if batch_shape is None:
            if shape is None:
                if self._batch_input_shape is None:
                    raise ValueError(
                        "Input needs a `shape`, e.g. ember.Input(shape=(784,)) for vectors of 784 values."
                    )
                batch_shape = self._batch_input_shape
            else:
                if isinstance(shape, int):
                    shape = (shape,)
                if not isinstance(shape, (tuple, list)):
                    raise TypeError(f"Input `shape` must be a tuple of ints or None, got {shape!r}.")
                batch_shape = (batch_size,) + tuple(shape)
        self.batch_shape = tuple(batch_shape)
        self.built = True
        tensor = KerasTensor(self.batch_shape, dtype=standardize_dtype(dtype), name=self.name)
        tensor.history = (self, 0, 0)
        self._inbound_nodes.append(Node(self, (), {}, tensor))
        self.output_tensor = tensor

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None):  # noqa: N802 - Keras's name
    """Create a symbolic input tensor for a functional model.

    Example:
        >>> x = Input(shape=(784,), name="digits")
        >>> x.shape
        (None, 784)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name)
    return layer.output_tensor

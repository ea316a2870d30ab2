"""``KerasTensor``: a symbolic placeholder flowing through functional models."""

import torch

from ember.backend.dtypes import standardize_dtype
from ember.tree import flatten


class KerasTensor:
    """A symbolic tensor: shape (``None`` = unknown), dtype, and where it came from.

    It holds no data. Layers called on it record a graph instead of computing.
    """

    __slots__ = ("shape", "dtype", "name", "history", "__weakref__")

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = standardize_dtype(dtype)
        self.name = name
        self.history = history  # (layer, node_index, tensor_index) or None

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __len__(self):
        raise TypeError(
            "A KerasTensor is symbolic and has no length. Use `.shape` instead, or call the "
            "model on real data."
        )

    def __bool__(self):
        raise TypeError(
            "A KerasTensor is symbolic and cannot be used as a Python bool (e.g. in an `if`). "
            "Write the condition inside a layer's `call`, which runs on real tensors."
        )

    def numpy(self):
        raise TypeError(
            "A KerasTensor is symbolic and holds no values. Build a model from it and call "
            "`model.predict(...)` or `model(x)` on real data."
        )

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # Lazy import: the op layer needs the Layer base, which needs this module.
        from ember.layers.torch_op import TorchOpLayer

        return TorchOpLayer(func)(*args, **(kwargs or {}))

    # Python operators on symbolic tensors record the matching torch function.
    def __add__(self, other):
        return torch.add(self, other)

    def __radd__(self, other):
        return torch.add(other, self)

    def __sub__(self, other):
        return torch.sub(self, other)

    def __rsub__(self, other):
        return torch.sub(other, self)

    def __mul__(self, other):
        return torch.mul(self, other)

    def __rmul__(self, other):
        return torch.mul(other, self)

    def __truediv__(self, other):
        return torch.div(self, other)

    def __rtruediv__(self, other):
        return torch.div(other, self)

    def __neg__(self):
        return torch.neg(self)

    def __pow__(self, other):
        return torch.pow(self, other)

    def __matmul__(self, other):
        return torch.matmul(self, other)

    def __getitem__(self, index):
        from ember.layers.torch_op import TorchOpLayer

        return TorchOpLayer(_getitem)(self, index)


def _getitem(tensor, index):
    return tensor[index]


def is_keras_tensor(value):
    return isinstance(value, KerasTensor)


def any_symbolic(args, kwargs=None):
    """True if any leaf of ``args`` / ``kwargs`` is a KerasTensor."""
    for leaf in flatten(args):
        if isinstance(leaf, KerasTensor):
            return True
    if kwargs:
        for leaf in flatten(kwargs):
            if isinstance(leaf, KerasTensor):
                return True
    return False

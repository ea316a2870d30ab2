"""Deterministic initializers: ``Zeros``, ``Ones``, ``Constant`` and ``Identity``."""

import numpy as np
import torch

from ember.initializers.base import Initializer, normalize_shape, resolve_dtype

__all__ = ["Zeros", "Ones", "Constant", "Identity"]


class Zeros(Initializer):
    """Fill the tensor with 0.

    Example:
        >>> Zeros()((2, 2)).tolist()
        [[0.0, 0.0], [0.0, 0.0]]
    """

    def __call__(self, shape, dtype=None):
        return torch.zeros(normalize_shape(shape), dtype=resolve_dtype(dtype))


class Ones(Initializer):
    """Fill the tensor with 1.

    Example:
        >>> Ones()((2,), dtype="int32").tolist()
        [1, 1]
    """

    def __call__(self, shape, dtype=None):
        return torch.ones(normalize_shape(shape), dtype=resolve_dtype(dtype))


class Constant(Initializer):
    """Fill the tensor with ``value``.

    Args:
        value: A number, or an array-like that broadcasts to the requested shape.

    Example:
        >>> Constant(3.0)((2,)).tolist()
        [3.0, 3.0]
        >>> Constant([1.0, 2.0])((2, 2)).tolist()
        [[1.0, 2.0], [1.0, 2.0]]
    """

    def __init__(self, value=0.0):
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Constant: value must be a number or an array of numbers, got {value!r}.")
        self.value = array.item() if array.ndim == 0 else array.tolist()

    def __call__(self, shape, dtype=None):
        shape = normalize_shape(shape)
        dtype = resolve_dtype(dtype)
        if not isinstance(self.value, list):
            return torch.full(shape, self.value, dtype=dtype)
        value = torch.as_tensor(self.value, dtype=dtype)
        try:
            return torch.broadcast_to(value, shape).clone()
        except RuntimeError:
            raise ValueError(
                f"Constant: value of shape {tuple(value.shape)} cannot be broadcast to the "
                f"requested shape {shape}."
            ) from None

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """Fill a 2-D tensor with ``gain`` times the identity matrix.

    A non-square shape gets ones on the main diagonal and zeros elsewhere.

    Args:
        gain: Multiplier applied to the identity matrix.

    Example:
        >>> Identity(gain=2.0)((2, 3)).tolist()
        [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = normalize_shape(shape)
        dtype = resolve_dtype(dtype)
        if len(shape) != 2:
            raise ValueError(
                f"Identity only initializes 2-D matrices; got shape={shape} of rank {len(shape)}. "
                "Use Orthogonal for higher-rank kernels."
            )
        return (self.gain * torch.eye(*shape, dtype=torch.float64)).to(dtype)

    def get_config(self):
        return {"gain": self.gain}

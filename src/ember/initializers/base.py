"""The ``Initializer`` base class and the fan computation shared by its subclasses."""

import math

import torch

from ember.backend import to_torch_dtype
from ember.initializers._sampling import validate_seed

__all__ = ["Initializer", "RandomInitializer", "compute_fans", "normalize_shape", "resolve_dtype"]


class Initializer:
    """Base class of every weight initializer.

    An initializer is a callable ``(shape, dtype=None) -> torch.Tensor`` that
    returns a *new* CPU tensor on each call. Subclasses override ``__call__``
    and, when their constructor takes arguments, ``get_config`` so that
    ``cls.from_config(obj.get_config())`` rebuilds an equal initializer.

    Example:
        >>> class Twos(Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return torch.full(normalize_shape(shape), 2.0, dtype=resolve_dtype(dtype))
        >>> Twos()((2,)).tolist()
        [2.0, 2.0]
    """

    def __call__(self, shape, dtype=None):
        """Return a new tensor of the given shape and dtype.

        Args:
            shape: Tuple of non-negative ints (an int means a 1-D shape).
            dtype: A dtype name (``"float32"``) or ``torch.dtype``;
                ``None`` means ``float32``.

        Returns:
            A ``torch.Tensor`` on the CPU.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype=None).")

    def get_config(self):
        """Return the constructor arguments as a JSON-friendly dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Build an initializer from the dict returned by ``get_config``."""
        return cls(**config)

    def clone(self):
        """Return a new initializer with the same configuration."""
        return type(self).from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class RandomInitializer(Initializer):
    """Base class of the initializers that draw random values.

    Args:
        seed: An int makes every call return the same values; ``None`` draws
            from torch's global RNG, so each call differs and
            ``torch.manual_seed`` makes a run reproducible.
    """

    def __init__(self, seed=None):
        self.seed = validate_seed(seed, type(self).__name__)

    def get_config(self):
        return {"seed": self.seed}


def normalize_shape(shape):
    """Return ``shape`` as a tuple of non-negative ints, or raise a clear error."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be a tuple of ints, e.g. (3, 4); got {shape!r}.") from None
    out = []
    for dim in dims:
        if isinstance(dim, torch.Tensor) and dim.numel() == 1:
            dim = dim.item()
        if isinstance(dim, bool) or not hasattr(dim, "__index__") or int(dim) < 0:
            raise ValueError(f"shape must contain non-negative ints, got {shape!r}.")
        out.append(int(dim))
    return tuple(out)


def resolve_dtype(dtype, floating=False, name="Initializer"):
    """Return the ``torch.dtype`` for ``dtype`` (``None`` means float32).

    Args:
        dtype: A dtype name, ``torch.dtype`` or ``None``.
        floating: Require a floating-point dtype (random draws need one).
        name: The initializer's name, used in the error message.
    """
    torch_dtype = to_torch_dtype(dtype)
    if floating and not torch_dtype.is_floating_point:
        raise ValueError(
            f"{name} draws floating-point values, so dtype must be a float dtype such as "
            f"'float32'; got dtype={dtype!r}."
        )
    return torch_dtype


def compute_fans(shape, input_axes=None, output_axes=None):
    """Return ``(fan_in, fan_out)`` for a weight of ``shape`` in Keras's layouts.

    A 2-D kernel is ``(fan_in, fan_out)``. A kernel of rank 3 or more is a
    convolution kernel ``(*spatial, in_channels, out_channels)``: both fans are
    multiplied by the receptive-field size ``prod(spatial)``. Rank 1 uses its
    length for both fans, rank 0 uses 1. When both ``input_axes`` and
    ``output_axes`` are given, the fans are the products of those axes instead.

    Example:
        >>> compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (
            int(math.prod(shape[axis] for axis in input_axes)),
            int(math.prod(shape[axis] for axis in output_axes)),
        )
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    receptive_field = math.prod(shape[:-2])
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)

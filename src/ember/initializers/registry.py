"""String and config identifiers for initializers: ``get``, ``serialize``, ``deserialize``.

``ALL_INITIALIZERS`` is the single registry: Keras's class names, their
snake_case spellings and Keras's legacy aliases, each mapped to a class.
"""

import numpy as np
import torch

from ember.backend.registry import ClassRegistry
from ember.initializers.base import Initializer, normalize_shape, resolve_dtype
from ember.initializers.constants import Constant, Identity, Ones, Zeros
from ember.initializers.random import Orthogonal, RandomNormal, RandomUniform, TruncatedNormal
from ember.initializers.scaling import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    VarianceScaling,
)

__all__ = ["ALL_INITIALIZERS", "get", "serialize", "deserialize"]

_CLASSES = (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
)

ALL_INITIALIZERS = {
    **{cls.__name__: cls for cls in _CLASSES},
    "constant": Constant,
    "glorot_normal": GlorotNormal,
    "glorot_uniform": GlorotUniform,
    "he_normal": HeNormal,
    "he_uniform": HeUniform,
    "identity": Identity,
    "lecun_normal": LecunNormal,
    "lecun_uniform": LecunUniform,
    "ones": Ones,
    "orthogonal": Orthogonal,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "zeros": Zeros,
    # Aliases that Keras also accepts.
    "IdentityInitializer": Identity,
    "OrthogonalInitializer": Orthogonal,
    "one": Ones,
    "zero": Zeros,
    "uniform": RandomUniform,
    "normal": RandomNormal,
}

# The "module" field of a serialized built-in initializer. It is Keras's, so
# configs written by either library load in the other.
_SERIALIZED_MODULE = "keras.initializers"

_REGISTRY = ClassRegistry(
    "initializer", Initializer, ALL_INITIALIZERS, _SERIALIZED_MODULE, config_example="{'class_name': 'GlorotUniform', 'config': {}}"
)


def _from_value(value):
    """Return an initializer that produces copies of a fixed array."""
    fixed = value.detach().cpu() if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value))

    def initialize(shape, dtype=None):
        shape = normalize_shape(shape)
        if tuple(fixed.shape) != shape:
            raise ValueError(
                f"This initializer holds a fixed value of shape {tuple(fixed.shape)}, "
                f"but was asked for shape {shape}. Pass a value of the weight's shape."
            )
        return fixed.to(resolve_dtype(dtype), copy=True)

    return initialize


def get(identifier):
    """Return an initializer for ``identifier``.

    Args:
        identifier: One of
            - ``None``: returned as ``None``;
            - a registered name such as ``"glorot_uniform"`` or ``"GlorotUniform"``;
            - a config dict ``{"class_name": ..., "config": {...}}``;
            - an ``Initializer`` instance or any callable ``(shape, dtype=None)``:
              returned as-is;
            - an ``Initializer`` class: instantiated with its defaults;
            - a ``torch.Tensor`` or NumPy array: an initializer returning copies of
              it (the requested shape must match).

    Returns:
        A callable ``(shape, dtype=None) -> torch.Tensor``, or ``None``.

    Raises:
        ValueError: if the identifier is an unknown name or cannot be interpreted.

    Example:
        >>> get("he_normal")
        HeNormal(seed=None, input_axes=None, output_axes=None)
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return _REGISTRY.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type):
        return _REGISTRY.from_class(identifier)
    if isinstance(identifier, (torch.Tensor, np.ndarray)):
        return _from_value(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret initializer identifier {identifier!r}: expected a name such as "
        "'glorot_uniform', a config dict, an Initializer, a callable (shape, dtype=None) or an array."
    )


def serialize(initializer):
    """Return a JSON-friendly config for ``initializer`` (``None`` stays ``None``).

    The result has Keras's layout: ``{"module", "class_name", "config",
    "registered_name"}``.

    Raises:
        ValueError: for a plain function, which has no config to store.

    Example:
        >>> serialize(Constant(2.0))["config"]
        {'value': 2.0}
    """
    return _REGISTRY.serialize(initializer)


def deserialize(config, custom_objects=None):
    """Rebuild an initializer from ``serialize``'s output or a registered name.

    Args:
        config: A dict with ``"class_name"`` and ``"config"``, or a name string.
        custom_objects: Optional ``{name: Initializer subclass}`` for custom classes.

    Returns:
        A new ``Initializer``.

    Example:
        >>> deserialize({"class_name": "RandomNormal", "config": {"stddev": 1.0}}).stddev
        1.0
    """
    return _REGISTRY.deserialize(config, custom_objects)

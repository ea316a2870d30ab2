"""String and config identifiers for regularizers: ``get``, ``serialize``, ``deserialize``.

``ALL_REGULARIZERS`` is the single registry: Keras's class names and
snake_case spellings, each mapped to a class.
"""

from ember.backend.registry import ClassRegistry
from ember.regularizers.base import Regularizer
from ember.regularizers.norm_penalties import L1, L1L2, L2
from ember.regularizers.orthogonal import OrthogonalRegularizer

__all__ = ["ALL_REGULARIZERS", "deserialize", "get", "serialize"]

ALL_REGULARIZERS = {
    "Regularizer": Regularizer,
    "L1": L1,
    "L2": L2,
    "L1L2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "l1": L1,
    "l2": L2,
    "l1_l2": L1L2,
    "l1l2": L1L2,
    "orthogonal_regularizer": OrthogonalRegularizer,
}

# The "module" field of a serialized built-in regularizer. It is Keras's, so
# configs written by either library load in the other.
_SERIALIZED_MODULE = "keras.regularizers"

_REGISTRY = ClassRegistry(
    "regularizer", Regularizer, ALL_REGULARIZERS, _SERIALIZED_MODULE, config_example="{'class_name': 'L2', 'config': {'l2': 0.01}}"
)


def get(identifier):
    """Return a regularizer for ``identifier``.

    Args:
        identifier: One of
            - ``None``: returned as ``None``;
            - a registered name such as ``"l2"`` or ``"L1L2"`` (built with its
              defaults);
            - a config dict ``{"class_name": ..., "config": {...}}``;
            - a ``Regularizer`` class: instantiated with its defaults;
            - a ``Regularizer`` instance or any callable ``x -> scalar``:
              returned as-is.

    Returns:
        A callable ``x -> scalar tensor``, or ``None``.

    Raises:
        ValueError: if the identifier is an unknown name or cannot be interpreted.

    Example:
        >>> get("l2")
        L2(l2=0.01)
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return _REGISTRY.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type):
        return _REGISTRY.from_class(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret regularizer identifier {identifier!r}: expected a name such as 'l2', a config "
        "dict, a Regularizer or a callable x -> scalar tensor."
    )


def serialize(regularizer):
    """Return a JSON-friendly config for ``regularizer`` (``None`` stays ``None``).

    The result has Keras's layout: ``{"module", "class_name", "config",
    "registered_name"}``.

    Raises:
        ValueError: for a plain function, which has no config to store.

    Example:
        >>> serialize(L2(0.1))["config"]
        {'l2': 0.1}
    """
    return _REGISTRY.serialize(regularizer)


def deserialize(config, custom_objects=None):
    """Rebuild a regularizer from ``serialize``'s output or a registered name.

    Args:
        config: A dict with ``"class_name"`` and ``"config"``, or a name string.
        custom_objects: Optional ``{name: Regularizer subclass}`` for custom classes.

    Returns:
        A new ``Regularizer``.

    Example:
        >>> deserialize({"class_name": "L1", "config": {"l1": 0.5}}).l1
        0.5
    """
    return _REGISTRY.deserialize(config, custom_objects)

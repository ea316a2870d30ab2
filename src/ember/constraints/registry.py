"""String and config identifiers for constraints: ``get``, ``serialize``, ``deserialize``.

``ALL_CONSTRAINTS`` is the single registry: Keras's class names and
snake_case spellings, each mapped to a class.
"""

from ember.backend.registry import ClassRegistry
from ember.constraints.base import Constraint
from ember.constraints.norms import MaxNorm, MinMaxNorm, NonNeg, UnitNorm

__all__ = ["ALL_CONSTRAINTS", "deserialize", "get", "serialize"]

ALL_CONSTRAINTS = {
    "Constraint": Constraint,
    "MaxNorm": MaxNorm,
    "MinMaxNorm": MinMaxNorm,
    "NonNeg": NonNeg,
    "UnitNorm": UnitNorm,
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
}

# The "module" field of a serialized built-in constraint. It is Keras's, so
# configs written by either library load in the other.
_SERIALIZED_MODULE = "keras.constraints"

_REGISTRY = ClassRegistry(
    "constraint", Constraint, ALL_CONSTRAINTS, _SERIALIZED_MODULE, config_example="{'class_name': 'MaxNorm', 'config': {'max_value': 2}}"
)


def get(identifier):
    """Return a constraint for ``identifier``.

    Args:
        identifier: One of
            - ``None``: returned as ``None``;
            - a registered name such as ``"max_norm"`` or ``"NonNeg"`` (built
              with its defaults);
            - a config dict ``{"class_name": ..., "config": {...}}``;
            - a ``Constraint`` class: instantiated with its defaults;
            - a ``Constraint`` instance or any callable ``w -> w``: returned as-is.

    Returns:
        A callable ``w -> w``, or ``None``.

    Raises:
        ValueError: if the identifier is an unknown name or cannot be interpreted.

    Example:
        >>> get("max_norm")
        MaxNorm(max_value=2, axis=0)
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
        f"Could not interpret constraint identifier {identifier!r}: expected a name such as 'max_norm', a "
        "config dict, a Constraint or a callable w -> w."
    )


def serialize(constraint):
    """Return a JSON-friendly config for ``constraint`` (``None`` stays ``None``).

    The result has Keras's layout: ``{"module", "class_name", "config",
    "registered_name"}``.

    Raises:
        ValueError: for a plain function, which has no config to store.

    Example:
        >>> serialize(MaxNorm(3))["config"]
        {'max_value': 3, 'axis': 0}
    """
    return _REGISTRY.serialize(constraint)


def deserialize(config, custom_objects=None):
    """Rebuild a constraint from ``serialize``'s output or a registered name.

    Args:
        config: A dict with ``"class_name"`` and ``"config"``, or a name string.
        custom_objects: Optional ``{name: Constraint subclass}`` for custom classes.

    Returns:
        A new ``Constraint``.

    Example:
        >>> deserialize({"class_name": "UnitNorm", "config": {"axis": 1}}).axis
        1
    """
    return _REGISTRY.deserialize(config, custom_objects)

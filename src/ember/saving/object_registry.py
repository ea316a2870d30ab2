"""Registration of custom classes and functions, so saved files can name them.

A model file stores names, never code. ``@register_serializable()`` files a
custom layer, model, loss, metric, schedule, regularizer, constraint,
initializer or function under ``"<package>>name"`` (``"Custom>MyLayer"``);
loading looks the name up here (or in ``custom_objects``).

Example:
    >>> import ember
    >>> @register_serializable(package="Docs")
    ... class Scale(ember.layers.Layer):
    ...     def call(self, inputs):
    ...         return inputs * 2.0
    >>> get_registered_name(Scale)
    'Docs>Scale'
    >>> get_registered_object("Docs>Scale") is Scale
    True
"""

import inspect

__all__ = [
    "REGISTERED_OBJECTS",
    "get_registered_name",
    "get_registered_object",
    "register_serializable",
]

#: "<package>>name" -> registered class or function.
REGISTERED_OBJECTS = {}
# Registered object -> its "<package>>name" (the reverse of REGISTERED_OBJECTS).
_REGISTERED_NAMES = {}

MSG_REGISTER_HINT = (
    "Decorate its definition with `@ember.saving.register_serializable()` (and import that module "
    "before loading), or pass it in `custom_objects={{{name!r}: {name}}}`."
)


def register_serializable(package="Custom", name=None):
    """Decorator that registers a class or function under ``"<package>>name"``.

    Args:
        package: Namespace of the name, so two packages can each have a ``Scale``.
        name: Name within the package; defaults to the object's ``__name__``.

    Returns:
        A decorator returning the object unchanged.

    Raises:
        ValueError: for a ``package`` containing ``">"``, a lambda, a class
            without ``get_config``, or a name already taken by another object.
    """
    if not isinstance(package, str) or ">" in package or not package:
        raise ValueError(f"`package` must be a non-empty string without '>', got package={package!r}.")

    def decorator(obj):
        object_name = name if name is not None else getattr(obj, "__name__", None)
        if not object_name or object_name == "<lambda>":
            raise ValueError(
                f"Cannot register {obj!r}: it has no name. Define it with `def` (or pass `name=`)."
            )
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register class {obj.__name__}: it has no `get_config()` method, so its "
                "constructor arguments cannot be saved. Implement `get_config()` returning them."
            )
        if not inspect.isclass(obj) and not callable(obj):
            raise ValueError(f"register_serializable() expects a class or a function, got {obj!r}.")
        registered_name = f"{package}>{object_name}"
        existing = REGISTERED_OBJECTS.get(registered_name)
        if existing is not None and existing is not obj and not _same_definition(existing, obj):
            raise ValueError(
                f"The name {registered_name!r} is already registered for {existing!r}. Pick another "
                "`name=` or `package=`."
            )
        _REGISTERED_NAMES.pop(existing, None)
        REGISTERED_OBJECTS[registered_name] = obj
        _REGISTERED_NAMES[obj] = registered_name
        return obj

    return decorator


def _same_definition(old, new):
    """Re-running a module (a notebook cell, a reload) re-registers the same definition."""
    return getattr(old, "__module__", None) == getattr(new, "__module__", None) and getattr(
        old, "__qualname__", None
    ) == getattr(new, "__qualname__", None)


def get_registered_name(obj):
    """The ``"<package>>name"`` of a registered object, else its ``__name__``."""
    try:
        return _REGISTERED_NAMES[obj]
    except (KeyError, TypeError):
        return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name, custom_objects=None):
    """The object registered (or given in ``custom_objects``) under ``name``, or ``None``."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return REGISTERED_OBJECTS.get(name)


def is_registered(obj):
    try:
        return obj in _REGISTERED_NAMES
    except TypeError:
        return False


def lookup(class_name, registered_name, module, custom_objects):
    """A custom object saved as ``class_name`` / ``registered_name``, or ``None``.

    Searched in order: ``custom_objects`` (by registered name, then by class
    name), the registry by registered name, then a registered object with the
    same class name from the same module (for objects registered after saving).
    """
    custom_objects = custom_objects or {}
    for key in (registered_name, class_name):
        if key and key in custom_objects:
            return custom_objects[key]
    if registered_name and registered_name in REGISTERED_OBJECTS:
        return REGISTERED_OBJECTS[registered_name]
    same = [
        obj
        for obj in REGISTERED_OBJECTS.values()
        if getattr(obj, "__name__", None) == class_name and getattr(obj, "__module__", None) == module
    ]
    return same[0] if len(same) == 1 else None


def bare_name_functions():
    """``{__name__: function}`` for registered functions whose bare name is unambiguous.

    The loss and metric registries store functions by their bare
    ``__name__``; this lets them find registered ones. (Classes are not
    included: a registered class must never shadow a built-in one of the same
    name.)
    """
    by_name = {}
    for obj in REGISTERED_OBJECTS.values():
        if not inspect.isclass(obj):
            by_name.setdefault(getattr(obj, "__name__", None), []).append(obj)
    return {key: objs[0] for key, objs in by_name.items() if key and len(objs) == 1}


def registration_hint(name=None):
    """How to make ``name`` (or any custom object) loadable, for error messages."""
    if name is None:
        return (
            "If it names a custom class or function, decorate its definition with "
            "`@ember.saving.register_serializable()` or pass it in `custom_objects`."
        )
    return MSG_REGISTER_HINT.format(name=name)

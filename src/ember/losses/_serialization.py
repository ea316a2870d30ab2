"""Config dicts for losses and metrics (internal; shared by both registries).

The layout follows Keras's: ``{"module", "class_name", "config",
"registered_name"}`` for objects and ``{"class_name": "function", "config":
<name>}`` for plain functions. Deserialising only ever looks names up in the
registries and in ``custom_objects``; it never imports modules or runs code
from the config.
"""

import inspect


def serialize_function(fn):
    """Config for a plain function: its name, resolved by name when loading."""
    name = getattr(fn, "__name__", None)
    if not name or name == "<lambda>":
        raise ValueError(
            f"Cannot serialize {fn!r}: only named functions can be saved (they are looked up by "
            "name when loading). Define it with `def` and pass it in `custom_objects` when loading."
        )
    return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}


def serialize_object(obj, module, builtin_classes):
    """Config for an object with ``get_config()``; a class not in ``builtin_classes`` is custom."""
    cls = type(obj)
    builtin = builtin_classes.get(cls.__name__) is cls
    return {
        "module": module if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": obj.get_config(),
        "registered_name": None if builtin else cls.__name__,
    }


def resolve_function(config, functions, custom_objects, kind):
    """The function a ``serialize_function`` config (or a bare name) refers to."""
    name = config["config"] if isinstance(config, dict) else config
    custom_objects = custom_objects or {}
    fn = custom_objects.get(name, functions.get(name))
    if fn is None:
        raise ValueError(
            f"Unknown {kind} function {name!r}. Known functions: {sorted(functions)}. Pass a custom "
            f"function in `custom_objects={{{name!r}: fn}}`."
        )
    return fn


def deserialize_object(config, classes, functions, custom_objects, kind):
    """Rebuild an object, a function or a class instance from its config.

    Args:
        config: a dict made by ``serialize_*`` (Keras's layout is accepted
            too) or a registered name.
        classes: the registry: name -> class.
        functions: name -> function, for ``class_name == "function"`` and for
            a wrapper's ``"fn"`` entry.
        custom_objects: optional name -> class or function, searched first.
        kind: ``"loss"`` or ``"metric"``, for error messages.
    """
    custom_objects = custom_objects or {}
    if isinstance(config, str):
        obj = custom_objects.get(config, classes.get(config))
        if obj is None:
            raise ValueError(
                f"Unknown {kind} identifier {config!r}. Valid names: {sorted(classes)}. Pass a custom "
                f"class or function in `custom_objects`."
            )
        return obj() if inspect.isclass(obj) else obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Could not deserialize {kind} from {config!r}: expected a name or a dict with "
            "'class_name' and 'config' keys, as made by `serialize`."
        )
    if config["class_name"] == "function":
        return resolve_function(config, functions, custom_objects, kind)
    class_name = config["class_name"]
    cls = custom_objects.get(class_name) or custom_objects.get(config.get("registered_name") or "")
    if cls is None:
        cls = classes.get(class_name)
    if cls is None:
        raise ValueError(
            f"Unknown {kind} class {class_name!r}. Valid names: {sorted(classes)}. Pass a custom class "
            f"in `custom_objects={{{class_name!r}: cls}}`."
        )
    inner = dict(config.get("config") or {})
    if isinstance(inner.get("fn"), (str, dict)):
        inner["fn"] = resolve_function(inner["fn"], functions, custom_objects, kind)
    return cls.from_config(inner)

"""``ClassRegistry``: name → class lookup and Keras-layout configs, shared by the object packages.

A package (initializers, regularizers, constraints, ...) keeps one plain
module-level dict of its classes and wraps it in a ``ClassRegistry`` for the
common parts of ``get`` / ``serialize`` / ``deserialize``. Serialized configs
use Keras's layout (``module``, ``class_name``, ``config``,
``registered_name``), so files written by either library load in the other.
"""

__all__ = ["ClassRegistry"]


class ClassRegistry:
    """Lookup and (de)serialization for one kind of object.

    Args:
        kind: Lower-case noun for messages (``"regularizer"``).
        base: The base class every registered or custom class must subclass.
        classes: The package's ``{name: class}`` dict (also aliases).
        serialized_module: The ``module`` written for built-in classes
            (Keras's, e.g. ``"keras.regularizers"``).
        config_example: A config shown in errors, e.g.
            ``"{'class_name': 'L2', 'config': {'l2': 0.01}}"``.
    """

    def __init__(self, kind, base, classes, serialized_module, config_example):
        self.kind = kind
        self.base = base
        self.classes = classes
        self.serialized_module = serialized_module
        self.config_example = config_example

    @property
    def _title(self):
        return self.kind[0].upper() + self.kind[1:]

    @property
    def _article(self):
        return "an" if self.base.__name__[0] in "AEIOU" else "a"

    def lookup(self, name, custom_objects=None):
        """The class registered as ``name`` (``custom_objects`` first)."""
        if custom_objects and name in custom_objects:
            return custom_objects[name]
        if name in self.classes:
            return self.classes[name]
        raise ValueError(
            f"Unknown {self.kind} {name!r}. Valid names (case-sensitive): {', '.join(sorted(self.classes))}. "
            f"A custom {self.base.__name__} subclass can be passed as an instance, or by name through "
            "custom_objects={'Name': Class}."
        )

    def from_class(self, cls):
        """Instantiate a class given as the identifier, with its defaults."""
        if not issubclass(cls, self.base):
            raise ValueError(
                f"{self._title} classes must subclass {self.base.__module__.rsplit('.', 1)[0]}."
                f"{self.base.__name__}; got {cls!r}."
            )
        return cls()

    def serialize(self, obj):
        """A JSON-friendly config in Keras's layout (``None`` and strings pass through)."""
        if obj is None or isinstance(obj, str):
            return obj
        if not isinstance(obj, self.base):
            raise ValueError(
                f"Cannot serialize {obj!r}: only {self.base.__name__} instances carry a config. "
                f"Wrap the function in {self._article} {self.base.__name__} subclass that implements get_config()."
            )
        cls = type(obj)
        builtin = self.classes.get(cls.__name__) is cls
        return {
            "module": self.serialized_module if builtin else cls.__module__,
            "class_name": cls.__name__,
            "config": obj.get_config(),
            "registered_name": None if builtin else cls.__name__,
        }

    def deserialize(self, config, custom_objects=None):
        """Rebuild an object from ``serialize``'s output or a registered name."""
        if isinstance(config, str):
            return self.lookup(config, custom_objects)()
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(f"{self._title} config must be a dict like {self.config_example}, got {config!r}.")
        cls = self.lookup(config["class_name"], custom_objects)
        kwargs = config.get("config") or {}
        if not isinstance(kwargs, dict):
            raise ValueError(f"{self._title} config['config'] must be a dict of arguments, got {kwargs!r}.")
        if hasattr(cls, "from_config"):
            return cls.from_config(kwargs)
        return cls(**kwargs)

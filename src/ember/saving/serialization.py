"""JSON configs of layers, models and every object inside them, and back.

``serialize_value`` turns a config (as returned by ``get_config()``) into
JSON-compatible data; ``deserialize_value`` rebuilds it. Objects are written in
Keras's layout ``{"module", "class_name", "config", "registered_name"}``;
values JSON lacks are tagged as Keras tags them (``{"class_name": "__tuple__",
...}``). Functions are stored by name only: a torch tensor function by its
dotted name (``"torch.sum"``), anything else by its registered name. Nothing
is ever imported or executed from a file, except that ``safe_mode=False``
lets a trusted file name a class or function by module.

``LAYERS`` is the registry of built-in layer and model classes; custom ones
come from ``@register_serializable()`` (``object_registry``).
"""

import importlib
import inspect

import numpy as np
import torch

from ember import constraints, initializers, layers, losses, metrics, optimizers, regularizers
from ember.backend.dtypes import standardize_dtype, to_torch_dtype
from ember.layers.layer import Layer
from ember.layers.torch_op import TorchOpLayer
from ember.mixed_precision import policy as dtype_policies
from ember.models.model import Model
from ember.models.sequential import Sequential
from ember.optimizers import schedules
from ember.saving import object_registry
from ember.saving.torch_functions import resolve_torch_function, torch_function_name

__all__ = ["LAYERS", "deserialize_value", "get_layer_class", "serialize_value"]

#: class name -> built-in layer or model class ("Functional" is Keras's name for a graph model).
LAYERS = {
    **{
        cls.__name__: cls
        for cls in (getattr(layers, name) for name in layers.__all__)
        if inspect.isclass(cls) and issubclass(cls, Layer)
    },
    "TorchOpLayer": TorchOpLayer,
    "Model": Model,
    "Functional": Model,
    "Sequential": Sequential,
}

# Object kinds: the base class, the package's (de)serializer, and the "module" values of built-ins.
_KINDS = (
    ("loss", losses.Loss, losses, ("ember.losses", "keras.losses")),
    ("metric", metrics.Metric, metrics, ("ember.metrics", "keras.metrics")),
    ("optimizer", optimizers.Optimizer, optimizers, ("ember.optimizers", "keras.optimizers")),
    (
        "learning-rate schedule",
        schedules.LearningRateSchedule,
        schedules,
        ("ember.optimizers.schedules", "keras.optimizers.schedules"),
    ),
    ("regularizer", regularizers.Regularizer, regularizers, ("ember.regularizers", "keras.regularizers")),
    ("constraint", constraints.Constraint, constraints, ("ember.constraints", "keras.constraints")),
    ("initializer", initializers.Initializer, initializers, ("ember.initializers", "keras.initializers")),
    ("dtype policy", dtype_policies.DTypePolicy, dtype_policies, ("ember.mixed_precision", "keras")),
)
_LAYER_MODULES = ("ember.layers", "ember.models", "keras.layers", "keras.models")
_ALLOWED_BASES = (Layer,) + tuple(base for _, base, _, _ in _KINDS)
_TRUSTED_FUNCTION_MODULES = ("ember.activations.", "ember.losses.", "ember.metrics.")

MSG_LAMBDA_SAVE = (
    "Cannot save {value!r} (at {where}): lambdas and functions defined inside other functions have "
    "no importable name, and ember files store names only, never code. Define it at module level "
    "with `def`, decorate it with `@ember.saving.register_serializable()`, and save again."
)
MSG_LAMBDA_LOAD = (
    "The file contains Python code (a lambda or bytecode) at {where}. {mode} Replace the lambda with a "
    "function decorated with `@ember.saving.register_serializable()`, rebuild and save the model again."
)
MSG_UNKNOWN_OBJECT = (
    "Unknown {kind} {class_name!r} at {where} (saved from module {module!r}, registered name "
    "{registered_name!r}): it is not built into ember and is not registered. {hint}{trust}"
)
MSG_TRUST = " If you trust this file, load it with safe_mode=False to import {name!r} from module {module!r}."
MSG_NOT_SERIALIZABLE = (
    "Cannot save {value!r} of type {type} (at {where}): configs may hold numbers, strings, lists, "
    "tuples, dicts, layers, losses, metrics, optimizers, schedules, regularizers, constraints, "
    "initializers and named functions. Return a JSON-friendly value from get_config()."
)


def get_layer_class(name):
    """The built-in layer class saved as ``name``, or a registered custom one.

    Raises:
        ValueError: for an unknown name, saying how to register a custom layer.
    """
    cls = LAYERS.get(name) or object_registry.get_registered_object(name)
    if cls is None:
        raise ValueError(
            f"Unknown layer class {name!r}. Built-in layers: {sorted(LAYERS)}. "
            + object_registry.registration_hint(name.split(">")[-1])
        )
    return cls


def _is_builtin(cls):
    return cls.__module__.startswith("ember.")


# ---------------------------------------------------------------------------------------- saving
def serialize_value(value, where="config"):
    """A JSON-compatible form of ``value`` (a config, or anything inside one).

    Raises:
        ValueError: for a lambda or a value without a saveable form, naming
            where in the config it was found.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [serialize_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, tuple):
        items = [serialize_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return {"class_name": "__tuple__", "config": {"value": items}}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"Cannot save a dict with key {key!r} (at {where}): JSON keys are strings.")
        return _fix_registered_name({key: serialize_value(item, f"{where}.{key}") for key, item in value.items()})
    if isinstance(value, slice):
        return {"class_name": "__slice__", "config": {"start": value.start, "stop": value.stop, "step": value.step}}
    if value is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(value, torch.dtype):
        return {"class_name": "__dtype__", "config": {"value": standardize_dtype(value)}}
    if isinstance(value, torch.nn.Parameter):
        raise ValueError(
            f"Cannot save the parameter {tuple(value.shape)} found at {where} in a config: it belongs "
            "to a plain torch module called on symbolic tensors. Wrap that module in a Layer subclass "
            "(weights made with add_weight, registered with @ember.saving.register_serializable())."
        )
    if isinstance(value, torch.Tensor):
        array = value.detach().cpu()
        return {"class_name": "__tensor__", "config": {"value": array.tolist(), "dtype": standardize_dtype(array.dtype)}}
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    if isinstance(value, Layer):
        from ember.saving.layer_config import serialize_layer  # layer configs use this module

        return serialize_layer(value, where)
    for kind, base, package, _ in _KINDS:
        if isinstance(value, base):
            try:
                config = package.serialize(value)
            except NotImplementedError as error:
                raise ValueError(f"Cannot save the {kind} {value!r} (at {where}): {error}") from None
            return _object_config(value, config, where)
    if inspect.isclass(value):
        raise ValueError(MSG_NOT_SERIALIZABLE.format(value=value, type="class", where=where))
    if callable(value):
        return serialize_function(value, where)
    raise ValueError(MSG_NOT_SERIALIZABLE.format(value=value, type=type(value).__name__, where=where))


def _object_config(obj, config, where):
    """A package's config of ``obj``, its custom classes named by their registered name."""
    config = dict(config)
    cls = type(obj)
    if not _is_builtin(cls):
        config.update(module=cls.__module__, class_name=cls.__name__)
        config["registered_name"] = object_registry.get_registered_name(cls)
    return serialize_value(config, where)


def _fix_registered_name(config):
    """Nested configs made by the package serializers name custom classes by ``__name__``."""
    registered = config.get("registered_name")
    if (
        isinstance(registered, str)
        and ">" not in registered
        and registered != "function"
        and "class_name" in config
        and "module" in config
    ):
        obj = object_registry.lookup(config["class_name"], None, config["module"], None)
        if obj is not None and obj.__module__ == config["module"] and object_registry.is_registered(obj):
            config["registered_name"] = object_registry.get_registered_name(obj)
    return config


def serialize_function(fn, where="config"):
    """A function by name: a tensor function's dotted name, else its registered or module name."""
    torch_name = torch_function_name(fn)
    if torch_name is not None:
        return {"class_name": "__torch_function__", "config": {"name": torch_name}}
    name = getattr(fn, "__name__", None)
    qualname = getattr(fn, "__qualname__", name) or ""
    registered = object_registry.is_registered(fn)
    if not registered:
        if inspect.isfunction(fn):
            if name == "<lambda>" or "<locals>" in qualname:
                raise ValueError(MSG_LAMBDA_SAVE.format(value=fn, where=where))
        elif not inspect.isbuiltin(fn):
            raise ValueError(MSG_NOT_SERIALIZABLE.format(value=fn, type=type(fn).__name__, where=where))
    return {
        "class_name": "__function__",
        "config": {
            "name": qualname,
            "module": getattr(fn, "__module__", None),
            "registered_name": object_registry.get_registered_name(fn) if registered else None,
        },
    }


# --------------------------------------------------------------------------------------- loading
class Loader:
    """Rebuilds configs: ``custom_objects`` and ``safe_mode`` as given to ``load_model``."""

    def __init__(self, custom_objects=None, safe_mode=True):
        self.custom_objects = dict(custom_objects or {})
        self.safe_mode = safe_mode
        # What the package deserializers look function names up in (they use bare names).
        self.package_objects = {**object_registry.bare_name_functions(), **self.custom_objects}

    def value(self, config, where="config", tensor_lookup=None):
        """Rebuild anything ``serialize_value`` wrote."""
        if isinstance(config, list):
            return [self.value(item, f"{where}[{i}]", tensor_lookup) for i, item in enumerate(config)]
        if not isinstance(config, dict):
            return config
        tag = config.get("class_name")
        inner = config.get("config")
        if tag == "__tuple__":
            return tuple(self.value(inner["value"], where, tensor_lookup))
        if tag == "__slice__":
            return slice(inner["start"], inner["stop"], inner["step"])
        if tag == "__ellipsis__":
            return Ellipsis
        if tag == "__dtype__":
            return to_torch_dtype(inner["value"])
        if tag == "__tensor__":
            return torch.tensor(inner["value"], dtype=to_torch_dtype(inner["dtype"]))
        if tag == "__numpy__":
            return np.asarray(inner["value"], dtype=inner["dtype"])
        if tag == "__function__":
            return self.function(inner, where)
        if tag == "__torch_function__":
            return resolve_torch_function(inner.get("name"))
        if tag == "__keras_tensor__":
            if tensor_lookup is None:
                raise ValueError(f"A symbolic tensor appears at {where}, outside a functional model's graph.")
            return tensor_lookup(inner["keras_history"], where)
        if tag == "__lambda__":
            mode = (
                "safe_mode=True refuses to deserialize it."
                if self.safe_mode
                else "Even with safe_mode=False ember never runs code stored in a file: a lambda cannot be stored."
            )
            raise ValueError(MSG_LAMBDA_LOAD.format(where=where, mode=mode))
        if isinstance(tag, str) and "config" in config and ("module" in config or "registered_name" in config):
            if tag == "function":
                return config  # Keras's function layout: resolved by the loss/metric/activation registries
            return self.object(config, where)
        return {key: self.value(item, f"{where}.{key}", tensor_lookup) for key, item in config.items()}

    def object(self, config, where):
        """An object from its ``{"module", "class_name", "config", "registered_name"}`` config."""
        class_name = config["class_name"]
        module = config.get("module") or ""
        registered_name = config.get("registered_name")
        from ember.saving.layer_config import deserialize_layer  # layer configs use this module

        if registered_name is None and module.startswith(_LAYER_MODULES):
            return deserialize_layer(config, self, where)
        if registered_name is None:
            for kind, _, package, modules in _KINDS:
                if module in modules:
                    inner = self.value(config.get("config") or {}, where)
                    try:
                        return package.deserialize(
                            {**config, "config": inner}, custom_objects=self.package_objects
                        )
                    except ValueError as error:
                        raise ValueError(
                            f"Could not load the {kind} at {where}: {error} " + object_registry.registration_hint()
                        ) from error
            raise ValueError(f"Unknown object {class_name!r} from module {module!r} at {where}.")
        cls = self.resolve_class(config, where)
        if inspect.isclass(cls) and issubclass(cls, Layer):
            return deserialize_layer(config, self, where, cls=cls)
        inner = self.value(config.get("config") or {}, where)
        return instantiate(cls, inner, where)

    def resolve_class(self, config, where, kind="class"):
        """The custom class a config names; only registered (or trusted, with safe_mode=False) ones."""
        class_name = config["class_name"]
        registered_name = config.get("registered_name")
        module = config.get("module")
        cls = object_registry.lookup(class_name, registered_name, module, self.custom_objects)
        if cls is None and not self.safe_mode:
            candidate = _import_attribute(module, class_name)
            if inspect.isclass(candidate) and issubclass(candidate, _ALLOWED_BASES):
                cls = candidate
        if cls is None:
            trust = MSG_TRUST.format(name=class_name, module=module) if self.safe_mode and module else ""
            raise ValueError(
                MSG_UNKNOWN_OBJECT.format(
                    kind=kind,
                    class_name=class_name,
                    where=where,
                    module=module,
                    registered_name=registered_name,
                    hint=object_registry.registration_hint(class_name),
                    trust=trust,
                )
            )
        return cls

    def function(self, config, where):
        """A function saved by ``serialize_function``."""
        name, module, registered_name = config.get("name"), config.get("module"), config.get("registered_name")
        fn = object_registry.lookup(name, registered_name, module, self.custom_objects)
        if fn is None and isinstance(module, str) and module.startswith(_TRUSTED_FUNCTION_MODULES):
            candidate = _import_attribute(module, name)  # ember's own activations, losses and metrics
            fn = candidate if inspect.isfunction(candidate) else None
        if fn is None and not self.safe_mode:
            candidate = _import_attribute(module, name)
            fn = candidate if inspect.isfunction(candidate) else None
        if fn is None or not callable(fn):
            trust = MSG_TRUST.format(name=name, module=module) if self.safe_mode and module else ""
            raise ValueError(
                MSG_UNKNOWN_OBJECT.format(
                    kind="function",
                    class_name=name,
                    where=where,
                    module=module,
                    registered_name=registered_name,
                    hint=object_registry.registration_hint(str(name).split(".")[-1]),
                    trust=trust,
                )
            )
        return fn


def _import_attribute(module, name):
    """``module.name`` if both exist; modules are imported only for trusted files (or ember's own)."""
    if not isinstance(module, str) or not isinstance(name, str) or not module or "<" in name:
        return None
    try:
        obj = importlib.import_module(module)
    except ImportError:
        return None
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def instantiate(cls, config, where):
    """``cls.from_config(config)``, with an error that says what to fix."""
    try:
        from_config = getattr(cls, "from_config", None)
        return from_config(config) if from_config is not None else cls(**config)
    except TypeError as error:
        raise TypeError(
            f"Could not recreate {cls.__name__} (at {where}) from its saved config {config}: {error}. "
            f"{cls.__name__}.get_config() must return every constructor argument, and from_config() "
            "(by default cls(**config)) must accept them."
        ) from error


def deserialize_value(config, custom_objects=None, safe_mode=True):
    """Rebuild a value written by ``serialize_value``."""
    return Loader(custom_objects, safe_mode).value(config)

"""Configs of layers and models, and the layers and models rebuilt from them.

Each kind of model is stored as Keras stores it:

* ``Functional`` (``Model(inputs, outputs)``): its layers and the calls
  connecting them (see ``functional_config``);
* ``Sequential``: its list of layers (an ``InputLayer`` first when it has one);
* a subclassed model: its ``get_config()``, plus the shapes of the first call
  so that it can be built (its weights created) before they are loaded;
* a torch-function node (``torch.sum(x)`` on symbolic tensors): the
  function's dotted name.
"""

import numpy as np
import torch

from ember.backend.dtypes import to_torch_dtype
from ember.backend.strings import is_string_array
from ember.graph.keras_tensor import KerasTensor
from ember.layers.torch_op import TorchOpLayer
from ember.models.model import Model
from ember.models.sequential import Sequential
from ember.saving import object_registry
from ember.saving.serialization import LAYERS, instantiate, serialize_value
from ember.saving.torch_functions import torch_function_name
from ember.tree import map_structure

__all__ = ["deserialize_layer", "serialize_layer"]

MSG_NO_CONFIG = (
    "Cannot save layer {name!r} of type {type}: it has no config ({error}). Saving the architecture "
    "needs every layer's get_config(). Write a Layer subclass with get_config() and register it with "
    "`@ember.saving.register_serializable()`, or save only the weights with model.save_weights(...) "
    "and rebuild the model in code."
)
MSG_WRAPPED_MODULE = (
    "Cannot save the architecture of model {name!r}: it wraps the torch module {module}, which has no "
    "config. Save its weights with model.save_weights('....weights.safetensors') and rebuild the "
    "model in code, or write it as an ember model."
)
MSG_NOT_TORCH_FUNCTION = (
    "Cannot save the graph node {name!r}: it applies {fn!r}, which is not a torch tensor function. "
    "Only torch functions (torch.*, torch.nn.functional.*, tensor operators) applied to symbolic "
    "tensors are saved by name; put other code in a Layer subclass registered with "
    "`@ember.saving.register_serializable()`."
)


def _class_fields(layer):
    """``(module, class_name, registered_name)`` of a layer, as Keras writes them."""
    cls = type(layer)
    if cls.__module__.startswith("ember."):
        module = "ember.models" if isinstance(layer, Model) else "ember.layers"
        class_name = "Functional" if cls is Model and layer._graph is not None else cls.__name__
        return module, class_name, None
    return cls.__module__, cls.__name__, object_registry.get_registered_name(cls)


def serialize_layer(layer, where="config"):
    """The Keras-layout config of ``layer`` (any layer or model).

    Raises:
        ValueError: a layer without a config (wrapped torch modules), or a
            value inside a config that cannot be saved, naming it.
    """
    from ember.saving.functional_config import functional_config  # it uses this module

    module, class_name, registered_name = _class_fields(layer)
    where = f"{where} > layer {layer.name!r}"
    if isinstance(layer, Sequential):
        config = {
            "name": layer.name,
            "trainable": layer.trainable,
            "layers": [
                serialize_layer(sub, where)
                for sub in ([layer._input_layer] if layer._input_layer is not None else []) + layer.layers
            ],
        }
    elif isinstance(layer, Model) and layer._graph is not None:
        config = functional_config(layer, where)
    elif isinstance(layer, Model) and layer._module is not None:
        raise ValueError(MSG_WRAPPED_MODULE.format(name=layer.name, module=type(layer._module).__name__))
    elif isinstance(layer, TorchOpLayer):
        name = torch_function_name(layer.fn)
        if name is None:
            raise ValueError(MSG_NOT_TORCH_FUNCTION.format(name=layer.name, fn=layer.fn))
        config = {"name": layer.name, "function": {"class_name": "__torch_function__", "config": {"name": name}}}
    else:
        try:
            raw = layer.get_config()
        except NotImplementedError as error:
            raise ValueError(MSG_NO_CONFIG.format(name=layer.name, type=type(layer).__name__, error=error)) from None
        config = serialize_value(raw, where)
    entry = {"module": module, "class_name": class_name, "config": config, "registered_name": registered_name}
    spec = getattr(layer, "_build_input_spec", None)
    if isinstance(layer, Model) and layer._graph is None and not isinstance(layer, Sequential) and spec is not None:
        entry["build_config"] = {"input_spec": serialize_value(map_structure(_spec_config, spec), where)}
    return entry


def _spec_config(leaf):
    if isinstance(leaf, KerasTensor):
        return {"class_name": "__input_spec__", "config": {"shape": leaf.shape, "dtype": leaf.dtype}}
    return leaf


def deserialize_layer(config, loader, where="config", cls=None):
    """Rebuild a layer or model from ``serialize_layer``'s config.

    Args:
        config: The ``{"module", "class_name", "config", ...}`` dict.
        loader: The ``serialization.Loader`` (custom objects, safe mode).
        where: Location in the file, for error messages.
        cls: The class, when the caller already resolved a custom one.
    """
    from ember.saving.functional_config import functional_from_config  # it uses this module

    class_name = config["class_name"]
    inner = config.get("config") or {}
    if cls is None:
        cls = LAYERS.get(class_name)
        if cls is None:
            raise ValueError(
                f"Unknown layer class {class_name!r} at {where}. Built-in layers: {sorted(LAYERS)}. "
                + object_registry.registration_hint(class_name)
            )
    if issubclass(cls, Sequential):
        layers = [loader.value(sub, f"{where} > layer {_name_of(sub)!r}") for sub in inner.get("layers", [])]
        return _construct(cls, where, layers=layers, name=inner.get("name"), trainable=inner.get("trainable", True))
    if issubclass(cls, Model) and "input_layers" in inner:
        return functional_from_config(cls, inner, loader, where)
    if cls is TorchOpLayer:
        function = inner.get("function") or {}
        if not isinstance(function, dict) or function.get("class_name") != "__torch_function__":
            raise ValueError(f"The torch-function node at {where} does not name a torch function: {function!r}.")
        return TorchOpLayer(loader.value(function, where), name=inner.get("name"))
    layer = instantiate(cls, loader.value(inner, where), where)
    build_config = config.get("build_config")
    if isinstance(layer, Model) and build_config:
        _build(layer, loader.value(build_config.get("input_spec"), where), where)
    return layer


def _name_of(config):
    inner = config.get("config") if isinstance(config, dict) else None
    return inner.get("name") if isinstance(inner, dict) else None


def _construct(cls, where, **arguments):
    try:
        return cls(**arguments)
    except TypeError as error:
        raise TypeError(
            f"Could not recreate {cls.__name__} at {where} with {sorted(arguments)}: {error}. A subclass "
            "of Sequential or of a functional Model must accept the same arguments as its base class."
        ) from error


def _build(model, spec, where):
    """Create a subclassed model's weights by calling it once on zeros of the saved shapes."""

    def zeros(leaf):
        if isinstance(leaf, dict) and leaf.get("class_name") == "__input_spec__":
            shape = [1 if size is None else int(size) for size in leaf["config"]["shape"]]
            return torch.zeros(shape, dtype=to_torch_dtype(leaf["config"]["dtype"]))
        return leaf

    if isinstance(spec, dict) and spec.get("class_name") == "__input_spec__":
        args = (zeros(spec),)
    else:
        args = _map_specs(zeros, spec)
    try:
        with torch.no_grad():
            model(*args, training=False)
    except Exception as error:  # noqa: BLE001 - re-raised with the location and shapes
        raise ValueError(
            f"Could not build the model at {where} by calling it on zeros shaped like its first input "
            f"({_describe(spec)}): {error!r}."
        ) from error


def _map_specs(fn, structure):
    if isinstance(structure, dict) and structure.get("class_name") == "__input_spec__":
        return fn(structure)
    if isinstance(structure, dict):
        return {key: _map_specs(fn, value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_specs(fn, value) for value in structure)
    return fn(structure)


def _describe(spec):
    return _map_specs(lambda leaf: tuple(leaf["config"]["shape"]) if isinstance(leaf, dict) else leaf, spec)


def input_spec(value):
    """The shape (batch size unknown) and dtype of one input of a model's first call."""
    if isinstance(value, KerasTensor):
        return KerasTensor((None,) + tuple(value.shape[1:]), value.dtype)
    if isinstance(value, (torch.Tensor, np.ndarray)):
        shape = tuple(value.shape)
        dtype = "string" if is_string_array(value) else str(value.dtype).replace("torch.", "")
        return KerasTensor((None,) + shape[1:] if shape else (), dtype)
    return value

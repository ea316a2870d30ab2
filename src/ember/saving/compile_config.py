"""``compile()`` arguments and optimizer state in a model file.

``compile.json`` holds the optimizer's config and the losses, metrics and
loss weights as they were passed to ``compile()`` (captured then, before
compiling renames metric objects per output). ``optimizer.safetensors``
holds the optimizer's ``variables`` (iterations, learning rate, slots) in
order. Loading compiles the model again, builds the optimizer on the model's
trainable weights and restores that state, so ``fit`` continues exactly where
the saved model stopped.
"""

import json

from ember import losses, metrics
from ember.optimizers import Optimizer
from ember.saving import object_registry
from ember.saving.serialization import serialize_value
from ember.saving.weights_io import safetensors_torch

__all__ = ["capture_compile_arguments", "compile_from_members", "compile_members"]

MSG_OPTIMIZER = (
    "Cannot save the optimizer of model {name!r}: {optimizer!r} is not an ember optimizer, so its "
    "config and state have no saved form. Compile with an ember optimizer (ember.optimizers.Adam, ...), "
    "or save the weights only with model.save_weights('....weights.safetensors')."
)


def capture_compile_arguments(**arguments):
    """Serialize ``compile()``'s arguments now; an error is kept and raised when saving."""
    try:
        return {"config": serialize_value(arguments, "compile()")}
    except Exception as error:  # noqa: BLE001 - compiling must not fail because saving would
        return {"error": error}


def compile_members(model):
    """``{"compile.json": ..., "optimizer.safetensors": ...}`` of a compiled model, else ``{}``."""
    if not getattr(model, "compiled", False):
        return {}
    captured = getattr(model, "_compile_arguments", None)
    if captured is None:
        raise ValueError(f"Model {model.name!r} is marked compiled but has no recorded compile() arguments.")
    if "error" in captured:
        raise ValueError(f"Cannot save the compile() arguments of model {model.name!r}: {captured['error']}")
    optimizer = model.optimizer
    if not isinstance(optimizer, Optimizer):
        raise ValueError(MSG_OPTIMIZER.format(name=model.name, optimizer=optimizer))
    variables = optimizer.variables
    config = {
        "compile_arguments": captured["config"],
        "optimizer": serialize_value(optimizer, "compile(optimizer=...)"),
        "optimizer_built": bool(optimizer.built),
        "optimizer_variables": [
            {"name": v.name, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} for v in variables
        ],
    }
    state = {str(i): v.detach().cpu().contiguous().clone() for i, v in enumerate(variables)}
    return {
        "compile.json": json.dumps(config).encode(),
        "optimizer.safetensors": safetensors_torch().save(state, metadata={"format": "ember.optimizer"}),
    }


def _resolve_functions(structure, package, loader, where):
    """Loss/metric functions, kept in Keras's function layout by the generic loader."""
    if isinstance(structure, dict) and structure.get("class_name") == "function":
        try:
            return package.deserialize(structure, custom_objects=loader.package_objects)
        except ValueError as error:
            raise ValueError(
                f"Cannot load {where}: {error} " + object_registry.registration_hint(str(structure.get("config")))
            ) from None
    if isinstance(structure, dict):
        return {key: _resolve_functions(value, package, loader, where) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_resolve_functions(value, package, loader, where) for value in structure)
    return structure


def compile_from_members(model, compile_data, optimizer_data, loader):
    """Compile ``model`` as saved and restore its optimizer's state."""
    config = json.loads(compile_data)
    arguments = loader.value(config["compile_arguments"], "compile.json")
    for key, package in (("loss", losses), ("metrics", metrics), ("weighted_metrics", metrics)):
        if key in arguments:
            arguments[key] = _resolve_functions(arguments[key], package, loader, f"compile({key}=...)")
    optimizer = loader.value(config["optimizer"], "compile.json > optimizer")
    model.compile(optimizer=optimizer, **arguments)
    if config.get("optimizer_built"):
        optimizer.build([p for p in model.trainable_weights if p.requires_grad])
    state = safetensors_torch().load(optimizer_data)
    variables = optimizer.variables
    saved = config.get("optimizer_variables", [])
    expected = [(tuple(v.shape), str(v.dtype).replace("torch.", "")) for v in variables]
    got = [(tuple(s["shape"]), s["dtype"]) for s in saved]
    if expected != got or sorted(state) != sorted(str(i) for i in range(len(saved))):
        raise ValueError(
            f"The saved state of optimizer {optimizer.name!r} does not fit the rebuilt optimizer: the file has "
            f"{len(got)} variables {got}, the optimizer built on the model's trainable weights has "
            f"{len(expected)} {expected}. The file is inconsistent with its config."
        )
    optimizer.load_own_variables(state)

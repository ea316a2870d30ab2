"""``save_model`` and ``load_model``: a whole model in one ``.ember`` file."""

import json
import os

from ember.saving.archive import read_archive, write_archive

__all__ = ["load_model", "save_model"]

MODEL_SUFFIX = ".ember"
MSG_SAVE_SUFFIX = (
    "Invalid filepath extension for saving: model files must end in `.ember`. Received: filepath={!r}. "
    "To save only the weights, use model.save_weights('name.weights.safetensors')."
)
MSG_LOAD_SUFFIX = (
    "Cannot load a model from filepath={!r}: model files end in `.ember` (written by model.save). "
    "{hint}"
)


def save_model(model, filepath, overwrite=True):
    """Save ``model`` (architecture, weights, compile arguments, optimizer state) to ``filepath``.

    The file is written to a temporary file in the same directory and moved
    into place, so ``filepath`` is never left half-written.

    Args:
        model: An ember ``Model``.
        filepath: A path ending in ``.ember``.
        overwrite: Whether to replace an existing file.

    Raises:
        ValueError: for another extension, or a model part that cannot be
            saved (a lambda, a wrapped torch module, a layer without config),
            before anything is written.
    """
    from ember.saving.compile_config import compile_members
    from ember.saving.layer_config import serialize_layer
    from ember.saving.weights_io import weights_to_bytes

    path = os.fspath(filepath)
    if not path.endswith(MODEL_SUFFIX):
        raise ValueError(MSG_SAVE_SUFFIX.format(path))
    config = serialize_layer(model, "the model")
    members = {
        "config.json": json.dumps(config).encode(),
        "model.weights.safetensors": weights_to_bytes(model),
    }
    members.update(compile_members(model))
    write_archive(path, members, overwrite=overwrite)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002 - Keras's name
    """Load a model saved by ``model.save`` / ``save_model``.

    Every member of the file is checked against the SHA-256 recorded when it
    was saved before anything is rebuilt; any problem raises, and no partly
    loaded model is ever returned.

    Args:
        filepath: A path ending in ``.ember``.
        custom_objects: ``{name: class or function}`` for custom objects not
            registered with ``@ember.saving.register_serializable()``.
        compile: Whether to compile the model as saved and restore its
            optimizer state (when it was saved compiled).
        safe_mode: With ``True`` (the default), only built-in, registered and
            ``custom_objects`` classes and functions are used. With ``False``
            (for trusted files only), other classes and functions are imported
            from the module recorded in the file. Code is never read from a
            file in either mode.

    Returns:
        The ``Model``.

    Example:
        >>> import ember, os, tempfile
        >>> inputs = ember.Input(shape=(3,))
        >>> model = ember.Model(inputs, ember.layers.Dense(2)(inputs))
        >>> path = os.path.join(tempfile.mkdtemp(), "model.ember")
        >>> model.save(path)
        >>> load_model(path).get_layer(index=1).units
        2
    """
    from ember.models.model import Model
    from ember.saving.compile_config import compile_from_members
    from ember.saving.serialization import Loader
    from ember.saving.weights_io import assign_weights, read_safetensors

    path = os.fspath(filepath)
    if not path.endswith(MODEL_SUFFIX):
        if path.endswith((".weights.safetensors", ".weights.h5")):
            hint = "This is a weights file: build the model in code, then call model.load_weights(filepath)."
        else:
            hint = ""
        raise ValueError(MSG_LOAD_SUFFIX.format(path, hint=hint).strip())
    _, members = read_archive(path)
    try:
        config = json.loads(members["config.json"])
    except json.JSONDecodeError as error:
        raise ValueError(f"{path!r}: config.json is not valid JSON ({error}).") from None
    loader = Loader(custom_objects, safe_mode)
    model = loader.value(config, "config.json")
    if not isinstance(model, Model):
        raise ValueError(f"{path!r}: config.json describes a {type(model).__name__}, not a model.")
    tensors, metadata = read_safetensors(members["model.weights.safetensors"], f"{path!r} (model.weights.safetensors)")
    assign_weights(model, tensors, f"{path!r}", file_layers=json.loads(metadata.get("layers", "{}")))
    _check_layer_names(model, metadata, path)
    if compile and "compile.json" in members:
        compile_from_members(model, members["compile.json"], members["optimizer.safetensors"], loader)
    return model


def _check_layer_names(model, metadata, path):
    """The rebuilt graph must put the same layers at the same weight paths as the saved one.

    Only the layers of functional and Sequential models are checked: their
    names come from the config, while those made in a subclass's ``__init__``
    are new.
    """
    from ember.models.sequential import Sequential
    from ember.saving.weights_io import layer_entries

    entries = layer_entries(model)
    from_config = set()
    for _, layer, _ in entries:
        if isinstance(layer, Sequential) or getattr(layer, "_graph", None) is not None:
            from_config.update(id(sub) for sub in layer.layers)
    saved = json.loads(metadata.get("layers", "{}"))
    for entry_path, layer, _ in entries:
        name = saved.get(entry_path, {}).get("name")
        if id(layer) in from_config and name is not None and name != layer.name:
            raise ValueError(
                f"{path!r}: the rebuilt model has layer {layer.name!r} at weight path {entry_path!r}, "
                f"where the saved model had {name!r}; the file's config and weights disagree."
            )

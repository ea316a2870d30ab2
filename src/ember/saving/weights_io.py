"""Weights files: ``.weights.safetensors`` (ember's) and ``.weights.h5`` (Keras's).

Weights are matched by the model's structure, as Keras matches them: every
layer has a path (``layers/dense``, ``layers/dense_1``, ``layers/sequential/
layers/dense``), made from the layer *class* names in model order, never
from layer names (which differ between two instances of the same model). A
layer's weights are stored under ``<path>/vars/<i>`` in Keras's order
(trainable first) and in Keras's array layouts (a ``Conv2D`` kernel is
``(kh, kw, in, out)``), so Keras's ``.weights.h5`` files load too.
"""

import json
import os
import re
import struct
import warnings

import numpy as np
import torch

from ember.backend.naming import to_snake_case
from ember.layers.layer import Layer
from ember.models.model import Model
from ember.models.sequential import Sequential
from ember.saving.atomic import atomic_write, check_overwrite

__all__ = ["layer_entries", "load_weights", "save_weights", "weights_to_bytes"]

FORMAT_NAME = "ember.weights"
FORMAT_VERSION = 1
WEIGHTS_SUFFIX = ".weights.safetensors"
KERAS_WEIGHTS_SUFFIX = ".weights.h5"
_KEY = re.compile(r"^(?:(.*)/)?vars/(\d+)$")

MSG_SAVE_SUFFIX = (
    "The filename must end in `.weights.safetensors`. Received: filepath={!r}. (Whole models, with "
    "their architecture and optimizer, are saved with model.save('name.ember').)"
)
MSG_LOAD_SUFFIX = (
    "Cannot load weights from filepath={!r}: the name must end in `.weights.safetensors` (ember), "
    "`.weights.h5` (Keras) or `.ember` (a whole ember model)."
)
MSG_MISMATCH = (
    "Cannot load the weights from {source}: {count} layer(s) do not match the model:\n{details}\n"
    "The file holds the weights of a different architecture. Build the same model as the one saved, "
    "or pass skip_mismatch=True to load the matching layers and skip the others."
)

MSG_SKIPPED = (
    "Skipping {count} mismatching layer(s) while loading the weights from {source} (skip_mismatch=True); "
    "they keep their current weights:\n{details}"
)


def safetensors_torch():
    """The ``safetensors.torch`` module, or an error saying how to install it."""
    try:
        import safetensors.torch
    except ImportError:
        raise ImportError("Saving and loading ember files needs safetensors: pip install safetensors") from None
    return safetensors.torch


def _class_path_name(layer):
    if type(layer) is Model and layer._graph is not None:
        return "functional"  # Keras's class for graph models
    return to_snake_case(type(layer).__name__)


def _is_layer_container(module):
    return isinstance(module, (torch.nn.ModuleList, torch.nn.ModuleDict, torch.nn.Sequential)) and any(
        isinstance(child, Layer) for child in module.children()
    )


def _children(layer):
    """``(attribute, child layer or list of layers)`` in Keras's walking order."""
    if isinstance(layer, Sequential) or (isinstance(layer, Model) and layer._graph is not None):
        return [("layers", layer.layers)]
    children = []
    # Keras walks attributes by name, private ones last.
    for name in sorted(layer._modules, key=lambda n: f"~{n}" if n.startswith("_") else n):
        child = layer._modules[name]
        if isinstance(child, Layer):
            children.append((name, child))
        elif _is_layer_container(child):
            children.append((name, [c for c in child.children() if isinstance(c, Layer)]))
    return children


def _own_variables(layer):
    """The weights a layer holds itself (not through sub-layers): trainable first, as Keras."""
    own = list(layer._own_weights)
    variables = [w for w in own if getattr(w, "_declared_trainable", True)]
    variables += [w for w in own if not getattr(w, "_declared_trainable", True)]
    structural = isinstance(layer, Sequential) or (isinstance(layer, Model) and layer._graph is not None)
    for name, child in layer._modules.items():
        if isinstance(child, Layer) or _is_layer_container(child) or (structural and name == "layers"):
            continue
        variables += list(child.parameters())
        variables += [b for b in child.buffers() if b.is_floating_point()]
    seen, unique = set(), []
    for variable in variables:
        if id(variable) not in seen:
            seen.add(id(variable))
            unique.append(variable)
    return unique


def layer_entries(model):
    """``[(path, layer, variables)]`` for the model and every nested layer, each once."""
    entries, visited = [], set()

    def visit(layer, path):
        if id(layer) in visited:
            return
        visited.add(id(layer))
        entries.append((path, layer, _own_variables(layer)))
        for attribute, child in _children(layer):
            base = f"{path}/{attribute}" if path else attribute
            if isinstance(child, list):
                used = {}
                for sub in child:
                    visit(sub, f"{base}/{_unique(_class_path_name(sub), used)}")
            else:
                visit(child, base)

    visit(model, "")
    return entries


def _unique(name, used):
    count = used.get(name, 0)
    used[name] = count + 1
    return name if count == 0 else f"{name}_{count}"


def _to_keras(variable):
    tensor = variable.detach()
    convert = getattr(variable, "_to_keras", None)
    if convert is not None:
        tensor = convert(tensor)
    return tensor.cpu().contiguous().clone()


def _keras_shape(variable):
    convert = getattr(variable, "_to_keras", None)
    if convert is None:
        return tuple(variable.shape)
    return tuple(convert(torch.empty(variable.shape, device="meta")).shape)


def _key(path, index):
    return f"{path}/vars/{index}" if path else f"vars/{index}"


def weights_to_bytes(model, extra_metadata=None):
    """The model's weights as safetensors bytes, keyed ``<layer path>/vars/<i>``."""
    tensors, layers = {}, {}
    for path, layer, variables in layer_entries(model):
        if not variables:
            continue
        for index, variable in enumerate(variables):
            tensors[_key(path, index)] = _to_keras(variable)
        layers[path] = {
            "name": layer.name,
            "class_name": type(layer).__name__,
            "weights": [getattr(v, "name", None) for v in variables],
        }
    metadata = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "layers": json.dumps(layers)}
    metadata.update(extra_metadata or {})
    return safetensors_torch().save(tensors, metadata=metadata)


def read_safetensors(data, source):
    """``(tensors, metadata)`` from safetensors bytes; a clear error for anything else."""
    load = safetensors_torch().load
    try:
        (header_size,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + header_size])
        tensors = load(data)
    except Exception as error:  # noqa: BLE001 - any parse failure means a bad file
        raise ValueError(
            f"{source} is not a readable safetensors file (truncated, corrupted or another format): {error}."
        ) from None
    metadata = header.get("__metadata__") or {}
    if metadata.get("format") != FORMAT_NAME:
        raise ValueError(
            f"{source} is a safetensors file but not an ember weights file: its metadata 'format' is "
            f"{metadata.get('format')!r}, expected {FORMAT_NAME!r}."
        )
    if metadata.get("format_version") != str(FORMAT_VERSION):
        raise ValueError(
            f"{source} has weights format version {metadata.get('format_version')!r}; this ember reads "
            f"version {FORMAT_VERSION}. Upgrade ember to load it."
        )
    return tensors, metadata


def _read_h5(path):
    try:
        import h5py
    except ImportError:
        raise ImportError(f"Loading the Keras weights file {path!r} needs h5py: pip install h5py") from None
    arrays = {}
    try:
        with h5py.File(path, "r") as handle:
            handle.visititems(
                lambda name, item: arrays.__setitem__(name, np.asarray(item)) if isinstance(item, h5py.Dataset) else None
            )
    except OSError as error:
        raise ValueError(f"{path!r} is not a readable HDF5 weights file (truncated or corrupted): {error}.") from None
    return {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in arrays.items()}


def assign_weights(model, tensors, source, skip_mismatch=False, file_layers=None):
    """Check every array against the model's structure, then assign them all (or none).

    Args:
        model: The model to load into.
        tensors: ``{"<layer path>/vars/<i>": tensor}`` in Keras's layouts.
        source: The file, for messages.
        skip_mismatch: Skip mismatching layers with a warning instead of raising.
        file_layers: ``{path: {"name": ...}}`` recorded in the file, for messages.
    """
    file_layers = file_layers or {}
    groups = {}
    for key, value in tensors.items():
        match = _KEY.match(key)
        if match is None:
            raise ValueError(f"{source} holds an array under {key!r}, which is not a '<layer path>/vars/<i>' key.")
        groups.setdefault(match.group(1) or "", {})[int(match.group(2))] = value
    problems, plan = [], []
    for path, layer, variables in layer_entries(model):
        stored = groups.pop(path, {})
        if not variables and not stored:
            continue
        expected = [_keras_shape(v) for v in variables]
        got = [tuple(stored[i].shape) for i in sorted(stored)]
        if expected != got or sorted(stored) != list(range(len(stored))):
            where = f"layer {layer.name!r} ({type(layer).__name__}, path {path or '<model>'!r})"
            note = "" if layer.built else " (the layer is not built yet: call the model on data first)"
            problems.append(
                f"  - {where}: the model has {len(expected)} weight(s) of shapes {expected}{note}, the file "
                f"has {len(got)} of shapes {got}"
            )
            continue
        plan.extend(zip(variables, (stored[i] for i in range(len(stored)))))
    for path, stored in groups.items():
        name = file_layers.get(path, {}).get("name")
        shapes = [tuple(stored[i].shape) for i in sorted(stored)]
        problems.append(
            f"  - path {path or '<model>'!r}{f' (layer {name!r} when saved)' if name else ''}: the file has "
            f"{len(shapes)} weight(s) of shapes {shapes}, the model has no layer there"
        )
    if problems:
        details = "\n".join(problems)
        if not skip_mismatch:
            raise ValueError(MSG_MISMATCH.format(source=source, count=len(problems), details=details))
        warnings.warn(MSG_SKIPPED.format(source=source, count=len(problems), details=details), UserWarning, stacklevel=3)
    with torch.no_grad():
        for variable, value in plan:
            value = value.to(device=variable.device, dtype=variable.dtype)
            convert = getattr(variable, "_from_keras", None)
            variable.copy_(convert(value) if convert is not None else value)


def save_weights(model, filepath, overwrite=True):
    """Write the model's weights to ``filepath`` (``.weights.safetensors``), atomically."""
    path = os.fspath(filepath)
    if not path.endswith(WEIGHTS_SUFFIX):
        raise ValueError(MSG_SAVE_SUFFIX.format(path))
    check_overwrite(path, overwrite)
    from ember import __version__

    data = weights_to_bytes(model, {"ember_version": __version__})
    atomic_write(path, lambda handle: handle.write(data))


def load_weights(model, filepath, skip_mismatch=False):
    """Load weights saved by ``save_weights``, Keras's ``save_weights`` or ``model.save``."""
    path = os.fspath(filepath)
    if path.endswith(".ember"):
        from ember.saving.archive import read_archive

        _, members = read_archive(path)
        tensors, metadata = read_safetensors(members["model.weights.safetensors"], f"{path!r}")
    elif path.endswith(WEIGHTS_SUFFIX):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No weights file at filepath={path!r}.")
        with open(path, "rb") as handle:
            tensors, metadata = read_safetensors(handle.read(), f"{path!r}")
    elif path.endswith(KERAS_WEIGHTS_SUFFIX):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No weights file at filepath={path!r}.")
        tensors, metadata = _read_h5(path), {}
    else:
        raise ValueError(MSG_LOAD_SUFFIX.format(path))
    file_layers = json.loads(metadata.get("layers", "{}"))
    assign_weights(model, tensors, f"{path!r}", skip_mismatch=skip_mismatch, file_layers=file_layers)

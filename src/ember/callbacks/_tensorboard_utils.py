"""Pure helpers of the `TensorBoard` callback: argument parsing, weight paths, weight images."""

import numpy as np
import torch

from ember.layers.layer import Layer

__all__ = [
    "check_frequency",
    "parse_profile_batch",
    "parse_update_freq",
    "scalar_items",
    "weight_images",
    "weights_by_path",
]

MSG_PROFILE_BATCH = (
    "profile_batch must be a non-negative integer, a pair (start, stop) of positive integers "
    "with start <= stop, or a string 'start,stop', e.g. profile_batch=(2, 4); got {value!r}."
)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_frequency(value, name):
    if not _is_int(value) or value < 0:
        raise ValueError(f"`{name}` must be an integer >= 0 (0 turns it off), got {name}={value!r}.")
    return int(value)


def parse_update_freq(update_freq):
    """`"epoch"`, or the number of batches between batch-level writes."""
    if update_freq == "epoch":
        return "epoch"
    if update_freq == "batch":
        return 1
    if not _is_int(update_freq) or update_freq < 1:
        raise ValueError(
            "`update_freq` must be 'epoch', 'batch' or an integer >= 1 (write every N batches), "
            f"got update_freq={update_freq!r}."
        )
    return int(update_freq)


def parse_profile_batch(profile_batch):
    """`(start, stop)`, the 1-based range of training batches to profile; `(0, 0)` is off.

    Example:
        >>> parse_profile_batch(3), parse_profile_batch((2, 4)), parse_profile_batch("2,4")
        ((3, 3), (2, 4), (2, 4))
    """
    value = profile_batch
    if isinstance(value, str):
        try:
            value = [int(part) for part in value.split(",")]
        except ValueError:
            raise ValueError(MSG_PROFILE_BATCH.format(value=profile_batch)) from None
        value = value[0] if len(value) == 1 else value
    if _is_int(value) and value >= 0:
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        start, stop = int(value[0]), int(value[1])
        if 0 < start <= stop:
            return start, stop
    raise ValueError(MSG_PROFILE_BATCH.format(value=profile_batch))


def _layer_name(module):
    name = getattr(module, "name", None)
    return name if isinstance(name, str) else type(module).__name__.lower()


def _names_its_sublayers(layer):
    """Whether `layer`'s name prefixes the paths of the layers it contains.

    In Keras a sub-layer's weights are created inside its container's name
    scope (Sequential and subclassed models, custom layers), except in a
    functional model, whose layers are built before the model exists.
    """
    from ember.models import Model, Sequential

    return not (isinstance(layer, Model) and layer._graph is not None and not isinstance(layer, Sequential))


def _collect_paths(module, scope, paths):
    """Maps `id(weight)` to its Keras path for every weight under `module`.

    `scope` holds the names that prefix `module`'s own weights: those of the
    enclosing containers and, for a layer, its own name.
    """
    for attribute, weight in module.named_parameters(recurse=False):
        paths.setdefault(id(weight), "/".join([*scope, getattr(weight, "name", None) or attribute]))
    for attribute, buffer in module.named_buffers(recurse=False):
        paths.setdefault(id(buffer), "/".join([*scope, attribute]))
    inner = scope
    if isinstance(module, Layer) and not _names_its_sublayers(module):
        inner = scope[:-1]
    for attribute, child in module.named_children():
        if isinstance(child, Layer):
            _collect_paths(child, [*inner, child.name], paths)
        else:  # a container or plain torch module: layers inside it keep their own names
            _collect_paths(child, [*scope, attribute] if not isinstance(module, Layer) else inner, paths)


def weights_by_path(model):
    """`(path, weight)` for every weight of every layer in `model.layers`, as Keras names them.

    A path joins the names of the enclosing layers and the weight's name:
    `"dense/kernel"` in a functional model, `"sequential/dense/kernel"` in a
    Sequential model named `sequential`, with `:` replaced by `_`.

    Example:
        >>> import ember
        >>> model = ember.Sequential([ember.Input(shape=(2,)), ember.layers.Dense(1, name="out")], name="net")
        >>> [path for path, weight in weights_by_path(model)]
        ['net/out/kernel', 'net/out/bias']
    """
    paths = {}
    root = [model.name] if isinstance(model, Layer) and _names_its_sublayers(model) else []
    for attribute, child in model.named_children():
        if isinstance(child, Layer):
            _collect_paths(child, [*root, child.name], paths)
        else:
            _collect_paths(child, root, paths)
    out = []
    for layer in model.layers:
        name = _layer_name(layer)
        if isinstance(layer, Layer):
            weights = layer.weights
        else:
            weights = [*layer.parameters(), *(b for b in layer.buffers() if b.is_floating_point())]
        for index, weight in enumerate(weights):
            path = paths.get(id(weight), f"{name}/weight_{index}")
            out.append((path.replace(":", "_"), weight))
    return out


def weight_images(array):
    """A weight as a `(N, H, W, C)` uint8 image batch, or `None` when it has no image form.

    Keras's rules: singleton axes are dropped; a vector becomes one column
    image; a matrix one image, transposed to be wider than tall; a 3-D kernel
    `(width, in, out)` one image per output channel. A 4-D kernel is shown
    only when its last axis has 1, 3 or 4 channels. Floats map to pixels as
    TensorFlow's image summaries do: `value * 255.5`, clipped to [0, 255].
    """
    image = np.squeeze(np.asarray(array, dtype=np.float32))
    if image.ndim == 1:
        image = image.reshape(1, image.shape[0], 1, 1)
    elif image.ndim == 2:
        if image.shape[0] > image.shape[1]:
            image = image.T
        image = image.reshape(1, image.shape[0], image.shape[1], 1)
    elif image.ndim == 3:
        image = np.transpose(image, (2, 0, 1))[..., np.newaxis]
    if image.ndim != 4 or image.shape[-1] not in (1, 3, 4):
        return None
    return np.clip(image * 255.5, 0, 255).astype(np.uint8)


def scalar_items(prefix, logs):
    """`(tag, float)` pairs; a metric with several values gets one tag per value."""
    for name, value in logs.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        value = np.asarray(value, dtype=np.float64)
        if value.size == 1:
            yield f"{prefix}{name}", float(value.reshape(()))
        else:
            for index, item in enumerate(value.reshape(-1)):
                yield f"{prefix}{name}/{index}", float(item)

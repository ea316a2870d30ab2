"""One entry point from user data to a batch source: ``adapter_for``.

Every adapter has ``num_batches`` (per pass; ``None`` if unknown),
``restartable`` (a new pass per ``iter()``), ``yields_device_tensors``,
``__iter__``, ``on_epoch_end()`` and ``close()``; ``EpochIterator`` turns any
of them into epochs of device batches.
"""

import math
import warnings

import torch

from ember.backend.strings import to_string_array
from ember.data.array_adapter import ArrayAdapter, is_array
from ember.data.iterable_adapter import IterableAdapter, is_infinite_iterator
from ember.data.tf_adapter import TFDatasetAdapter, is_tf_dataset
from ember.data.torch_adapter import TorchDataAdapter, is_torch_data
from ember.tree import flatten, map_structure

__all__ = ["adapter_for", "class_weight_batch_fn", "is_array_data", "split_validation"]


def _is_pandas(value):
    module = type(value).__module__ or ""
    return module.startswith("pandas") and hasattr(value, "to_numpy")


def _pandas_to_arrays(value, input_names):
    """A DataFrame becomes a dict by column name when the model's inputs are named after columns."""
    if hasattr(value, "columns") and input_names and len(input_names) > 1:
        if all(name in value.columns for name in input_names):
            return {name: value[name].to_numpy() for name in input_names}
    return value.to_numpy()


def _standardize_arrays(structure, input_names=None):
    return map_structure(lambda v: _pandas_to_arrays(v, input_names) if _is_pandas(v) else v, structure)


def is_array_data(structure):
    leaves = flatten(structure)
    return bool(leaves) and all(is_array(leaf) or _is_pandas(leaf) for leaf in leaves)


def _is_sequence(value):
    from ember.utils.sequence import Sequence

    return isinstance(value, Sequence)


def _reject_for_dataset(kind, y, sample_weight, batch_size, validation_split=0.0):
    if y is not None:
        raise ValueError(
            f"`y` must not be given when `x` is a {kind}: the {kind} itself yields (x, y) or "
            "(x, y, sample_weight) batches."
        )
    if sample_weight is not None:
        raise ValueError(
            f"`sample_weight` must not be given when `x` is a {kind}: yield (x, y, sample_weight) batches instead."
        )
    if batch_size is not None:
        raise ValueError(
            f"Do not pass `batch_size` when `x` is a {kind}: it already yields batches (got batch_size={batch_size})."
        )


def adapter_for(x, y=None, sample_weight=None, batch_size=None, shuffle=False, class_weight=None,
                argument="x", input_names=None, workers=None, use_multiprocessing=None, max_queue_size=None,
                shuffle_explicit=False):
    """Return a batch source for any supported input kind (see the module docstring)."""
    if x is None:
        raise ValueError(f"`{argument}` is required; got None.")
    if isinstance(x, list) and x and all(isinstance(v, str) for v in x):
        x = to_string_array(x, argument)  # a list of texts is one array of strings
    if is_array_data(x):
        if y is not None and not is_array_data(y):
            raise TypeError(
                f"When `{argument}` is an array, `y` must be an array too (or a list/dict of arrays), "
                f"got {type(y).__name__}."
            )
        return ArrayAdapter(
            _standardize_arrays(x, input_names), _standardize_arrays(y), _standardize_arrays(sample_weight),
            batch_size=32 if batch_size is None else batch_size, shuffle=shuffle, class_weight=class_weight,
        )
    if isinstance(x, (list, tuple, dict)) and flatten(x) and any(is_array(leaf) for leaf in flatten(x)):
        bad = [type(leaf).__name__ for leaf in flatten(x) if not is_array(leaf)]
        raise TypeError(f"`{argument}` mixes arrays with other values ({bad}); every input must be an array or tensor.")
    if _is_sequence(x):
        from ember.data.sequence_adapter import SequenceAdapter

        _reject_for_dataset("Sequence", y, sample_weight, batch_size)
        return SequenceAdapter(x, shuffle=bool(shuffle), workers=workers, use_multiprocessing=use_multiprocessing,
                               max_queue_size=max_queue_size)
    if is_torch_data(x):
        if isinstance(x, torch.utils.data.DataLoader):
            _reject_for_dataset("DataLoader", y, sample_weight, batch_size)
            _warn_shuffle_ignored(shuffle_explicit and shuffle, "DataLoader", "DataLoader(..., shuffle=True)")
            return TorchDataAdapter(x)
        if y is not None or sample_weight is not None:
            _reject_for_dataset("torch Dataset", y, sample_weight, None)
        if isinstance(x, torch.utils.data.IterableDataset):
            _warn_shuffle_ignored(shuffle_explicit and shuffle, "iterable-style Dataset", "shuffling inside the dataset")
        return TorchDataAdapter(x, batch_size=batch_size, shuffle=shuffle)
    if is_tf_dataset(x):
        _reject_for_dataset("tf.data.Dataset", y, sample_weight, batch_size)
        return TFDatasetAdapter(x)
    if hasattr(x, "__iter__") and not isinstance(x, (str, bytes, dict, list, tuple)):
        _reject_for_dataset("generator or iterable", y, sample_weight, batch_size)
        _warn_shuffle_ignored(shuffle_explicit and shuffle, "generator or iterable", "shuffling in the generator")
        adapter = IterableAdapter(x)
        adapter.infinite = is_infinite_iterator(x)
        return adapter
    raise TypeError(
        f"Unsupported type for `{argument}`: {type(x).__name__}. Pass NumPy arrays, torch tensors or pandas "
        "objects (or lists/dicts of them), a generator or iterable of batches, an ember.utils.Sequence, a "
        "torch Dataset or DataLoader, or a tf.data.Dataset."
    )


def _warn_shuffle_ignored(condition, kind, alternative):
    if condition:
        warnings.warn(
            f"`shuffle=True` is ignored for a {kind}: it yields batches in its own order. Use {alternative} instead.",
            UserWarning,
            stacklevel=4,
        )


def class_weight_batch_fn(class_weight):
    """For batch sources: a function turning ``class_weight`` into each batch's sample weights."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict {{class index: weight}}, got {type(class_weight).__name__}.")
    size = max(int(k) for k in class_weight) + 1
    table = torch.ones(size, dtype=torch.float32)
    for key, weight in class_weight.items():
        table[int(key)] = float(weight)
    cache = {}

    def apply(batch):
        if not isinstance(batch, tuple) or len(batch) < 2:
            raise ValueError("`class_weight` needs batches with targets: (x, y) or (x, y, sample_weight).")
        x, y = batch[0], batch[1]
        leaves = flatten(y)
        if len(leaves) != 1:
            raise ValueError("`class_weight` is only supported for models with a single output; use `sample_weight`.")
        labels = leaves[0]
        if labels.ndim == 2 and labels.shape[1] > 1:
            labels = labels.argmax(dim=1)
        labels = labels.reshape(labels.shape[0], -1)[:, 0].long()
        device_table = cache.get(labels.device)
        if device_table is None:
            device_table = cache[labels.device] = table.to(labels.device)
        weights = device_table[labels]
        if len(batch) == 3 and batch[2] is not None:
            weights = weights * batch[2]
        return (x, y, weights)

    return apply


def split_validation(x, y, sample_weight, validation_split):
    """Split off the LAST ``validation_split`` fraction of the arrays, before any shuffling."""
    if not isinstance(validation_split, (int, float)) or not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be a float in (0, 1) (e.g. 0.2 for 20% of the data), got "
            f"{validation_split!r}."
        )
    if not is_array_data(x) or (y is not None and not is_array_data(y)):
        raise ValueError(
            "`validation_split` is only supported for NumPy arrays, torch tensors and pandas objects, "
            f"because it needs to index samples; got x of type {type(x).__name__}. Pass `validation_data` "
            "instead."
        )
    x, y, sample_weight = (_standardize_arrays(s) if s is not None else None for s in (x, y, sample_weight))
    n = int(flatten(x)[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"`validation_split={validation_split}` leaves no samples for "
            f"{'training' if split_at == 0 else 'validation'} with only {n} samples."
        )

    def head(a):
        return None if a is None else a[:split_at]

    def tail(a):
        return None if a is None else a[split_at:]

    train = tuple(map_structure(head, s) if s is not None else None for s in (x, y, sample_weight))
    val = tuple(map_structure(tail, s) if s is not None else None for s in (x, y, sample_weight))
    return train, val



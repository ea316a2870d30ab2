"""Batches from in-memory arrays (NumPy arrays or torch tensors, nested in lists/dicts).

Arrays are converted to tensors once; a batch is a slice (in order) or an
index-gather (shuffled) of every tensor, so no per-sample Python runs.
"""

import math

import numpy as np
import torch

from ember.backend.strings import is_string_array, to_string_array
from ember.data.utils import pack_x_y_sample_weight
from ember.tree import flatten, map_structure, pack_sequence_as

__all__ = ["ArrayAdapter", "is_array", "to_tensor"]


def as_writable(array):
    """A contiguous array torch can wrap without copying again (read-only arrays are copied)."""
    array = np.ascontiguousarray(array)
    return array if array.flags.writeable else array.copy()


def is_array(value):
    return isinstance(value, (np.ndarray, torch.Tensor)) or (
        hasattr(value, "__array__") and hasattr(value, "shape") and not isinstance(value, type)
    )


def to_tensor(value, name):
    """Convert one array to a tensor: floats become float32 (Keras's floatx), ints stay ints."""
    if isinstance(value, torch.Tensor):
        tensor = value
    else:
        array = np.asarray(value)
        if name == "x" and _holds_strings(array):
            return to_string_array(array, name)  # strings stay NumPy: sliced like tensors, never on a device
        if array.dtype == object:
            raise TypeError(f"`{name}` holds Python objects (dtype=object); expected numeric arrays.")
        if array.dtype.kind in "US":
            raise TypeError(f"`{name}` holds strings; expected numeric arrays.")
        tensor = torch.from_numpy(as_writable(array))
    if tensor.is_floating_point() and tensor.dtype is torch.float64:
        tensor = tensor.to(torch.get_default_dtype())
    if tensor.ndim == 0:
        raise ValueError(f"`{name}` must have a batch dimension, got a scalar.")
    return tensor


def _holds_strings(array):
    return is_string_array(array) and (array.dtype.kind != "O" or array.size == 0 or isinstance(array.flat[0], str))


def _take(value, index):
    """Gather rows ``index`` (an int64 tensor) of a tensor or of a NumPy array of strings."""
    if isinstance(value, np.ndarray):
        return value[index.cpu().numpy()]
    return value.index_select(0, index)


def _class_weights_to_sample_weights(class_weight, y):
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict {{class index: weight}}, got {type(class_weight).__name__}.")
    leaves = flatten(y)
    if len(leaves) != 1:
        raise ValueError("`class_weight` is only supported for models with a single output; use `sample_weight`.")
    labels = leaves[0]
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(dim=1)
    labels = labels.reshape(labels.shape[0], -1)[:, 0].to(torch.int64)
    for key in class_weight:
        if not isinstance(key, (int, np.integer)) or key < 0:
            raise ValueError(f"`class_weight` keys must be non-negative class indices, got {key!r}.")
    size = max(max(class_weight) + 1, int(labels.max()) + 1 if labels.numel() else 0)
    table = torch.ones(size, dtype=torch.float32)
    for key, weight in class_weight.items():
        table[int(key)] = float(weight)
    return table[labels]


def _leaf_lengths(structure, path):
    """``[("x['a']", 100), ("x['b']", 90)]``: each array's path and sample count."""
    if isinstance(structure, dict):
        return [pair for k, v in structure.items() for pair in _leaf_lengths(v, f"{path}[{k!r}]")]
    if isinstance(structure, (list, tuple)):
        return [pair for i, v in enumerate(structure) for pair in _leaf_lengths(v, f"{path}[{i}]")]
    return [(path, int(structure.shape[0]))]


class ArrayAdapter:
    """One pass over the arrays in batches of ``batch_size`` per ``iter()``.

    Args:
        x, y, sample_weight: arrays/tensors or lists/dicts of them, same length.
        batch_size: Samples per batch (the last batch may be smaller).
        shuffle: ``True`` (a new permutation per pass), ``False``, or ``"batch"``
            (shuffle batch-sized chunks, then within each chunk).
        class_weight: Optional ``{class: weight}`` turned into per-sample weights.

    Attributes:
        order: The sample order of the latest pass (an int64 tensor), ``None``
            when unshuffled. With :meth:`resume`, a backup restores it, so an
            interrupted pass continues in the same order.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, class_weight=None):
        self.x = map_structure(lambda a: to_tensor(a, "x"), x)
        self.y = None if y is None else map_structure(lambda a: to_tensor(a, "y"), y)
        self.sample_weight = None
        if sample_weight is not None:
            self.sample_weight = map_structure(lambda a: to_tensor(a, "sample_weight").to(torch.float32), sample_weight)
        if class_weight is not None:
            if self.y is None:
                raise ValueError("`class_weight` needs targets `y`.")
            weights = _class_weights_to_sample_weights(class_weight, self.y)
            self.sample_weight = weights if self.sample_weight is None else self.sample_weight * weights
        self.num_samples = self._check_lengths()
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"`shuffle` must be True, False or 'batch', got {shuffle!r}.")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_batches = math.ceil(self.num_samples / batch_size)
        self.restartable = True
        self.yields_device_tensors = True
        self._structure = (self.x, self.y, self.sample_weight)
        self._flat = [t for t in flatten(self._structure) if t is not None]
        self.order = None  # the current pass's sample order (None: in order), kept for backups
        self._resume_at = None

    def _check_lengths(self):
        lengths = []
        for name, struct in (("x", self.x), ("y", self.y), ("sample_weight", self.sample_weight)):
            if struct is not None:
                lengths.extend(_leaf_lengths(struct, name))
        distinct = {n for _, n in lengths}
        if len(distinct) > 1:
            detail = ", ".join(f"{path}: {n}" for path, n in lengths)
            raise ValueError(
                f"Data cardinality is ambiguous: all arrays must have the same number of samples "
                f"(first dimension). Got {detail}. Make sure x, y and sample_weight line up."
            )
        count = distinct.pop()
        if count == 0:
            raise ValueError("Got empty arrays (0 samples); fit/evaluate/predict need at least one sample.")
        return count

    def to(self, device):
        """Move every array to ``device`` once (pinned, non-blocking for CUDA)."""
        device = torch.device(device)
        if all(t.device == device for t in self._flat if isinstance(t, torch.Tensor)):
            return self

        def move(t):
            if t is None or isinstance(t, np.ndarray):
                return t
            if device.type == "cuda" and t.device.type == "cpu":
                return t.pin_memory().to(device, non_blocking=True)
            return t.to(device)

        self.x, self.y, self.sample_weight = map_structure(move, (self.x, self.y, self.sample_weight))
        self._structure = (self.x, self.y, self.sample_weight)
        self._flat = [t for t in flatten(self._structure) if t is not None]
        return self

    def _device(self):
        return next((t.device for t in self._flat if isinstance(t, torch.Tensor)), torch.device("cpu"))

    def _order(self):
        if self.shuffle is True:
            return torch.randperm(self.num_samples, device=self._device())
        if self.shuffle == "batch":
            # Whole batch-sized chunks in a random order, each shuffled inside; a last partial
            # chunk stays last so every batch is exactly one chunk (Keras's "batch" mode).
            n, bs = self.num_samples, self.batch_size
            full = n // bs
            blocks = torch.arange(full * bs).reshape(full, bs)[torch.randperm(full)]
            blocks = blocks.gather(1, torch.argsort(torch.rand(full, bs), dim=1))
            tail = torch.arange(full * bs, n)[torch.randperm(n - full * bs)]
            return torch.cat([blocks.reshape(-1), tail]).to(self._device())
        return None

    def resume(self, order, start_batch):
        """Make the next pass use ``order`` and begin at batch ``start_batch`` (resuming a backup).

        Args:
            order: The interrupted pass's sample order (its ``order``), or
                ``None`` when it was unshuffled.
            start_batch: Batches of that pass already trained; they are skipped
                without being gathered.

        Raises:
            ValueError: when ``order`` does not fit these arrays or this
                ``shuffle`` setting, or ``start_batch`` is past the end.
        """
        if (order is None) != (self.shuffle is False):
            raise ValueError(
                f"Cannot resume: the backup was made with {'shuffle=False' if order is None else 'shuffled data'}, "
                f"but fit now has shuffle={self.shuffle!r}. Pass the same fit arguments as the interrupted run, or "
                "delete the backup to start over."
            )
        if order is not None and tuple(order.shape) != (self.num_samples,):
            raise ValueError(
                f"Cannot resume: the backup's sample order covers {order.numel()} samples, but fit now has "
                f"{self.num_samples}. Train on the same data as the interrupted run, or delete the backup."
            )
        if not 0 <= start_batch <= self.num_batches:
            raise ValueError(
                f"Cannot resume at batch {start_batch}: the data has {self.num_batches} batches of "
                f"{self.batch_size}. Train on the same data and batch_size, or delete the backup."
            )
        device = self._device()
        self._resume_at = (None if order is None else order.to(device=device, dtype=torch.int64), start_batch)

    def __len__(self):
        return self.num_batches

    def on_epoch_end(self):
        pass

    def close(self):
        pass

    def __iter__(self):
        if self._resume_at is None:
            order, first = self._order(), 0
        else:
            (order, first), self._resume_at = self._resume_at, None
        self.order = order
        bs, n = self.batch_size, self.num_samples
        flat = flatten(self._structure)
        # Plain (x, y, sample_weight) tensors need no re-nesting of the gathered pieces.
        simple = all(t is None or isinstance(t, torch.Tensor) for t in self._structure)
        for start in range(first * bs, n, bs):
            if order is None:
                pieces = [None if t is None else t[start : start + bs] for t in flat]
            else:
                index = order[start : start + bs]
                pieces = [None if t is None else _take(t, index) for t in flat]
            x, y, sw = pieces if simple else pack_sequence_as(self._structure, pieces)
            yield pack_x_y_sample_weight(x, y, sw)

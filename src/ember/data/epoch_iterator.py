"""``EpochIterator``: one adapter, the epoch semantics, and batches as tensors on the device.

* A restartable source (arrays, datasets, DataLoaders, Sequences) starts a
  fresh pass every epoch, unless ``continue_across_epochs`` (training with
  ``steps_per_epoch``): then one pass is shared by all epochs.
* A generator or iterator is never restarted: every epoch continues it.
* ``steps`` caps the batches of an epoch; no batch is ever read ahead past the
  cap, so a continued source loses nothing between epochs.

Batches from non-array sources are converted leaf by leaf (NumPy and pandas to
tensors, float64 to float32) and checked to keep the first batch's structure
and dtypes. On CUDA they are pinned, copied without blocking, and the next
batch is copied while the current one trains.
"""

import numpy as np
import torch

from ember.data.array_adapter import as_writable
from ember.tree import flatten, map_structure

__all__ = ["EpochIterator", "convert_batch"]


def _to_tensor(value):
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, np.ndarray):
        if value.dtype == object or value.dtype.kind in "US":
            raise TypeError(f"A batch contains a non-numeric array of dtype {value.dtype}; expected numbers.")
        tensor = torch.from_numpy(as_writable(value))
    elif hasattr(value, "to_numpy"):  # pandas DataFrame / Series
        tensor = torch.from_numpy(as_writable(value.to_numpy()))
    elif isinstance(value, (int, float, bool, np.number)):
        tensor = torch.as_tensor(value)
    elif value is None:
        return None
    else:
        raise TypeError(
            f"A batch contains a {type(value).__name__}; batches must hold NumPy arrays or torch tensors "
            "(nested in tuples, lists or dicts)."
        )
    if tensor.dtype is torch.float64:
        tensor = tensor.to(torch.get_default_dtype())
    return tensor


def _signature(batch):
    structure = map_structure(lambda _: 0, batch)
    leaves = tuple((str(t.dtype), t.ndim) if isinstance(t, torch.Tensor) else None for t in flatten(batch))
    return structure, leaves


def convert_batch(batch, device):
    """A batch (tuple/list/dict of arrays) as tensors on ``device``."""
    non_blocking = device.type == "cuda"

    def move(value):
        tensor = _to_tensor(value)
        if tensor is None or tensor.device == device:
            return tensor
        if non_blocking and tensor.device.type == "cpu":
            tensor = tensor.pin_memory()
        return tensor.to(device, non_blocking=non_blocking)

    if isinstance(batch, list):
        # A bare list is one multi-input `x`, not an (x, y) pair.
        batch = (batch,)
    return map_structure(move, batch)


class EpochIterator:
    """Hands out one iterator of device batches per epoch, honouring the restart rules."""

    def __init__(self, adapter, device, steps=None, continue_across_epochs=False, class_weight_fn=None):
        self.adapter = adapter
        self.device = torch.device(device)
        self.steps = steps
        self.persistent = continue_across_epochs or not adapter.restartable
        self.class_weight_fn = class_weight_fn
        self._source = None
        self._first_signature = None
        self._batch_index = 0
        self.exhausted = False

    @property
    def num_batches(self):
        return self.adapter.num_batches

    def _next_source(self):
        if not self.persistent:
            return iter(self.adapter)
        if self._source is None:
            self._source = iter(self.adapter)
        return self._source

    def _prepare(self, batch):
        if self.adapter.yields_device_tensors:
            return batch
        batch = convert_batch(batch, self.device)
        signature = _signature(batch)
        if self._first_signature is None:
            self._first_signature = signature
        elif signature != self._first_signature:
            raise ValueError(
                f"Batch {self._batch_index} has a different structure or dtypes than the first batch: "
                f"first {self._describe(self._first_signature)}, now {self._describe(signature)}. A data "
                "source must yield the same structure (x, y[, sample_weight]) with the same dtypes every time."
            )
        self._batch_index += 1
        if self.class_weight_fn is not None:
            batch = self.class_weight_fn(batch)
        return batch

    @staticmethod
    def _describe(signature):
        structure, leaves = signature
        return f"{structure!r} with leaves {list(leaves)}"

    def epoch(self, steps=None):
        """Iterator over this epoch's batches (at most ``steps``, default: the iterator's ``steps``)."""
        limit = self.steps if steps is None else steps
        if not self.persistent:
            self.exhausted = False
        source = self._next_source()
        if self.device.type == "cuda" and not self.adapter.yields_device_tensors:
            return self._prefetching(source, limit)
        return self._plain(source, limit)

    def _plain(self, source, limit):
        count = 0
        while limit is None or count < limit:
            try:
                batch = next(source)
            except StopIteration:
                self.exhausted = True
                return
            count += 1
            yield self._prepare(batch)

    def _prefetching(self, source, limit):
        # Copy batch i+1 to the GPU while batch i trains, never reading past `limit`.
        batches = self._plain(source, limit)
        try:
            current = next(batches)
        except StopIteration:
            return
        for upcoming in batches:
            yield current
            current = upcoming
        yield current

    def on_epoch_end(self):
        self.adapter.on_epoch_end()

    def close(self):
        self.adapter.close()

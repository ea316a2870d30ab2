"""``EpochIterator``: one adapter, the epoch semantics, and batches as tensors on the device.

* A restartable source (arrays, datasets, DataLoaders, Sequences) starts a
  fresh pass every epoch, unless ``continue_across_epochs`` (training with
  ``steps_per_epoch``): then one pass is shared by all epochs.
* A generator or iterator is never restarted: every epoch continues it.
* ``steps`` caps the batches of an epoch; no batch is ever read ahead past the
  cap, so a continued source loses nothing between epochs.
* Resuming a backup (``BackupAndRestore``): :meth:`EpochIterator.position`
  says where training stands in the current pass, and ``epoch(resume_at=...)``
  starts a pass there. Arrays and Sequences jump to it in the saved order
  without loading the skipped batches; any other source is read from its
  start and the batches already trained are discarded.

Batches from non-array sources are converted leaf by leaf (NumPy and pandas to
tensors, float64 to float32) and checked to keep the first batch's structure
and dtypes. On CUDA they are pinned, copied without blocking, and the next
batch is copied while the current one trains.
"""

import numpy as np
import torch

from ember.backend.strings import to_string_array
from ember.data.array_adapter import _holds_strings, as_writable
from ember.tree import flatten, map_structure

__all__ = ["EpochIterator", "convert_batch"]


def _to_tensor(value):
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, np.ndarray):
        if _holds_strings(value):
            return to_string_array(value)  # strings stay NumPy arrays on the host
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
        if tensor is None or isinstance(tensor, np.ndarray) or tensor.device == device:
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
        self._pass_start = 0  # batches of the current pass handed out before this epoch
        self._epoch_batches = 0  # batches read in the latest epoch (set when it stops)

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

    def epoch(self, steps=None, resume_at=None):
        """Iterator over this epoch's batches (at most ``steps``, default: the iterator's ``steps``).

        Args:
            steps: Cap on the batches of this epoch.
            resume_at: ``(batch, position, order)`` to continue an interrupted
                epoch: ``batch`` of its batches were trained, the pass stood at
                ``position`` with the adapter's ``order`` (see :meth:`position`).
                A new pass starts there; the epoch then yields its remaining
                batches (up to ``steps`` in all).
        """
        limit = self.steps if steps is None else steps
        if not self.persistent:
            self.exhausted = False
            self._pass_start = 0
        elif self._source is not None:
            self._pass_start += self._epoch_batches
        first = 0
        if resume_at is not None:
            first, position, order = resume_at
            self._source = None
            source = self._resumed_source(position, order)
            self._pass_start = position - first
        else:
            source = self._next_source()
        if self.device.type == "cuda" and not self.adapter.yields_device_tensors:
            return self._prefetching(source, limit, first)
        return self._plain(source, limit, first)

    def position(self, batches_done=None):
        """``(position, order)``: where training stands in the data, for ``epoch(resume_at=...)``.

        Args:
            batches_done: Batches of the current epoch trained so far; ``None``
                once the epoch is over, to describe where the next one starts.

        Returns:
            The batches of the current pass already trained, and the pass's
            order (the adapter's ``order``: sample or batch indices, ``None``
            when unshuffled or unknown). A source restarted every epoch starts
            the next epoch at ``(0, None)``.
        """
        if batches_done is None:
            if not self.persistent:
                return 0, None
            batches_done = self._epoch_batches
        return self._pass_start + batches_done, getattr(self.adapter, "order", None)

    def _resumed_source(self, position, order):
        """A new pass standing at ``position``: jumped to, or read up to and the batches dropped."""
        if position == 0 and order is None:
            return self._next_source()
        if hasattr(self.adapter, "resume"):
            self.adapter.resume(order, position)
            return self._next_source()
        source = self._next_source()
        for skipped in range(position):
            try:
                next(source)
            except StopIteration:
                raise ValueError(
                    f"Cannot resume: the backup was made after {position} batches of the data, but it now has "
                    f"only {skipped}. Train on the same data as the interrupted run, or delete the backup."
                ) from None
        return source

    def _plain(self, source, limit, count=0):
        try:
            while limit is None or count < limit:
                try:
                    batch = next(source)
                except StopIteration:
                    self.exhausted = True
                    return
                count += 1
                yield self._prepare(batch)
        finally:
            self._epoch_batches = count

    def _prefetching(self, source, limit, first=0):
        # Copy batch i+1 to the GPU while batch i trains, never reading past `limit`.
        batches = self._plain(source, limit, first)
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

"""Each process's share of the data.

* Arrays: every global batch of ``batch_size`` samples (in the same order on
  every process: rank 0's shuffle is broadcast) is cut into ``world_size``
  contiguous parts, one per process. The parts of the last, partial batch
  differ by at most one sample; a process whose part is empty still takes the
  step (see :class:`ShardBatch`), so every process runs the same number of
  steps.
* ``Sequence``: batch indices are dealt round-robin (rank ``r`` takes the
  ``r``-th, ``r + world_size``-th, ...), in rank 0's order; like PyTorch's
  ``DistributedSampler``, the last round is filled up with batches from the
  start of the epoch so every process gets as many.
* A map-style torch ``Dataset`` (batched by ember): a ``DistributedSampler``
  with rank 0's seed, in batches of ``batch_size / world_size``.
* A ``DataLoader``, generator or iterable-style dataset is not touched: each
  process reads its own stream.
"""

import itertools
import math

import numpy as np
import torch
import torch.distributed as dist

from ember.data.array_adapter import ArrayAdapter
from ember.data.sequence_adapter import SequenceAdapter
from ember.data.torch_adapter import TorchDataAdapter
from ember.data.utils import pack_x_y_sample_weight
from ember.distribute import process_group
from ember.tree import flatten, pack_sequence_as

__all__ = ["ShardBatch", "ShardedArrayAdapter", "ShardedDatasetAdapter", "ShardedSequenceAdapter", "shard_adapter"]

MSG_BATCH_SIZE = (
    "`batch_size` is the global batch size, split evenly over the {world} processes, so it must be a "
    "multiple of {world}; got batch_size={batch_size}. Pass e.g. batch_size={suggestion} ({per} per process)."
)


class ShardBatch(tuple):
    """A process's part of one global batch: ``(x, y[, sample_weight])`` plus how it weighs.

    Attributes:
        share: This part's fraction of the global batch's samples; gradients
            are weighted by it before they are summed over processes, so the
            update equals the one-process update on the whole batch.
        empty: ``True`` when this process has no sample of the batch: the
            tuple then holds one stand-in sample, trained with weight 0 so the
            process still joins the gradient all-reduce; metrics ignore it.
    """

    share = 1.0
    empty = False


def _broadcast_from_main(tensor):
    """Rank 0's ``tensor`` on every process (in place; moved through the collective's device)."""
    device = process_group.default_device() if dist.get_backend() == "nccl" else torch.device("cpu")
    buffer = tensor.to(device)
    dist.broadcast(buffer, src=0)
    return buffer.to(tensor.device)


def _rows(value, index):
    """Rows ``index`` (an int64 tensor) of a tensor or of a NumPy array (e.g. strings kept on the host)."""
    if isinstance(value, np.ndarray):
        return value[index.cpu().numpy()]
    return value.index_select(0, index)


def _split(count, world, rank):
    """``(offset, size)`` of ``rank``'s contiguous part when ``count`` samples are dealt to ``world`` parts."""
    base, extra = divmod(count, world)
    return rank * base + min(rank, extra), base + (1 if rank < extra else 0)


class ShardedArrayAdapter:
    """This process's parts of the global batches of an :class:`ArrayAdapter`.

    Attributes:
        order: The global sample order of the latest pass (the same on every
            process), ``None`` when unshuffled; used by backups.
        local_indices: The global indices of the samples this process got in
            the latest pass (``predict`` puts the gathered outputs back in
            order with them).
    """

    def __init__(self, adapter, rank, world_size):
        batch_size = adapter.batch_size
        if batch_size % world_size:
            suggestion = max(world_size, round(batch_size / world_size) * world_size)
            raise ValueError(MSG_BATCH_SIZE.format(world=world_size, batch_size=batch_size, suggestion=suggestion,
                                                   per=suggestion // world_size))
        self.adapter = adapter
        self.rank = rank
        self.world_size = world_size
        self.batch_size = batch_size
        self.num_samples = adapter.num_samples
        self.num_batches = adapter.num_batches
        self.shuffle = adapter.shuffle
        self.restartable = True
        self.yields_device_tensors = True
        self.order = None
        self.local_indices = []
        self._resume_at = None

    def to(self, device):
        self.adapter.to(device)
        return self

    def __len__(self):
        return self.num_batches

    def resume(self, order, start_batch):
        """Start the next pass in the (global) ``order`` at global batch ``start_batch``."""
        self.adapter.resume(order, start_batch)  # validates against the arrays
        self._resume_at, self.adapter._resume_at = self.adapter._resume_at, None

    def _global_order(self):
        if self.shuffle is False:
            return None
        if self.rank == 0:
            order = self.adapter._order()
        else:
            device = next((t.device for t in self.adapter._flat if isinstance(t, torch.Tensor)), torch.device("cpu"))
            order = torch.empty(self.num_samples, dtype=torch.int64, device=device)
        return _broadcast_from_main(order)

    def on_epoch_end(self):
        pass

    def close(self):
        self.adapter.close()

    def __iter__(self):
        if self._resume_at is None:
            order, first = self._global_order(), 0
        else:
            (order, first), self._resume_at = self._resume_at, None
        self.order = order
        self.local_indices = []
        structure = self.adapter._structure
        flat = flatten(structure)
        size, total = self.batch_size, self.num_samples
        for start in range(first * size, total, size):
            count = min(size, total - start)
            offset, part = _split(count, self.world_size, self.rank)
            empty = part == 0
            lo, part = (start, 1) if empty else (start + offset, part)
            if order is None:
                pieces = [None if t is None else t[lo : lo + part] for t in flat]
                if not empty:
                    self.local_indices.append(np.arange(lo, lo + part))
            else:
                index = order[lo : lo + part]
                pieces = [None if t is None else _rows(t, index) for t in flat]
                if not empty:
                    self.local_indices.append(index.cpu().numpy())
            x, y, sample_weight = pack_sequence_as(structure, pieces)
            batch = ShardBatch(pack_x_y_sample_weight(x, y, sample_weight))
            batch.share = 0.0 if empty else part / count
            batch.empty = empty
            yield batch


class ShardedSequenceAdapter:
    """Round-robin batch indices of a :class:`SequenceAdapter` (see the module docstring)."""

    def __init__(self, adapter, rank, world_size):
        self.adapter = adapter
        self.rank = rank
        self.world_size = world_size
        self.restartable = True
        self.yields_device_tensors = False
        self._update_count()

    def _update_count(self):
        total = self.adapter.num_batches
        self.infinite = total is None
        self.num_batches = None if total is None else math.ceil(total / self.world_size)

    def __iter__(self):
        adapter = self.adapter
        sequence = adapter.sequence
        if hasattr(sequence, "on_epoch_begin"):
            sequence.on_epoch_begin()
        adapter.num_batches = adapter._count_batches()
        self._update_count()
        if self.infinite:
            return adapter._pool.imap(itertools.count(self.rank, self.world_size))
        total = adapter.num_batches
        if adapter.shuffle and self.rank == 0:
            order = torch.randperm(total)
        elif adapter.shuffle:
            order = torch.empty(total, dtype=torch.int64)
        else:
            order = torch.arange(total)
        if adapter.shuffle:
            order = _broadcast_from_main(order)
        order = order.tolist()
        padded = order + (order * self.world_size)[: (-total) % self.world_size]
        return adapter._pool.imap(padded[self.rank :: self.world_size])

    def on_epoch_end(self):
        self.adapter.on_epoch_end()

    def close(self):
        self.adapter.close()


class ShardedDatasetAdapter:
    """A map-style ``Dataset`` read through a ``DistributedSampler`` seeded by rank 0."""

    def __init__(self, adapter, rank, world_size):
        loader = adapter.loader
        batch_size = loader.batch_size
        if batch_size % world_size:
            suggestion = max(world_size, round(batch_size / world_size) * world_size)
            raise ValueError(MSG_BATCH_SIZE.format(world=world_size, batch_size=batch_size, suggestion=suggestion,
                                                   per=suggestion // world_size))
        self.shuffle = isinstance(loader.sampler, torch.utils.data.RandomSampler)
        self.sampler = torch.utils.data.DistributedSampler(
            loader.dataset, num_replicas=world_size, rank=rank, shuffle=self.shuffle
        )
        self.loader = torch.utils.data.DataLoader(loader.dataset, batch_size=batch_size // world_size,
                                                  sampler=self.sampler)
        self.adapter = TorchDataAdapter(self.loader)
        self.num_batches = self.adapter.num_batches
        self.restartable = True
        self.yields_device_tensors = False

    def __iter__(self):
        if self.shuffle:
            seed = torch.randint(0, 2**62, ()) if dist.get_rank() == 0 else torch.zeros((), dtype=torch.int64)
            self.sampler.seed = int(_broadcast_from_main(seed.reshape(1))[0])
        return iter(self.adapter)

    def on_epoch_end(self):
        pass

    def close(self):
        pass


def shard_adapter(adapter, rank, world_size):
    """This process's view of ``adapter`` (the adapter itself for sources each process reads alone)."""
    if isinstance(adapter, ArrayAdapter):
        return ShardedArrayAdapter(adapter, rank, world_size)
    if isinstance(adapter, SequenceAdapter):
        return ShardedSequenceAdapter(adapter, rank, world_size)
    if isinstance(adapter, TorchDataAdapter) and getattr(adapter, "batched_here", False):
        return ShardedDatasetAdapter(adapter, rank, world_size)
    return adapter

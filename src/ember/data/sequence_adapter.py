"""``SequenceAdapter``: a ``Sequence``/``PyDataset`` as one epoch of batches per ``iter()``, loaded by a worker pool."""

import itertools
import numbers

import torch

from ember.data.worker_pool import WorkerPool
from ember.tree import map_structure

__all__ = ["SequenceAdapter", "batch_to_numpy"]


def _limit_threads_in_worker():
    # Worker processes share the CPU with training: one intra-op thread each avoids oversubscribing
    # the cores (PyTorch's DataLoader workers do the same).
    torch.set_num_threads(1)


def _leaf_to_numpy(value):
    if not isinstance(value, torch.Tensor):
        return value
    try:
        return value.detach().cpu().numpy()
    except (TypeError, RuntimeError):  # no NumPy dtype (bfloat16) or layout (sparse): send as is
        return value


def batch_to_numpy(batch):
    """The batch with every tensor replaced by a NumPy array.

    Worker processes send NumPy arrays as plain bytes; tensors would travel as
    shared-memory file descriptors, which a fast loader can run out of.
    """
    return map_structure(_leaf_to_numpy, batch)


class SequenceAdapter:
    """The batches of a ``Sequence``: each ``iter()`` is one epoch, in index order or a new random order.

    Args:
        sequence: An ``ember.utils.Sequence`` (or any object with ``__getitem__`` and ``__len__``).
        shuffle: Visit the batch indices in a new random permutation every epoch, drawn from
            PyTorch's global generator when the epoch starts (so ``torch.manual_seed`` makes it
            reproducible).
        workers, use_multiprocessing, max_queue_size: Override the Sequence's own settings when
            not ``None`` (``fit``'s arguments of the same names).

    Each ``iter()`` first calls the Sequence's ``on_epoch_begin()``; the training
    loop calls :meth:`on_epoch_end` once per epoch. Both run in the main
    process, and the workers see their effect on the next epoch. Stopping early
    (``steps_per_epoch``, ``validation_steps``) cancels the batches loaded ahead;
    the next ``iter()`` starts a fresh epoch. Batches from worker processes
    arrive with NumPy arrays in place of tensors. The workers start when the
    adapter is created and stop at :meth:`close` (or garbage collection, or
    interpreter exit).
    """

    def __init__(self, sequence, shuffle=False, workers=None, use_multiprocessing=None, max_queue_size=None):
        if not hasattr(type(sequence), "__getitem__"):
            raise TypeError(
                f"SequenceAdapter needs an ember.utils.Sequence (with __len__ and __getitem__), got "
                f"{type(sequence).__name__}."
            )
        self.sequence = sequence
        self.shuffle = bool(shuffle)
        self.restartable = True
        self.yields_device_tensors = False
        self.num_batches = self._count_batches()
        self.infinite = self.num_batches is None
        self.order = None  # the batch indices of the latest shuffled epoch, kept for backups
        self._resume_at = None
        self._pool = WorkerPool(
            sequence,
            workers=getattr(sequence, "workers", 1) if workers is None else workers,
            use_multiprocessing=(getattr(sequence, "use_multiprocessing", False) if use_multiprocessing is None
                                 else use_multiprocessing),
            max_queue_size=getattr(sequence, "max_queue_size", 10) if max_queue_size is None else max_queue_size,
            worker_setup=_limit_threads_in_worker, result_transform=batch_to_numpy, kind="Sequence",
        )
        try:
            self._pool.start()
        except BaseException:
            self._pool.close()
            raise

    @property
    def workers(self):
        return self._pool.workers

    @property
    def use_multiprocessing(self):
        return self._pool.use_multiprocessing

    @property
    def max_queue_size(self):
        return self._pool.max_queue_size

    def _count_batches(self):
        sequence = self.sequence
        count = sequence.num_batches if hasattr(type(sequence), "num_batches") else type(sequence).__len__(sequence)
        if count is None:
            return None
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
            raise TypeError(
                f"{type(sequence).__name__}.__len__ (or num_batches) must return the number of batches per "
                f"epoch as an integer >= 0 (or None for an endless Sequence), got {count!r}."
            )
        return int(count)

    def resume(self, order, start_batch):
        """Make the next epoch visit ``order`` (a list of batch indices, ``None``: in order) from ``start_batch`` on.

        Used to continue an interrupted epoch from a backup: the batches before
        ``start_batch`` are not loaded. The Sequence's own state is not part of
        a backup, so this is exact when ``sequence[i]`` depends only on ``i``.
        """
        if (order is None) == (self.shuffle and not self.infinite):
            raise ValueError(
                f"Cannot resume: the backup was made with {'shuffled' if order is not None else 'unshuffled'} "
                f"batches, but fit now has shuffle={self.shuffle}. Pass the same fit arguments as the "
                "interrupted run, or delete the backup to start over."
            )
        self._resume_at = (None if order is None else [int(i) for i in order], int(start_batch))

    def __iter__(self):
        """The batches of one epoch, ``sequence[i]`` for each index in order or shuffled."""
        if hasattr(self.sequence, "on_epoch_begin"):
            self.sequence.on_epoch_begin()
        self.num_batches = self._count_batches()
        self.infinite = self.num_batches is None
        order, first = self._resume_at or (None, 0)
        self._resume_at = None
        if (order is not None and sorted(order) != list(range(self.num_batches or 0))) or (
            not self.infinite and first > self.num_batches
        ):
            raise ValueError(
                f"Cannot resume at batch {first}{f' of {len(order)}' if order is not None else ''}: the Sequence "
                f"now has {self.num_batches} batches per epoch. Train on the same data, or delete the backup to "
                "start over."
            )
        if self.infinite:
            indices = itertools.count(first)  # an endless Sequence cannot be shuffled; its order is its own
        elif order is not None:
            indices = order[first:]
        elif self.shuffle:
            order = torch.randperm(self.num_batches).tolist()
            indices = order
        else:
            indices = range(first, self.num_batches)
        self.order = order
        return self._pool.imap(indices)

    def on_epoch_end(self):
        """Call the Sequence's ``on_epoch_end()`` (in the main process)."""
        if hasattr(self.sequence, "on_epoch_end"):
            self.sequence.on_epoch_end()

    def close(self):
        """Stop the workers. Idempotent."""
        self._pool.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return (f"SequenceAdapter({type(self.sequence).__name__}, num_batches={self.num_batches}, "
                f"shuffle={self.shuffle}, {self._pool!r})")

"""Batches from Python generators/iterators (never restarted) and re-iterables (restarted per epoch)."""

import itertools

__all__ = ["IterableAdapter", "is_infinite_iterator"]

_INFINITE_TYPES = (itertools.count, itertools.cycle, itertools.repeat)


def is_infinite_iterator(value):
    """Iterators known to never end (``itertools.count/cycle`` and ``repeat`` without ``times``)."""
    if isinstance(value, itertools.repeat):
        return "times" not in repr(value)
    return isinstance(value, (itertools.count, itertools.cycle))


class IterableAdapter:
    """Wraps an iterable of batches ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

    A generator or iterator (``iter(obj) is obj``) is consumed once, across
    epochs: epoch 2 continues where epoch 1 stopped. Any other iterable is a
    dataset: each ``iter()`` starts a fresh pass.
    """

    def __init__(self, iterable):
        self.iterable = iterable
        self.restartable = iter(iterable) is not iterable if hasattr(iterable, "__iter__") else False
        self.yields_device_tensors = False
        self.num_batches = None
        if self.restartable and hasattr(iterable, "__len__"):
            try:
                self.num_batches = len(iterable)
            except TypeError:
                self.num_batches = None

    def __iter__(self):
        return iter(self.iterable)

    def on_epoch_end(self):
        pass

    def close(self):
        pass

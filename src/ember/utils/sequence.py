"""``Sequence`` (alias ``PyDataset``): a dataset of batches written in Python, loadable in parallel."""

import itertools
import numbers

__all__ = ["PyDataset", "Sequence"]

_DEFAULT_WORKERS = 1
_DEFAULT_USE_MULTIPROCESSING = False
_DEFAULT_MAX_QUEUE_SIZE = 10


def _check_count(value, name, minimum, meaning):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer >= {minimum} ({meaning}), got {value!r}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum} ({meaning}), got {value}.")
    return int(value)


class Sequence:
    """Base class for a dataset that produces whole batches by index; subclass it.

    Implement ``__len__`` (the number of batches per epoch) and
    ``__getitem__(index)`` returning batch ``index`` as ``x``, ``(x, y)`` or
    ``(x, y, sample_weight)`` (NumPy arrays or tensors, possibly nested in
    lists or dicts). Optionally implement ``on_epoch_begin()`` and
    ``on_epoch_end()``, which training calls in the main process around every
    epoch, e.g. to reshuffle the samples. For an endless dataset, override the
    ``num_batches`` property to return ``None`` instead of defining ``__len__``
    and give ``fit`` a ``steps_per_epoch``.

    ``fit``/``evaluate``/``predict`` load every index exactly once per epoch
    (in a new random order each epoch when ``fit(shuffle=True)``), and can
    load batches ahead on worker threads or processes, configured here or by
    ``fit``'s arguments of the same names, which take precedence. With
    ``use_multiprocessing=True`` the Sequence must be picklable (keep plain
    data such as file paths and arrays in its attributes; open files lazily in
    ``__getitem__``): each worker process gets a copy when it starts, the
    Sequence is pickled again at the start of every epoch to detect changes,
    and a changed state is sent to each worker once. Changes made inside a
    worker stay there. Iterating directly (``for batch in sequence``) uses
    no workers.

    Args:
        workers: Number of worker threads or processes that load batches ahead; 0 or 1 loads
            in the main thread (unless ``use_multiprocessing``).
        use_multiprocessing: Load batches in worker processes (true parallelism for Python
            code) instead of threads (enough for I/O and code that releases the GIL).
        max_queue_size: Maximum number of batches loaded ahead of training.

    Subclasses should call ``super().__init__(**kwargs)``; one that does not
    gets the defaults.

    Example:
        >>> import numpy as np
        >>> class Squares(Sequence):
        ...     def __init__(self, n, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x = np.arange(n, dtype="float32")
        ...         self.batch_size = batch_size
        ...     def __len__(self):
        ...         return -(-len(self.x) // self.batch_size)
        ...     def __getitem__(self, index):
        ...         x = self.x[index * self.batch_size:(index + 1) * self.batch_size]
        ...         return x, x ** 2
        >>> data = Squares(5, batch_size=2, workers=2)
        >>> data.num_batches, data.workers
        (3, 2)
        >>> data[2]
        (array([4.], dtype=float32), array([16.], dtype=float32))
    """

    def __init__(self, workers=_DEFAULT_WORKERS, use_multiprocessing=_DEFAULT_USE_MULTIPROCESSING,
                 max_queue_size=_DEFAULT_MAX_QUEUE_SIZE):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    @property
    def workers(self):
        """Number of worker threads or processes used to load batches ahead."""
        return getattr(self, "_workers", _DEFAULT_WORKERS)

    @workers.setter
    def workers(self, value):
        self._workers = _check_count(value, "workers", 0, "0 loads batches in the main thread")

    @property
    def use_multiprocessing(self):
        """Whether the workers are processes (``True``) or threads (``False``)."""
        return getattr(self, "_use_multiprocessing", _DEFAULT_USE_MULTIPROCESSING)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        if not isinstance(value, bool):
            raise TypeError(f"`use_multiprocessing` must be True or False, got {value!r}.")
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        """Maximum number of batches loaded ahead of training."""
        return getattr(self, "_max_queue_size", _DEFAULT_MAX_QUEUE_SIZE)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = _check_count(value, "max_queue_size", 1, "how many batches to prepare ahead")

    @property
    def num_batches(self):
        """Number of batches per epoch: ``len(self)``, or ``None`` for an endless Sequence."""
        if hasattr(type(self), "__len__"):
            return self.__len__()  # not len(): the caller checks the value and names the class if it is bad
        raise NotImplementedError(
            f"{type(self).__name__} must define `__len__` returning the number of batches per epoch, or "
            "override the `num_batches` property (returning None for an endless Sequence)."
        )

    def __getitem__(self, index):
        """Return batch ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(f"{type(self).__name__} must define `__getitem__(self, index)` returning a batch.")

    def on_epoch_begin(self):
        """Called in the main process at the start of every epoch. Does nothing by default."""

    def on_epoch_end(self):
        """Called in the main process at the end of every epoch. Does nothing by default."""

    def __iter__(self):
        """Batches ``0, 1, …, num_batches - 1`` in order (endlessly if ``num_batches`` is None), no workers."""
        count = self.num_batches
        for index in itertools.count() if count is None else range(count):
            yield self[index]


PyDataset = Sequence

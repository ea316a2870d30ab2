"""``DataParallel`` and the global distribution setting (Keras's ``keras.distribution`` names)."""

import contextlib

from ember.distribute import process_group

__all__ = ["DataParallel", "active_distribution", "distribution", "set_distribution"]

_state = {"distribution": None, "default": None}


class DataParallel:
    """Data parallelism: every process holds the whole model and trains on its share of each batch.

    Training runs through ``torch.nn.parallel.DistributedDataParallel``:
    gradients are all-reduced during the backward pass, so every process
    applies the same update. ``batch_size`` stays the global batch: each
    process gets ``batch_size / world_size`` samples of it.

    Under ``torchrun`` a default ``DataParallel()`` is used without being set.
    Set one explicitly to choose the backend or DDP options, or when the
    processes are started another way (then give ``init_method``, ``rank``
    and ``world_size``, or call :func:`ember.distribute.initialize` first).

    Args:
        backend: ``"nccl"`` or ``"gloo"``; default NCCL with CUDA, else Gloo.
        init_method: Rendezvous URL (default ``"env://"``).
        rank, world_size: This process's index and the number of processes
            (default: ``RANK`` / ``WORLD_SIZE``).
        find_unused_parameters: Passed to DDP; set it when some trainable
            weights get no gradient in a step.
        broadcast_buffers: Passed to DDP: rank 0's buffers (e.g. batch-norm
            statistics) are copied to the others at each training forward.
        strategy: ``"ddp"`` (every process holds all weights) or ``"fsdp"``
            (weights, gradients and optimizer state sharded over processes,
            for models that do not fit one device; call :meth:`shard` on the
            model before compiling it with a ``torch.optim`` optimizer).

    Example:
        >>> import ember
        >>> strategy = ember.distribute.DataParallel(backend="gloo")
        >>> strategy.backend
        'gloo'
    """

    def __init__(self, backend=None, init_method=None, rank=None, world_size=None, find_unused_parameters=False,
                 broadcast_buffers=True, strategy="ddp"):
        flags = (("find_unused_parameters", find_unused_parameters), ("broadcast_buffers", broadcast_buffers))
        for name, value in flags:
            if not isinstance(value, bool):
                raise TypeError(f"`{name}` must be True or False, got {value!r}.")
        if strategy not in ("ddp", "fsdp"):
            raise ValueError(f"`strategy` must be 'ddp' or 'fsdp', got {strategy!r}.")
        self.strategy = strategy
        self.backend = backend
        self.init_method = init_method
        self.rank = rank
        self.world_size = world_size
        self.find_unused_parameters = find_unused_parameters
        self.broadcast_buffers = broadcast_buffers

    def initialize(self):
        """Start the process group if it is not running yet (called by fit/evaluate/predict)."""
        process_group.initialize(backend=self.backend, init_method=self.init_method, rank=self.rank,
                                 world_size=self.world_size)

    def shard(self, model):
        """Shard ``model``'s weights over the processes (``strategy="fsdp"``); returns the model.

        Call it after building the model and before compiling it; create the
        optimizer afterwards from ``model.parameters()`` (a ``torch.optim``
        optimizer: ember's optimizers do not handle sharded weights yet). With
        one process, or ``strategy="ddp"``, the model is returned unchanged.
        """
        if self.strategy != "fsdp":
            return model
        from ember.distribute.fully_sharded import shard_model

        if process_group.launched_with_world_size() or self.world_size:
            self.initialize()
        return shard_model(model) if process_group.is_initialized() else model

    @property
    def device(self):
        """The device this process trains on: ``cuda:LOCAL_RANK`` with CUDA, else the CPU."""
        return process_group.default_device()

    @contextlib.contextmanager
    def scope(self):
        """Use this distribution inside a ``with`` block only."""
        previous = _state["distribution"]
        _state["distribution"] = self
        try:
            yield self
        finally:
            _state["distribution"] = previous

    def __repr__(self):
        return (f"DataParallel(strategy={self.strategy!r}, backend={self.backend!r}, "
                f"world_size={process_group.world_size()})")


def set_distribution(value):
    """Set the distribution used by fit/evaluate/predict (``None``: back to the automatic choice).

    Raises:
        TypeError: when ``value`` is not a ``DataParallel`` or ``None``.
    """
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution() expects an ember.distribute.DataParallel or None, got {value!r}.")
    _state["distribution"] = value


def distribution():
    """The distribution in use: the one set, else a default ``DataParallel`` when several processes run.

    Several processes run when the launcher's environment says so
    (``torchrun``: ``RANK`` and ``WORLD_SIZE > 1``) or a process group of more
    than one process was started. Returns ``None`` for a single process.
    """
    if _state["distribution"] is not None:
        return _state["distribution"]
    if process_group.launched_with_world_size() or (
        process_group.is_initialized() and process_group.world_size() > 1
    ):
        if _state["default"] is None:
            _state["default"] = DataParallel()
        return _state["default"]
    return None


def active_distribution():
    """The distribution, with its process group started; ``None`` when running as one process."""
    current = distribution()
    if current is None:
        return None
    if not process_group.is_initialized():
        if not (process_group.launched_with_world_size() or current.world_size):
            return None  # a strategy set in a script that runs as one process
        current.initialize()
    return current if process_group.world_size() > 1 else None

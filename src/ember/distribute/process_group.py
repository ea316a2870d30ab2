"""The process group: who this process is, and starting the group.

Under ``torchrun`` (or any launcher that sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``) nothing needs calling: ``fit``/``evaluate``/``predict`` start
the group on first use. Processes started another way (e.g. with
``torch.multiprocessing``) call :func:`initialize` with explicit values.
Before the group exists, :func:`rank` and :func:`world_size` read the
launcher's environment variables, so they can be used to decide, e.g., which
process prints, before any training starts.
"""

import atexit
import datetime
import gc
import os

import torch
import torch.distributed as dist

__all__ = [
    "barrier",
    "default_device",
    "initialize",
    "is_distributed",
    "is_initialized",
    "is_main_process",
    "launched_with_world_size",
    "local_rank",
    "rank",
    "world_size",
]

_BACKENDS = ("gloo", "nccl", "mpi", "ucc", "xccl")
_state = {"local_rank": None}

MSG_NEEDS_RANK = (
    "initialize() needs `rank` and `world_size`: got rank={rank!r}, world_size={world_size!r}, and the "
    "environment variables RANK / WORLD_SIZE are not set. Pass them explicitly (e.g. "
    "initialize(backend='gloo', init_method='tcp://127.0.0.1:29500', rank=i, world_size=n) in each process), "
    "or launch the script with `torchrun --nproc_per_node=N script.py`, which sets them."
)
MSG_NEEDS_ADDRESS = (
    "initialize() with init_method='env://' needs the environment variables MASTER_ADDR and MASTER_PORT "
    "(missing: {missing}). Set them, or pass an explicit init_method such as 'tcp://127.0.0.1:29500' or "
    "'file:///tmp/ember_rendezvous'."
)


def _env_int(name, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"The environment variable {name} must be an integer, got {value!r}.") from None


def is_initialized():
    """Whether the ``torch.distributed`` process group has been started."""
    return dist.is_available() and dist.is_initialized()


def rank():
    """This process's index in the group (0 when not distributed)."""
    return dist.get_rank() if is_initialized() else _env_int("RANK", 0)


def world_size():
    """The number of processes (1 when not distributed)."""
    return dist.get_world_size() if is_initialized() else _env_int("WORLD_SIZE", 1)


def local_rank():
    """This process's index on its machine: the GPU it uses (``LOCAL_RANK``; 0 when not distributed)."""
    if _state["local_rank"] is not None and is_initialized():
        return _state["local_rank"]
    return _env_int("LOCAL_RANK", 0)


def is_main_process():
    """Whether this is rank 0, the process that prints and writes files."""
    return rank() == 0


def is_distributed():
    """Whether more than one process takes part (started, or announced by the launcher's environment)."""
    return world_size() > 1


def launched_with_world_size():
    """``WORLD_SIZE`` from the launcher when it says more than one process and ``RANK`` is set, else 0."""
    if "RANK" not in os.environ:
        return 0
    size = _env_int("WORLD_SIZE", 1)
    return size if size > 1 else 0


def default_device():
    """``cuda:LOCAL_RANK`` when CUDA is available, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank())
    return torch.device("cpu")


def initialize(backend=None, init_method=None, rank=None, world_size=None, local_rank=None, timeout=None):
    """Start the process group (once; later calls return at once).

    Args:
        backend: ``"nccl"`` (CUDA) or ``"gloo"`` (CPU); defaults to NCCL when
            CUDA is available, else Gloo.
        init_method: How processes find each other: ``"env://"`` (the
            default: ``MASTER_ADDR``/``MASTER_PORT``), ``"tcp://host:port"`` or
            ``"file:///path"``.
        rank: This process's index; defaults to ``RANK``.
        world_size: Number of processes; defaults to ``WORLD_SIZE``.
        local_rank: Index on this machine (the CUDA device used); defaults to
            ``LOCAL_RANK``, else ``rank``.
        timeout: Seconds a collective may wait before failing (PyTorch's
            default when ``None``).

    Raises:
        ValueError: on an unknown backend, or when rank / world size / the
            rendezvous address cannot be determined.

    Example:
        >>> import ember
        >>> ember.distribute.is_initialized()
        False
    """
    if is_initialized():
        return
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this PyTorch build; data-parallel training needs it.")
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend not in _BACKENDS:
        raise ValueError(f"`backend` must be one of {_BACKENDS}, got {backend!r}. Use 'nccl' on CUDA, 'gloo' on CPU.")
    rank = _env_int("RANK", None) if rank is None else rank
    world_size = _env_int("WORLD_SIZE", None) if world_size is None else world_size
    if rank is None or world_size is None:
        raise ValueError(MSG_NEEDS_RANK.format(rank=rank, world_size=world_size))
    if not 0 <= int(rank) < int(world_size):
        raise ValueError(f"`rank` must be in [0, world_size={world_size}), got rank={rank}.")
    init_method = init_method or "env://"
    if init_method == "env://":
        missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if name not in os.environ]
        if missing:
            raise ValueError(MSG_NEEDS_ADDRESS.format(missing=", ".join(missing)))
    if local_rank is None:
        local_rank = _env_int("LOCAL_RANK", int(rank))
    if torch.cuda.is_available():
        torch.cuda.set_device(int(local_rank))  # "cuda" now means this process's GPU
    kwargs = {} if timeout is None else {"timeout": datetime.timedelta(seconds=timeout)}
    dist.init_process_group(backend=backend, init_method=init_method, rank=int(rank), world_size=int(world_size),
                            **kwargs)
    _state["local_rank"] = int(local_rank)
    atexit.register(_shut_down)


def _shut_down():
    """Release the group this module started before the interpreter tears down its threads.

    DDP wrappers left in reference cycles hold the group's communication
    threads; collecting them first lets the group really close here.
    """
    if is_initialized():
        gc.collect()
        dist.destroy_process_group()


def barrier():
    """Wait until every process gets here (nothing when not distributed)."""
    if is_initialized() and dist.get_world_size() > 1:
        dist.barrier()

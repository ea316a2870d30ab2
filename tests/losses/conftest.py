"""Fixtures for the loss tests."""

import contextlib

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode


# Ops that make the host wait for the device when tensors live on an accelerator:
# reading a value back (``.item()``, ``bool(t)``, ``nonzero``) or turning host data
# (Python lists, NumPy arrays, ``torch.tensor(...)``) into a tensor, which is then copied over.
_SYNCING_OPS = {
    torch.ops.aten._local_scalar_dense.default: "reads a value back to the host",
    torch.ops.aten.nonzero.default: "reads a data-dependent shape back to the host",
    torch.ops.aten.lift_fresh.default: "uploads host data",
}


class _SyncRecorder(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.syncs = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in _SYNCING_OPS:
            self.syncs.append(f"{func}: {_SYNCING_OPS[func]}")
        return func(*args, **(kwargs or {}))


@pytest.fixture
def no_host_sync():
    """Context manager failing the test if the code inside would synchronise with an accelerator.

    Works on any device (the ops are recorded at dispatch), so it also guards CPU-only runs.
    """

    @contextlib.contextmanager
    def check():
        recorder = _SyncRecorder()
        with recorder:
            yield
        assert recorder.syncs == []

    return check

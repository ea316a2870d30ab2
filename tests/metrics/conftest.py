"""Fixtures for the metric tests."""

import contextlib

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode


class _HostReadRecorder(TorchDispatchMode):
    """Records every op that copies a tensor value to the host (``.item()``, ``bool(t)``, ``.tolist()``)."""

    def __init__(self):
        super().__init__()
        self.host_reads = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in (torch.ops.aten._local_scalar_dense.default, torch.ops.aten.nonzero.default):
            self.host_reads.append(str(func))
        return func(*args, **(kwargs or {}))


@pytest.fixture
def no_host_reads():
    """Context manager failing the test if the code inside reads a tensor value back to the host."""

    @contextlib.contextmanager
    def check():
        recorder = _HostReadRecorder()
        with recorder:
            yield
        assert recorder.host_reads == []

    return check

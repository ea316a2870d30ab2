"""Sequences and fixtures shared by the Sequence tests (no tests here).

The Sequences live in this importable module so worker processes can unpickle
them. Each ``__getitem__`` call appends ``start``/``end`` lines (epoch seen by
the worker, index, pid, monotonic time) to a log file with single ``O_APPEND``
writes, which is safe across threads and processes; the tests read the log
as their oracle for "which index was loaded, where, when, how many at once".
"""

import multiprocessing
import os
import signal
import threading
import time

import numpy as np
import pytest
import torch

from ember.utils import Sequence

WATCHDOG_S = 30


@pytest.fixture(autouse=True)
def watchdog():
    """Fail a test that hangs for WATCHDOG_S seconds, and one that leaves workers running."""

    def expire(signum, frame):
        raise TimeoutError(f"the test did not finish within {WATCHDOG_S} s (a hang)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(WATCHDOG_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    deadline = time.monotonic() + 5
    while (live_workers() or multiprocessing.active_children()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not multiprocessing.active_children(), f"leaked worker processes: {multiprocessing.active_children()}"
    assert not live_workers(), f"leaked worker threads: {live_workers()}"


def live_workers():
    return [t.name for t in threading.enumerate() if t.name.startswith("ember-worker")]


def wait_until_gone(pids, timeout=5.0):
    """True once no process has these pids (dead *and* reaped: a zombie still answers kill(pid, 0))."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return True
        time.sleep(0.02)
    return False


def append_line(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (text + "\n").encode())
    finally:
        os.close(fd)


def read_log(path):
    """Log lines as tuples ``(event, epoch, index, pid, time)``."""
    if not os.path.exists(path):
        return []
    rows = []
    with open(path) as file:
        for line in file:
            event, epoch, index, pid, moment = line.split()
            rows.append((event, int(epoch), int(index), int(pid), float(moment)))
    return rows


def max_overlap(rows):
    """Most ``__getitem__`` calls running at the same moment, from start/end lines."""
    # At equal times an end (-1) sorts before a start (+1).
    edges = sorted((moment, 1 if event == "start" else -1) for event, _, _, _, moment in rows
                   if event in ("start", "end"))
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


class LoggedSequence(Sequence):
    """``n`` batches; batch ``i`` is ``(x, y)`` with ``x = [[i, epoch]]`` and ``y = [[pid]]``.

    Args:
        log_path: Where ``__getitem__`` logs its calls.
        delay: Seconds each ``__getitem__`` sleeps.
        fail_at: Index whose ``__getitem__`` raises ``fail_with``.
        as_tensor: Return torch tensors instead of NumPy arrays.
    """

    def __init__(self, n, log_path, delay=0.0, fail_at=None, fail_with="value", as_tensor=False, **kwargs):
        super().__init__(**kwargs)
        self.n = n
        self.log_path = str(log_path)
        self.delay = delay
        self.fail_at = fail_at
        self.fail_with = fail_with
        self.as_tensor = as_tensor
        self.epoch = 0
        self.begins = 0
        self.ends = 0

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        append_line(self.log_path, f"start {self.epoch} {index} {os.getpid()} {time.monotonic()!r}")
        try:
            if self.delay:
                time.sleep(self.delay)
            if index == self.fail_at:
                self._fail(index)
            x = np.array([[index, self.epoch]], dtype="float32")
            y = np.array([[os.getpid()]], dtype="int64")
            return (torch.from_numpy(x), torch.from_numpy(y)) if self.as_tensor else (x, y)
        finally:
            append_line(self.log_path, f"end {self.epoch} {index} {os.getpid()} {time.monotonic()!r}")

    def _fail(self, index):
        if self.fail_with == "value":
            raise ValueError(f"cannot decode the file for batch {index}")
        if self.fail_with == "interrupt":
            raise KeyboardInterrupt
        if self.fail_with == "unpicklable":
            raise UnpicklableError(index, "a socket")
        if self.fail_with == "exit":
            os._exit(3)  # a worker dying without a word, as when the OS kills it
        raise AssertionError(self.fail_with)

    def __setstate__(self, state):
        # Runs where a pickled copy is loaded: in worker processes.
        self.__dict__.update(state)
        append_line(self.log_path, f"load {self.epoch} -1 {os.getpid()} {time.monotonic()!r}")

    def on_epoch_begin(self):
        self.begins += 1

    def on_epoch_end(self):
        self.ends += 1
        self.epoch += 1


class UnpicklableError(Exception):
    """An exception whose constructor needs two arguments, so unpickling it fails."""

    def __init__(self, index, resource):
        super().__init__(f"batch {index} needs {resource}")
        self.index = index


class EndlessSequence(Sequence):
    """An endless Sequence: ``num_batches`` is None; batch ``i`` is ``[[i]]``."""

    @property
    def num_batches(self):
        return None

    def __getitem__(self, index):
        return np.array([[index]], dtype="float32")


def batch_index(batch):
    return int(np.asarray(batch[0])[0, 0])


def batch_epoch(batch):
    return int(np.asarray(batch[0])[0, 1])


def batch_pid(batch):
    return int(np.asarray(batch[1])[0, 0])


class SignalProbe:
    """Item ``i`` is ``(i, pid, whether SIGINT is ignored in the process that loaded it)``."""

    def __getitem__(self, index):
        return index, os.getpid(), signal.getsignal(signal.SIGINT) == signal.SIG_IGN


class ArraySequence(Sequence):
    """Batches ``i`` of ``batch_size`` rows of ``x`` (and ``y``): the arrays, served by index."""

    def __init__(self, x, y=None, batch_size=16, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows] if self.y is None else (self.x[rows], self.y[rows])

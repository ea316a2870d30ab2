"""``WorkerPool`` on its own: any ``__getitem__`` object, any index stream, start methods, shutdown."""

import itertools
import os
import signal
import threading

import numpy as np
import pytest

from ember.data.worker_pool import WorkerPool, find_unpicklable
from test_sequence_helpers import (  # noqa: F401  (watchdog is autouse)
    LoggedSequence,
    SignalProbe,
    watchdog,
)


@pytest.mark.parametrize(("workers", "use_multiprocessing"), [(0, False), (1, False), (4, False), (2, True)])
def test_results_follow_the_index_stream_whatever_it_is(workers, use_multiprocessing):
    data = [np.full(2, i) for i in range(10)]
    stream = [7, 7, 0, 9, 3, 3, 3, 1]
    with WorkerPool(data, workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=3) as pool:
        assert [r.tolist() for r in pool.imap(stream)] == [data[i].tolist() for i in stream]
        endless = pool.imap(i % 10 for i in itertools.count())
        assert [int(r[0]) for r in itertools.islice(endless, 23)] == [i % 10 for i in range(23)]
        endless.close()
        assert pool.mode == {0: "inline", 1: "inline"}.get(workers, "processes" if use_multiprocessing else "threads")


def test_calling_thread_mode_runs_no_threads():
    before = threading.active_count()
    with WorkerPool(SignalProbe(), workers=1) as pool:
        results = list(pool.imap(range(5)))
        assert threading.active_count() == before
    assert {pid for _, pid, _ in results} == {os.getpid()}


@pytest.mark.parametrize("mp_context", [None, pytest.param("spawn", marks=pytest.mark.slow)])
def test_worker_processes_ignore_sigint(mp_context):
    with WorkerPool(SignalProbe(), workers=2, use_multiprocessing=True, mp_context=mp_context) as pool:
        results = list(pool.imap(range(6)))
    assert [index for index, _, _ in results] == list(range(6))
    assert all(pid != os.getpid() and ignored for _, pid, ignored in results)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the main process keeps Ctrl-C


def test_closing_the_pool_ends_an_unfinished_pass(tmp_path):
    pool = WorkerPool(LoggedSequence(8, tmp_path / "log"), workers=3)
    unfinished = pool.imap(range(8))
    next(unfinished)
    pool.close()
    assert list(unfinished) == []
    assert pool.closed and "closed=True" in repr(pool)
    with pytest.raises(RuntimeError, match="worker pool for a dataset is closed"):
        pool.imap(range(2))


def test_state_changes_travel_through_a_temporary_file_removed_on_close(tmp_path):
    sequence = LoggedSequence(4, tmp_path / "log", workers=2, use_multiprocessing=True)
    with WorkerPool(sequence, workers=2, use_multiprocessing=True) as pool:
        assert [int(x[0, 1]) for x, _ in pool.imap(range(4))] == [0] * 4
        sequence.epoch = 5
        assert [int(x[0, 1]) for x, _ in pool.imap(range(4))] == [5] * 4
        state_dir = pool._resources.state_dir
        assert len(os.listdir(state_dir)) == 1
    assert not os.path.exists(state_dir)


def test_unpicklable_search_walks_nested_containers_and_attributes():
    class Holder:
        pass

    holder = Holder()
    holder.config = {"paths": ["a.png"], "readers": [1, {"lock": threading.Lock()}]}
    path, culprit, error = find_unpicklable(holder.config, "config")
    assert path == "config['readers'][1]['lock']" and type(culprit).__name__ == "lock"
    assert "cannot pickle '_thread.lock' object" in str(error)


@pytest.mark.parametrize(
    ("mp_context", "error", "message"),
    [
        ("threads", ValueError, r"`mp_context` must be one of \[.*'spawn'.*\] or a multiprocessing context, "
                                r"got 'threads'"),
        (3, TypeError, r"`mp_context` must be a start method name or a multiprocessing context, got 3"),
    ],
)
def test_bad_start_method_is_rejected(mp_context, error, message):
    with pytest.raises(error, match=message):
        WorkerPool([1], workers=2, use_multiprocessing=True, mp_context=mp_context)

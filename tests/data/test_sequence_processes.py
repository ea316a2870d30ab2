"""``SequenceAdapter`` with ``use_multiprocessing=True``: worker processes, their errors and their shutdown.

Kept few and small: every test starts worker processes.
"""

import concurrent.futures
import multiprocessing
import os
import subprocess
import sys
import time
import traceback

import numpy as np
import pytest
import torch

from ember.data.sequence_adapter import SequenceAdapter
from ember.data.worker_pool import WorkerError
from ember.utils import Sequence
from test_sequence_helpers import (  # noqa: F401  (watchdog is autouse)
    LoggedSequence,
    batch_epoch,
    batch_index,
    batch_pid,
    max_overlap,
    read_log,
    wait_until_gone,
    watchdog,
)


def _children():
    return {process.pid for process in multiprocessing.active_children()}


def _expected_order(n, shuffle, seed):
    torch.manual_seed(seed)
    return torch.randperm(n).tolist() if shuffle else list(range(n))


@pytest.mark.parametrize("workers", [1, 3, 8])
def test_every_index_once_per_epoch_in_order_with_one_pool_for_all_epochs(tmp_path, workers):
    n, plan = 12, [False, True, True, False]  # shuffle per epoch
    log = tmp_path / "log"
    sequence = LoggedSequence(n, log, workers=workers, use_multiprocessing=True)
    with SequenceAdapter(sequence) as adapter:
        children = _children()
        assert len(children) == workers
        for epoch, shuffle in enumerate(plan):
            adapter.shuffle = shuffle
            torch.manual_seed(epoch)
            batches = list(adapter)
            assert [batch_index(b) for b in batches] == _expected_order(n, shuffle, seed=epoch)
            assert {batch_epoch(b) for b in batches} == {epoch}  # workers see what on_epoch_end changed
            assert {batch_pid(b) for b in batches} <= children
            adapter.on_epoch_end()
        assert _children() == children  # the same processes served every epoch
    assert wait_until_gone(children)
    rows = read_log(log)
    starts = sorted((epoch, index) for event, epoch, index, _, _ in rows if event == "start")
    assert starts == [(e, i) for e in range(len(plan)) for i in range(n)]
    assert (sequence.begins, sequence.ends) == (len(plan), len(plan))
    # The Sequence reaches each worker through the pool initializer, then once per changed state,
    # never with each batch.
    loads = [pid for event, _, _, pid, _ in rows if event == "load"]
    assert set(loads) == children
    assert all(loads.count(pid) <= 1 + len(plan) for pid in children)


def test_every_worker_process_starts_even_when_an_early_one_is_idle_before_the_last_is_asked_for(
    tmp_path, monkeypatch
):
    # The executor starts a process per submitted task only while none is idle; a pool whose first
    # process is ready before the last start-up task is submitted must still start all of them.
    submit = concurrent.futures.ProcessPoolExecutor.submit

    def slow_submit(self, *args, **kwargs):
        future = submit(self, *args, **kwargs)
        time.sleep(1.0)  # long enough for a started process to finish a trivial task
        return future

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", slow_submit)
    sequence = LoggedSequence(3, tmp_path / "log", workers=3, use_multiprocessing=True)
    with SequenceAdapter(sequence) as adapter:
        assert len(_children()) == 3
        monkeypatch.undo()
        assert [batch_index(b) for b in adapter] == [0, 1, 2]


def test_tensor_batches_come_back_as_numpy_arrays(tmp_path):
    sequence = LoggedSequence(4, tmp_path / "log", as_tensor=True, workers=2, use_multiprocessing=True)
    with SequenceAdapter(sequence) as adapter:
        batches = list(adapter)
    assert all(isinstance(leaf, np.ndarray) for batch in batches for leaf in batch)
    np.testing.assert_array_equal(batches[3][0], [[3.0, 0.0]])
    assert batches[3][0].dtype == np.float32 and batches[3][1].dtype == np.int64


def test_at_most_max_queue_size_batches_in_flight(tmp_path):
    n, queue = 12, 2
    log = tmp_path / "log"
    received = []
    sequence = LoggedSequence(n, log, delay=0.03, workers=3, use_multiprocessing=True, max_queue_size=queue)
    with SequenceAdapter(sequence) as adapter:
        assert len(_children()) == queue  # more workers than batches in flight could never be busy
        for batch in adapter:
            received.append(batch_index(batch))
            started = {r[2] for r in read_log(log) if r[0] == "start" and r[1] == 0}
            assert max(started) <= len(received) - 1 + queue
    rows = read_log(log)
    assert max_overlap(rows) == queue  # bounded, and the two workers did run at the same time
    assert received == list(range(n))


def test_worker_exception_is_raised_in_the_main_process_with_the_worker_traceback(tmp_path):
    sequence = LoggedSequence(10, tmp_path / "log", fail_at=3, workers=2, use_multiprocessing=True)
    adapter = SequenceAdapter(sequence)
    workers = _children()
    seen = []
    with pytest.raises(ValueError, match="cannot decode the file for batch 3") as info:
        for batch in adapter:
            seen.append(batch_index(batch))
    assert seen == [0, 1, 2]
    cause = "".join(traceback.format_exception(info.value.__cause__))
    assert 'raise ValueError(f"cannot decode the file for batch {index}")' in cause
    assert "in __getitem__" in cause
    assert "LoggedSequence[3] in a worker process" in "".join(traceback.format_exception(info.value))
    assert _children() == set() and wait_until_gone(workers)  # stopped by the error, without close()
    adapter.close()


def test_exception_that_cannot_be_pickled_still_reports_the_worker_traceback(tmp_path):
    sequence = LoggedSequence(6, tmp_path / "log", fail_at=2, fail_with="unpicklable", workers=2,
                              use_multiprocessing=True)
    with SequenceAdapter(sequence) as adapter:
        with pytest.raises(WorkerError, match=r"UnpicklableError: batch 2 needs a socket \(that exception cannot "
                                              r"be pickled") as info:
            list(adapter)
    assert "raise UnpicklableError(index" in "".join(traceback.format_exception(info.value.__cause__))


def test_a_worker_that_dies_stops_the_pool_with_a_clear_error(tmp_path):
    sequence = LoggedSequence(8, tmp_path / "log", fail_at=4, fail_with="exit", workers=2,
                              use_multiprocessing=True)
    adapter = SequenceAdapter(sequence)
    workers = _children()
    with pytest.raises(WorkerError, match=r"worker process exited unexpectedly while loading LoggedSequence\[\d\]"):
        list(adapter)
    assert _children() == set() and wait_until_gone(workers)
    sequence.fail_at = None  # a new epoch starts new workers
    assert [batch_index(b) for b in adapter] == list(range(8))
    adapter.close()


def test_keyboard_interrupt_in_the_consumer_keeps_the_pool_usable_until_close(tmp_path):
    log = tmp_path / "log"
    adapter = SequenceAdapter(LoggedSequence(40, log, delay=0.005, workers=2, use_multiprocessing=True))
    workers = _children()
    with pytest.raises(KeyboardInterrupt):
        for batch in adapter:
            if batch_index(batch) == 3:
                raise KeyboardInterrupt
    rows = read_log(log)
    assert sum(r[0] == "start" for r in rows) == sum(r[0] == "end" for r in rows)  # nothing left running
    assert [batch_index(b) for b in adapter] == list(range(40))
    adapter.close()
    assert _children() == set() and wait_until_gone(workers)


def test_keyboard_interrupt_inside_a_worker_process_stops_the_pool(tmp_path):
    sequence = LoggedSequence(10, tmp_path / "log", fail_at=2, fail_with="interrupt", workers=2,
                              use_multiprocessing=True)
    adapter = SequenceAdapter(sequence)
    workers = _children()
    with pytest.raises(KeyboardInterrupt):
        list(adapter)
    assert _children() == set() and wait_until_gone(workers)
    adapter.close()


class FileHandleSequence(Sequence):
    def __init__(self, path, **kwargs):
        super().__init__(**kwargs)
        self.sources = {"labels": open(path)}  # noqa: SIM115  (the mistake under test)

    def __len__(self):
        return 1

    def __getitem__(self, index):
        return np.zeros((1, 1))


class LambdaSequence(FileHandleSequence):
    def __init__(self, **kwargs):
        Sequence.__init__(self, **kwargs)
        self.augment = [lambda x: x + 1]


def test_unpicklable_sequence_error_names_the_attribute_and_the_fix(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("0\n")
    sequence = FileHandleSequence(path, workers=2, use_multiprocessing=True)
    try:
        with pytest.raises(TypeError, match=r"`sequence.sources\['labels'\]` \(a `_io.TextIOWrapper` object\) "
                                            r"cannot be pickled .*open files.* lazily inside __getitem__.*"
                                            r"use_multiprocessing=False"):
            SequenceAdapter(sequence)
        with SequenceAdapter(sequence, use_multiprocessing=False) as adapter:  # threads share it: fine
            assert len(list(adapter)) == 1
    finally:
        sequence.sources["labels"].close()
    with pytest.raises(TypeError, match=r"`sequence.augment\[0\]` \(the function `LambdaSequence.__init__."
                                        r"<locals>.<lambda>`\) cannot be pickled"):
        SequenceAdapter(LambdaSequence(workers=2, use_multiprocessing=True))
    assert _children() == set()


def test_locally_defined_sequence_class_is_named_in_the_error():
    class Local(Sequence):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return np.zeros(1)

    with pytest.raises(TypeError, match=r"the Sequence itself \(a `test_sequence_processes\..*<locals>\.Local` "
                                        r"object\) cannot be pickled .*top level of a module"):
        SequenceAdapter(Local(workers=2, use_multiprocessing=True))
    assert _children() == set()


def test_sequence_class_from_an_interactive_main_program_is_refused_up_front(monkeypatch):
    class Typed(Sequence):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return np.zeros(1)

    Typed.__module__ = "__main__"  # as if typed in a notebook or an interactive session
    monkeypatch.delattr(sys.modules["__main__"], "__file__", raising=False)
    with pytest.raises(TypeError, match=r"`test_sequence_.*Typed` is defined in a main program they cannot import "
                                        r"\(an interactive session or notebook\)\. Move the class into a module"):
        SequenceAdapter(Typed(workers=2, use_multiprocessing=True))
    assert _children() == set()
    with SequenceAdapter(Typed(workers=2)) as adapter:  # threads need no import
        assert len(list(adapter)) == 1


EXIT_WITHOUT_CLOSE = """
import multiprocessing, sys
sys.path.insert(0, {helpers!r})
from test_sequence_helpers import LoggedSequence
from ember.data.sequence_adapter import SequenceAdapter

if __name__ == "__main__":
    adapter = SequenceAdapter(LoggedSequence(100, {log!r}, delay=0.01, workers=2, use_multiprocessing=True))
    batches = iter(adapter)
    next(batches)
    print(*sorted(p.pid for p in multiprocessing.active_children()), flush=True)
    # The program ends here, with the pool open and an epoch half read.
"""


@pytest.mark.slow
def test_interpreter_exit_without_close_stops_the_workers(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(EXIT_WITHOUT_CLOSE.format(helpers=os.path.dirname(__file__), log=str(tmp_path / "log")))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=25)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no traceback, no leaked-semaphore warning
    workers = [int(pid) for pid in done.stdout.split()]
    assert len(workers) == 2 and wait_until_gone(workers)

"""``SequenceAdapter`` in the main thread and on worker threads: order, exactly-once, hooks, shutdown."""

import gc
import itertools
import threading
import traceback
import weakref

import numpy as np
import pytest
import torch

from ember.data.sequence_adapter import SequenceAdapter
from ember.utils import Sequence
from test_sequence_helpers import (  # noqa: F401  (watchdog is autouse)
    EndlessSequence,
    LoggedSequence,
    batch_epoch,
    batch_index,
    live_workers,
    max_overlap,
    read_log,
    watchdog,
)


def _expected_order(n, shuffle, seed):
    if not shuffle:
        return list(range(n))
    torch.manual_seed(seed)
    return torch.randperm(n).tolist()


def _run_epoch(adapter, seed):
    torch.manual_seed(seed)
    return list(adapter)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("workers", [0, 1, 3, 8])
def test_every_index_once_per_epoch_in_the_requested_order(tmp_path, workers, shuffle):
    n, epochs = 13, 3
    log = tmp_path / "log"
    sequence = LoggedSequence(n, log, delay=0.002 * (workers > 1), workers=workers)
    with SequenceAdapter(sequence, shuffle=shuffle) as adapter:
        assert adapter.num_batches == n
        for epoch in range(epochs):
            batches = _run_epoch(adapter, seed=epoch)
            assert [batch_index(b) for b in batches] == _expected_order(n, shuffle, seed=epoch)
            assert {batch_epoch(b) for b in batches} == {epoch}
            adapter.on_epoch_end()
        starts = [(epoch, index) for event, epoch, index, _, _ in read_log(log) if event == "start"]
        assert sorted(starts) == [(e, i) for e in range(epochs) for i in range(n)]
        assert (sequence.begins, sequence.ends) == (epochs, epochs)
        if workers <= 1:
            assert live_workers() == []  # loaded in the calling thread
        else:
            assert 1 <= len(live_workers()) <= workers


def test_batches_keep_their_structure_and_objects():
    class Nested(LoggedSequence):
        def __getitem__(self, index):
            x = {"image": np.full((2, 3), index, "float32"), "meta": [np.arange(2), torch.ones(2)]}
            return x, np.zeros((2, 1)), np.ones(2)

    with SequenceAdapter(Nested(3, "/dev/null", workers=2)) as adapter:
        batches = list(adapter)
    assert [type(b) for b in batches] == [tuple] * 3
    x, y, sample_weight = batches[2]
    assert sorted(x) == ["image", "meta"] and isinstance(x["meta"], list)
    np.testing.assert_array_equal(x["image"], np.full((2, 3), 2, "float32"))
    assert isinstance(x["meta"][1], torch.Tensor)  # threads hand over the objects themselves


@pytest.mark.parametrize("workers", [1, 3])
def test_breaking_early_cancels_work_and_the_next_epoch_starts_fresh(tmp_path, workers):
    n, queue = 30, 4
    log = tmp_path / "log"
    sequence = LoggedSequence(n, log, delay=0.01, workers=workers, max_queue_size=queue)
    with SequenceAdapter(sequence) as adapter:
        for batch in adapter:
            if batch_index(batch) == 2:
                break
        rows = read_log(log)
        # Nothing is still loading once the loop has left, and little was loaded ahead.
        assert sum(r[0] == "start" for r in rows) == sum(r[0] == "end" for r in rows) <= 3 + queue
        assert [batch_index(b) for b in adapter] == list(range(n))


def test_a_new_epoch_ends_an_unfinished_one(tmp_path):
    with SequenceAdapter(LoggedSequence(6, tmp_path / "log", workers=3)) as adapter:
        old = iter(adapter)
        assert batch_index(next(old)) == 0
        assert [batch_index(b) for b in adapter] == list(range(6))
        assert list(old) == []


def test_worker_thread_exception_reaches_the_caller_with_its_traceback(tmp_path):
    sequence = LoggedSequence(10, tmp_path / "log", delay=0.005, fail_at=4, workers=3)
    adapter = SequenceAdapter(sequence)
    seen = []
    with pytest.raises(ValueError, match="cannot decode the file for batch 4") as info:
        for batch in adapter:
            seen.append(batch_index(batch))
    assert seen == [0, 1, 2, 3]
    text = "".join(traceback.format_exception(info.value))
    assert 'raise ValueError(f"cannot decode the file for batch {index}")' in text
    assert "LoggedSequence[4] in a worker thread" in text
    assert live_workers() == []  # the error stopped the workers
    sequence.fail_at = None  # the adapter recovers for the next epoch
    assert [batch_index(b) for b in adapter] == list(range(10))
    adapter.close()


def test_exception_in_the_calling_thread_is_untouched(tmp_path):
    adapter = SequenceAdapter(LoggedSequence(5, tmp_path / "log", fail_at=1, workers=0))
    with pytest.raises(ValueError, match="batch 1") as info:
        list(adapter)
    assert not getattr(info.value, "__notes__", None)


def test_keyboard_interrupt_in_the_consumer_then_close(tmp_path):
    log = tmp_path / "log"
    adapter = SequenceAdapter(LoggedSequence(50, log, delay=0.01, workers=4))
    with pytest.raises(KeyboardInterrupt):
        for batch in adapter:
            if batch_index(batch) == 5:
                raise KeyboardInterrupt
    rows = read_log(log)
    assert sum(r[0] == "start" for r in rows) == sum(r[0] == "end" for r in rows)
    adapter.close()
    assert live_workers() == []


def test_keyboard_interrupt_inside_a_worker_thread_stops_the_pool(tmp_path):
    adapter = SequenceAdapter(LoggedSequence(20, tmp_path / "log", delay=0.005, fail_at=6, fail_with="interrupt",
                                             workers=3))
    seen = []
    with pytest.raises(KeyboardInterrupt):
        for batch in adapter:
            seen.append(batch_index(batch))
    assert seen == list(range(6))
    assert live_workers() == []
    adapter.close()


@pytest.mark.parametrize(("workers", "queue"), [(8, 3), (2, 5)])
def test_at_most_max_queue_size_batches_in_flight(tmp_path, workers, queue):
    n = 24
    log = tmp_path / "log"
    received = []
    with SequenceAdapter(LoggedSequence(n, log, delay=0.01, workers=workers, max_queue_size=queue)) as adapter:
        for batch in adapter:
            received.append(batch_index(batch))
            # The log, read now, shows what was started before this batch was handed over.
            started = {r[2] for r in read_log(log) if r[0] == "start"}
            assert max(started) <= len(received) - 1 + queue
    rows = read_log(log)
    assert max_overlap(rows) <= min(workers, queue)
    assert max_overlap(rows) >= 2  # and the workers did run in parallel
    assert received == list(range(n))


def test_fit_arguments_override_the_sequence_settings(tmp_path):
    sequence = LoggedSequence(4, tmp_path / "log", workers=3, max_queue_size=7)
    with SequenceAdapter(sequence) as adapter:
        assert (adapter.workers, adapter.use_multiprocessing, adapter.max_queue_size) == (3, False, 7)
    with SequenceAdapter(sequence, workers=0, max_queue_size=2) as adapter:
        assert (adapter.workers, adapter.max_queue_size) == (0, 2)
        assert [batch_index(b) for b in adapter] == [0, 1, 2, 3]
        assert live_workers() == []
    with pytest.raises(ValueError, match=r"`workers` must be an integer >= 0 .*got -2"):
        SequenceAdapter(sequence, workers=-2)
    with pytest.raises(TypeError, match=r"`use_multiprocessing` must be True or False, got 1"):
        SequenceAdapter(sequence, use_multiprocessing=1)


def test_sequence_that_skips_super_init_uses_the_defaults():
    class NoSuper(Sequence):
        def __init__(self, n):  # forgets super().__init__()
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, index):
            return np.full((1, 1), index, "float32")

    with SequenceAdapter(NoSuper(3)) as adapter:
        assert (adapter.workers, adapter.use_multiprocessing, adapter.max_queue_size) == (1, False, 10)
        assert [batch_index((b,)) for b in adapter] == [0, 1, 2]
    with SequenceAdapter(NoSuper(5), workers=3, shuffle=True) as adapter:
        assert sorted(batch_index((b,)) for b in adapter) == [0, 1, 2, 3, 4]


def test_endless_sequence_runs_in_index_order_even_with_shuffle():
    with SequenceAdapter(EndlessSequence(workers=2), shuffle=True) as adapter:
        assert adapter.infinite and adapter.num_batches is None
        assert [batch_index((b,)) for b in itertools.islice(adapter, 25)] == list(range(25))
        assert [batch_index((b,)) for b in itertools.islice(adapter, 3)] == [0, 1, 2]


def test_length_is_read_again_every_epoch(tmp_path):
    sequence = LoggedSequence(3, tmp_path / "log")
    with SequenceAdapter(sequence) as adapter:
        assert len(list(adapter)) == 3
        sequence.n = 5
        assert len(list(adapter)) == 5 and adapter.num_batches == 5


@pytest.mark.parametrize("length", [-1, 2.0, "3"])
def test_bad_length_is_explained(length):
    class BadLength(LoggedSequence):
        def __len__(self):
            return length

    with pytest.raises(TypeError, match=r"BadLength.__len__ \(or num_batches\) must return .* integer >= 0"):
        SequenceAdapter(BadLength(1, "/dev/null"))


def test_not_a_sequence_is_rejected():
    with pytest.raises(TypeError, match="SequenceAdapter needs an ember.utils.Sequence .* got int"):
        SequenceAdapter(3)


def test_close_is_idempotent_and_final(tmp_path):
    adapter = SequenceAdapter(LoggedSequence(3, tmp_path / "log", workers=2))
    assert len(list(adapter)) == 3
    assert live_workers() != []
    adapter.close()
    adapter.close()
    assert live_workers() == []
    with pytest.raises(RuntimeError, match="closed; create a new one"):
        iter(adapter)


def test_garbage_collection_stops_the_workers(tmp_path):
    adapter = SequenceAdapter(LoggedSequence(8, tmp_path / "log", workers=3))
    iterator = iter(adapter)
    next(iterator)
    pool = weakref.ref(adapter._pool)
    del adapter, iterator
    gc.collect()
    assert pool() is None
    for thread in threading.enumerate():
        if thread.name.startswith("ember-worker"):
            thread.join(5)
    assert live_workers() == []

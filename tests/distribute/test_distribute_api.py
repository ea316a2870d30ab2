"""ember.distribute in one process: identity, configuration errors, and a free hot path."""

import numpy as np
import pytest
import torch

import ember
from ember.data.array_adapter import ArrayAdapter
from ember.distribute import data_parallel as distribution_module
from ember.distribute import reduction, trainer_hooks
from ember.distribute.sharding import ShardedArrayAdapter, _split

LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture(autouse=True)
def _single_process(monkeypatch):
    for name in LAUNCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(distribution_module._state, "distribution", None)
    monkeypatch.setitem(distribution_module._state, "default", None)


def test_single_process_identity():
    d = ember.distribute
    assert (d.rank(), d.world_size(), d.local_rank()) == (0, 1, 0)
    assert d.is_main_process() and not d.is_distributed() and not d.is_initialized()
    assert d.distribution() is None
    d.barrier()  # nothing to wait for


def test_launcher_environment_is_read_before_the_group_starts(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    d = ember.distribute
    assert (d.rank(), d.world_size(), d.local_rank()) == (1, 2, 1)
    assert d.is_distributed() and not d.is_main_process()
    assert isinstance(d.distribution(), d.DataParallel)
    assert d.distribution() is d.distribution()  # one default


def test_set_distribution_and_scope():
    strategy = ember.distribute.DataParallel(backend="gloo", find_unused_parameters=True)
    other = ember.distribute.DataParallel()
    ember.distribute.set_distribution(strategy)
    assert ember.distribute.distribution() is strategy
    with other.scope():
        assert ember.distribute.distribution() is other
    assert ember.distribute.distribution() is strategy
    ember.distribute.set_distribution(None)
    assert ember.distribute.distribution() is None


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: ember.distribute.set_distribution("ddp"), TypeError, "expects an ember.distribute.DataParallel"),
        (lambda: ember.distribute.DataParallel(broadcast_buffers=1), TypeError,
         "`broadcast_buffers` must be True or False"),
        (lambda: ember.distribute.DataParallel(strategy="zero3"), ValueError,
         "`strategy` must be 'ddp' or 'fsdp', got 'zero3'"),
        (lambda: ember.distribute.initialize(backend="bogus"), ValueError, r"`backend` must be one of .*got 'bogus'"),
        (lambda: ember.distribute.initialize(backend="gloo"), ValueError, "needs `rank` and `world_size`"),
        (lambda: ember.distribute.initialize(backend="gloo", rank=2, world_size=2), ValueError,
         r"`rank` must be in \[0, world_size=2\), got rank=2"),
        (lambda: ember.distribute.initialize(backend="gloo", rank=0, world_size=2), ValueError,
         "needs the environment variables MASTER_ADDR and MASTER_PORT"),
    ],
)
def test_configuration_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
    assert not ember.distribute.is_initialized()


def test_one_process_paths_are_untouched():
    """Without several processes the loop gets its own objects back: no per-step wrapper, no sharding."""
    model = ember.Sequential([ember.Input(shape=(2,)), ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    step = model.train_step
    assert trainer_hooks.wrap_step(model, step, "train") is step
    adapter = ArrayAdapter(np.zeros((5, 2), "float32"), np.zeros((5, 1), "float32"), batch_size=3)
    assert trainer_hooks.shard(adapter) is adapter
    logs = {"loss": 1.0}
    assert trainer_hooks.sync_logs(model, logs) is logs
    assert "forward" not in model.__dict__


def test_metric_variables_remember_their_aggregation():
    metric = ember.metrics.Mean()
    assert [v.aggregation for v in metric.variables] == ["sum", "sum"]
    extra = metric.add_weight(name="m", aggregation="mean")
    assert extra.aggregation == "mean"
    with pytest.raises(ValueError, match="Unknown metric variable aggregation 'max'"):
        reduction._reduced([torch.zeros(1)], "max")


@pytest.mark.parametrize("count, world", [(8, 2), (5, 2), (1, 2), (7, 3), (2, 4)])
def test_parts_of_a_global_batch_cover_it_once(count, world):
    parts = [_split(count, world, rank) for rank in range(world)]
    covered = [i for offset, size in parts for i in range(offset, offset + size)]
    assert covered == list(range(count))
    assert max(size for _, size in parts) - min(size for _, size in parts) <= 1


def test_global_batch_size_must_divide_over_processes():
    adapter = ArrayAdapter(np.zeros((10, 2), "float32"), batch_size=9)
    with pytest.raises(ValueError, match=r"must be a multiple of 4; got batch_size=9\. Pass e\.g\. batch_size=8"):
        ShardedArrayAdapter(adapter, rank=0, world_size=4)


def test_shards_of_unshuffled_arrays():
    """Rank r of 2 gets the r-th half of every global batch; an empty part carries one stand-in sample."""
    x = np.arange(10, dtype="float32").reshape(10, 1)
    seen = {}
    for rank in (0, 1):
        adapter = ShardedArrayAdapter(ArrayAdapter(x, x, batch_size=4), rank=rank, world_size=2)
        seen[rank] = [(b[0][:, 0].tolist(), b.share, b.empty) for b in adapter]
    assert seen[0] == [([0.0, 1.0], 0.5, False), ([4.0, 5.0], 0.5, False), ([8.0], 0.5, False)]
    assert seen[1] == [([2.0, 3.0], 0.5, False), ([6.0, 7.0], 0.5, False), ([9.0], 0.5, False)]
    adapter = ShardedArrayAdapter(ArrayAdapter(x[:9], x[:9], batch_size=4), rank=1, world_size=2)
    last = list(adapter)[-1]
    assert (last.share, last.empty, len(last[0])) == (0.0, True, 1)
    assert np.concatenate(adapter.local_indices).tolist() == [2, 3, 6, 7]


def test_a_strategy_set_in_a_one_process_run_trains_plainly():
    """A script that sets DataParallel (even FSDP) still runs as one process when launched without torchrun."""
    x = np.linspace(-1, 1, 12, dtype="float32").reshape(6, 2)
    y = x.sum(axis=1, keepdims=True)
    results = []
    for strategy in (None, ember.distribute.DataParallel(strategy="fsdp")):
        torch.manual_seed(0)
        model = ember.Sequential([ember.Input(shape=(2,)), ember.layers.Dense(1)])
        if strategy is not None:
            assert strategy.shard(model) is model
            ember.distribute.set_distribution(strategy)
        model.compile(optimizer="sgd", loss="mse")
        results.append(model.fit(x, y, batch_size=4, epochs=2, verbose=0).history["loss"])
        assert not ember.distribute.is_initialized()
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


@pytest.mark.parametrize("module_name", ["ember.distribute.data_parallel", "ember.distribute.process_group"])
def test_docstring_examples_run(module_name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module_name))
    assert result.failed == 0 and result.attempted > 0

"""The calls fit / evaluate / predict and the callbacks make into ``ember.distribute``.

Each returns at once (or returns its input unchanged) when one process runs,
and none is called per step: the per-step work of data parallelism lives in
the step wrapper that :func:`wrap_step` returns only when several processes
run.
"""

import torch.distributed as dist

from ember.data.array_adapter import ArrayAdapter
from ember.distribute import process_group
from ember.distribute.data_parallel_step import finish_training
from ember.distribute.data_parallel_step import wrap_step as _wrap_step
from ember.distribute.data_parallel import active_distribution, distribution
from ember.distribute.reduction import gather_predictions, mean_logs, sync_metrics
from ember.distribute.sharding import ShardedArrayAdapter, shard_adapter
from ember.trainer.logs import Logs
from ember.tree import flatten, pack_sequence_as

__all__ = [
    "barrier",
    "finish_fit",
    "gather_outputs",
    "is_main_process",
    "prepare_model",
    "shard",
    "sync_logs",
    "wrap_step",
]

is_main_process = process_group.is_main_process
barrier = process_group.barrier


def _running():
    """The distribution when several processes run with a started group, else ``None``."""
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return None
    return distribution()


def prepare_model(model):
    """Start the process group on first use and put the model on this process's device."""
    strategy = active_distribution()
    if strategy is None:
        return
    device = strategy.device
    parameter = next(iter(model.parameters()), None)
    if device.type == "cuda" and parameter is not None and parameter.device != device:
        model.to(device)


def shard(adapter, purpose=True):
    """This process's share of the batches of ``adapter`` (see ``ember.distribute.sharding``).

    For ``purpose="predict"`` only arrays are split (their outputs are gathered
    back in order); every process predicts any other input whole.
    """
    if active_distribution() is None:
        return adapter
    if purpose == "predict" and not isinstance(adapter, ArrayAdapter):
        return adapter
    return shard_adapter(adapter, dist.get_rank(), dist.get_world_size())


def wrap_step(model, step_fn, kind):
    """``step_fn`` itself for one process; else a wrapper for data-parallel batches (``kind``: train/test/predict)."""
    strategy = _running()
    if strategy is None:
        return step_fn
    return _wrap_step(model, step_fn, kind, strategy)


def finish_fit(model):
    """After fit: the model's own forward back (nothing for one process)."""
    finish_training(model)


def sync_logs(model, logs):
    """Aggregate the metrics over processes before the loop reads them (epoch end, evaluation end)."""
    if _running() is None:
        return logs
    sync_metrics(model.metrics)
    if logs is not None and not isinstance(logs, Logs) and hasattr(logs, "items"):
        return mean_logs(logs)
    return logs


def gather_outputs(outputs, iterator):
    """``predict``'s outputs from every process, in sample order (this process's own when it reads alone)."""
    adapter = getattr(iterator, "adapter", None)
    if _running() is None or not isinstance(adapter, ShardedArrayAdapter):
        return outputs
    return pack_sequence_as(outputs, gather_predictions(flatten(outputs), adapter.local_indices))

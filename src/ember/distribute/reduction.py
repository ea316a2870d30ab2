"""Combining per-process values: metric state, custom logs, predictions, backup state."""

import numpy as np
import torch
import torch.distributed as dist

from ember.distribute import process_group

__all__ = ["backup_state", "gather_predictions", "mean_logs", "reduce_variables", "reduced_copies", "sync_metrics"]

AGGREGATIONS = ("sum", "mean", "only_first_replica", "none")


def _comm_device(tensor):
    """NCCL reduces CUDA tensors; every other backend gets CPU copies."""
    return process_group.default_device() if dist.get_backend() == "nccl" else torch.device("cpu")


def _reduced(tensors, aggregation):
    """New tensors: ``tensors`` combined over processes by ``aggregation`` (one collective per dtype)."""
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"Unknown metric variable aggregation {aggregation!r}; expected one of {AGGREGATIONS}.")
    if aggregation == "none" or not tensors:
        return [t.detach().clone() for t in tensors]
    results = [None] * len(tensors)
    by_dtype = {}
    for i, tensor in enumerate(tensors):
        by_dtype.setdefault(tensor.dtype, []).append(i)
    for indices in by_dtype.values():
        first = tensors[indices[0]]
        device = _comm_device(first)
        flat = torch.cat([tensors[i].detach().reshape(-1).to(device) for i in indices])
        if aggregation == "only_first_replica":
            dist.broadcast(flat, src=0)
        else:
            dist.all_reduce(flat, op=dist.ReduceOp.SUM)
            if aggregation == "mean":
                flat = flat / dist.get_world_size() if flat.is_floating_point() else flat // dist.get_world_size()
        offset = 0
        for i in indices:
            size = tensors[i].numel()
            results[i] = flat[offset : offset + size].reshape(tensors[i].shape).to(tensors[i].device)
            offset += size
    return results


def _aggregation(variable):
    return getattr(variable, "aggregation", "sum")


def reduced_copies(variables):
    """Copies of ``variables`` combined over processes by their ``aggregation`` (the variables are untouched)."""
    variables = list(variables)
    results = [None] * len(variables)
    groups = {}
    for i, variable in enumerate(variables):
        groups.setdefault(_aggregation(variable), []).append(i)
    for aggregation, indices in groups.items():
        for i, value in zip(indices, _reduced([variables[i] for i in indices], aggregation)):
            results[i] = value
    return results


def reduce_variables(variables):
    """Combine metric state variables over processes in place, each by its ``aggregation``.

    ``"sum"`` (totals, counts, confusion matrices) adds the processes'
    values, ``"mean"`` averages them, ``"only_first_replica"`` takes rank 0's
    and ``"none"`` leaves each process's own.
    """
    variables = list(variables)
    with torch.no_grad():
        for variable, value in zip(variables, reduced_copies(variables)):
            variable.copy_(value)


def sync_metrics(metrics):
    """Make every metric's state the state of all processes together (the same on every process)."""
    from ember.metrics.metric import Metric

    plain, seen = [], set()
    for metric in metrics:
        variables = [v for v in metric.variables if id(v) not in seen]
        if not variables:
            continue  # the same metric listed twice (or held by one already combined): combine once
        seen.update(id(v) for v in metric.variables)
        if type(metric).sync_across_processes is Metric.sync_across_processes:
            plain.extend(variables)
        else:
            metric.sync_across_processes()
    reduce_variables(plain)


def mean_logs(logs):
    """A custom step's ``{name: value}`` logs averaged over processes (non-numeric values kept)."""
    keys = [k for k, v in logs.items() if isinstance(v, (int, float, torch.Tensor)) and not isinstance(v, bool)]
    if not keys:
        return dict(logs)
    values = [torch.as_tensor(logs[k], dtype=torch.float64).detach().cpu().reshape(-1) for k in keys]
    flat = torch.cat(values)
    device = process_group.default_device() if dist.get_backend() == "nccl" else torch.device("cpu")
    flat = flat.to(device)
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat = (flat / dist.get_world_size()).cpu()
    result, offset = dict(logs), 0
    for key, value in zip(keys, values):
        piece = flat[offset : offset + value.numel()]
        result[key] = float(piece[0]) if value.numel() == 1 else piece.numpy()
        offset += value.numel()
    return result


def gather_predictions(arrays, local_indices):
    """Every process's outputs, put back in the original sample order.

    Args:
        arrays: This process's outputs (NumPy arrays, one per model output).
        local_indices: The global sample indices of this process's rows.
    """
    indices = np.concatenate(local_indices) if local_indices else np.zeros(0, dtype=np.int64)
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, (indices, arrays))
    order = np.argsort(np.concatenate([g[0] for g in gathered]), kind="stable")
    return [np.concatenate([g[1][i] for g in gathered])[order] for i in range(len(arrays))]


def backup_state(variables):
    """Metric state to back up: the processes' states combined (every process must call this)."""
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return list(variables)
    return reduced_copies(variables)

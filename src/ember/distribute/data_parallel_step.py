"""DDP around the training forward, and the step wrappers the loop uses when several processes run.

During ``fit`` the model's ``forward`` is routed through a
``DistributedDataParallel`` wrapper while training with gradients on (the
model stays what the user holds; evaluation and prediction run it directly).
A communication hook weights each process's gradients by its share of the
global batch before summing them, so a partial last batch gets exactly the
one-process gradient.
"""

import inspect
import sys
import warnings

import torch
import torch.distributed as dist

from ember.distribute import process_group
from ember.trainer.logs import Logs
from ember.tree import map_structure

__all__ = ["DDPForward", "finish_training", "wrap_step"]

MSG_NO_JIT = (
    "jit_compile=True compiles the whole train step, which data-parallel training cannot use: the "
    "gradients must flow through DistributedDataParallel. Training steps run eagerly (evaluation and "
    "prediction stay compiled). Pass jit_compile=False to silence this warning."
)


# PyTorch renamed DDP's `broadcast_buffers` to `forward_sync_buffers` (same meaning for training forwards).
_BUFFER_SYNC_ARGUMENT = (
    "forward_sync_buffers"
    if "forward_sync_buffers" in inspect.signature(torch.nn.parallel.DistributedDataParallel.__init__).parameters
    else "broadcast_buffers"
)


class _HookState:
    def __init__(self, world_size):
        self.share = 1.0 / world_size


def _weighted_all_reduce(state, bucket):
    """DDP communication hook: gradients × this process's share, summed over processes."""
    tensor = bucket.buffer()
    tensor.mul_(state.share)
    future = dist.all_reduce(tensor, async_op=True).get_future()
    return future.then(lambda done: done.value()[0])


class _Forward(torch.nn.Module):
    """What DDP wraps: the model's own forward, without a second pass through the model's hooks."""

    def __init__(self, model, forward):
        super().__init__()
        self.model = model
        self.run = forward

    def forward(self, *args, **kwargs):
        return self.run(*args, **kwargs)


class DDPForward:
    """Stands in for ``model.forward`` during fit: training calls go through DDP, the rest run plainly.

    ``model(x)`` runs the model's hooks once, then this object, which hands
    the call to DDP; DDP runs the model's original forward.
    """

    def __init__(self, model, strategy):
        self.model = model
        self.strategy = strategy
        self.previous = model.__dict__.get("forward")  # e.g. a torch.compile'd forward
        self.inner = self.previous if self.previous is not None else type(model).forward.__get__(model)
        self.ddp = None
        self.state = _HookState(process_group.world_size())

    def __call__(self, *args, **kwargs):
        if not (self.model.training and torch.is_grad_enabled()):
            return self.inner(*args, **kwargs)
        if self.ddp is None:
            if not any(p.requires_grad for p in self.model.parameters()):
                with torch.no_grad():
                    self.inner(*args, **kwargs)  # a model that creates its weights on its first call
                if not any(p.requires_grad for p in self.model.parameters()):
                    return self.inner(*args, **kwargs)
            self.ddp = self._wrap()
        return self.ddp(*args, **kwargs)

    def _wrap(self):
        device = process_group.default_device()
        ddp = torch.nn.parallel.DistributedDataParallel(
            _Forward(self.model, self.inner),
            device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=self.strategy.find_unused_parameters,
            **{_BUFFER_SYNC_ARGUMENT: self.strategy.broadcast_buffers},
        )
        ddp.register_comm_hook(self.state, _weighted_all_reduce)
        return ddp

    def remove(self, sync_buffers=True):
        """Give the model its own forward back; rank 0's buffers go to every process."""
        if self.previous is None:
            self.model.__dict__.pop("forward", None)
        else:
            self.model.__dict__["forward"] = self.previous
        if self.ddp is not None and sync_buffers:
            for buffer in self.model.buffers():
                dist.broadcast(buffer.data, src=0)
        self.ddp = None


def _metric_state(model):
    return [v for metric in model.metrics for v in metric.variables]


def _step_without_trace(model, step_fn, batch):
    """Run ``step_fn`` on a stand-in batch, then put the metrics back as they were."""
    saved = {id(v): v.detach().clone() for v in _metric_state(model)}
    logs = step_fn(batch)
    with torch.no_grad():
        for metric in model.metrics:
            if any(id(v) not in saved for v in metric.variables):
                metric.reset_state()  # created by this very step
            else:
                for variable in metric.variables:
                    variable.copy_(saved[id(variable)])
    return logs


def _train_gradient_weighting(model, strategy):
    """The object whose ``share``-derived attribute weights this process's gradients in the next step."""
    if strategy.strategy == "fsdp":
        from ember.distribute.fully_sharded import scale_output_gradients

        if "_ember_gradient_scale" not in model.__dict__:
            model.__dict__["_ember_gradient_scale"] = scale_output_gradients(model)
        scale = model.__dict__["_ember_gradient_scale"][0]
        world = process_group.world_size()

        def set_share(share):
            scale.factor = share * world  # FSDP averages over processes

        return set_share
    forward = model.__dict__.get("forward")
    if not isinstance(forward, DDPForward):
        forward = DDPForward(model, strategy)
        model.__dict__["forward"] = forward
    state = forward.state

    def set_share(share):
        state.share = share

    return set_share


def wrap_step(model, step_fn, kind, strategy):
    """``step_fn`` adapted to data-parallel batches (see ``ShardBatch``)."""
    if kind == "train":
        if model.__dict__.get("_step_compiler") is not None and step_fn != model.train_step:
            # A whole-step graph computes gradients with autograd.grad, which DDP cannot see.
            warnings.warn(MSG_NO_JIT, UserWarning, stacklevel=3)
            step_fn = model.train_step
        set_share = _train_gradient_weighting(model, strategy)
        default_share = 1.0 / process_group.world_size()

        def train(batch):
            set_share(getattr(batch, "share", default_share))
            if getattr(batch, "empty", False):
                return _step_without_trace(model, step_fn, batch)  # joins the exchange with zero weight
            return step_fn(batch)

        return train
    if kind == "test":
        # Sharded weights are gathered inside every forward: then every process must run each step.
        forward_everywhere = strategy.strategy == "fsdp"

        def test(batch):
            if getattr(batch, "empty", False):
                if forward_everywhere:
                    return _step_without_trace(model, step_fn, batch)
                return Logs(model.metrics)
            return step_fn(batch)

        return test

    def predict(batch):
        if getattr(batch, "empty", False):
            batch = map_structure(lambda t: t[:0] if hasattr(t, "shape") else t, tuple(batch))
        return step_fn(batch)

    return predict


def finish_training(model):
    """Undo :func:`wrap_step` for training (nothing to do when it was not used).

    Called from ``fit``'s ``finally``: while an exception propagates, no
    collective runs, so a failing process exits at once (the launcher then
    stops the others) instead of waiting for processes that will never come.
    """
    forward = model.__dict__.get("forward")
    if isinstance(forward, DDPForward):
        forward.remove(sync_buffers=sys.exc_info()[0] is None)
    scale = model.__dict__.pop("_ember_gradient_scale", None)
    if scale is not None:
        scale[1].remove()

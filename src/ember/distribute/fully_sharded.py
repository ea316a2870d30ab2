"""``DataParallel(strategy="fsdp")``: weights, gradients and optimizer state sharded over processes.

:meth:`DataParallel.shard` applies PyTorch's ``fully_shard`` (FSDP2) to every
layer that owns weights and then to the model, so each process stores only
its slice of each weight; a layer's full weights are gathered just for its
forward and backward. Gradients are reduce-scattered (averaged) over
processes; to give each process's samples their weight in the global batch
(exact partial last batches, as with DDP), the gradient flowing back from the
model's outputs is scaled by ``world_size × share`` during ``fit``.
"""

import torch
import torch.distributed as dist

from ember.distribute import process_group
from ember.tree import flatten

__all__ = ["is_fully_sharded", "scale_output_gradients", "shard_model"]

MSG_NOT_SHARDED = (
    "DataParallel(strategy='fsdp') needs the model sharded before it is compiled: call "
    "`strategy.shard(model)` right after building it, then create the optimizer, e.g. "
    "model.compile(optimizer=torch.optim.AdamW(model.parameters()), ...)."
)


def is_fully_sharded(model):
    return bool(model.__dict__.get("_ember_fully_sharded", False))


def shard_model(model):
    """Apply ``fully_shard`` to each layer with weights, then to ``model`` (once; returns ``model``)."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    if is_fully_sharded(model) or process_group.world_size() < 2:
        return model
    if not any(True for _ in model.parameters()):
        raise ValueError(
            f"Model {getattr(model, 'name', model)!r} has no weights yet: build it (e.g. start it with "
            "ember.Input(shape=...)) before sharding it."
        )
    device = process_group.default_device()
    if device.type == "cuda":
        model.to(device)
    mesh = init_device_mesh(device.type, (dist.get_world_size(),))
    for module in model.modules():
        if module is not model and any(True for _ in module.parameters(recurse=False)):
            fully_shard(module, mesh=mesh)
    fully_shard(model, mesh=mesh)
    model.__dict__["_ember_fully_sharded"] = True
    return model


class _GradientScale:
    """Forward hook: the outputs' gradients × ``factor`` (set per step) while training."""

    def __init__(self, factor):
        self.factor = factor

    def __call__(self, module, args, outputs):
        if not (module.training and torch.is_grad_enabled()) or self.factor == 1.0:
            return None
        factor = self.factor
        for leaf in flatten(outputs):
            if isinstance(leaf, torch.Tensor) and leaf.requires_grad:
                leaf.register_hook(lambda grad: grad * factor)
        return None


def scale_output_gradients(model):
    """Install the gradient scale on a sharded model; returns ``(scale, handle)``."""
    if not is_fully_sharded(model):
        raise ValueError(MSG_NOT_SHARDED)
    scale = _GradientScale(1.0)
    return scale, model.register_forward_hook(scale)

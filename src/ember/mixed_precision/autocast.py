"""How a layer's dtype policy applies to its computation, the PyTorch way.

A layer with a mixed policy called from outside any other layer (a model in a
train/test/predict step, or a layer called directly) runs under
``torch.autocast(device_type, dtype=compute_dtype)``: matmuls and convolutions
run in the 16-bit dtype while the float32 weights stay float32. A layer whose
policy is not mixed, called inside such a region, leaves autocast for its own
call and computes in its own dtype (e.g. a final ``Dense(..., dtype="float32")``
as Keras recommends). The train/test/predict steps hand the losses and metrics
float32 predictions.
"""

import contextlib
import threading

import torch

from ember.mixed_precision import policy as policy_module
from ember.tree import flatten, map_structure

__all__ = ["float32_outputs", "layer_precision_scope"]

_state = threading.local()
_HALF = (torch.float16, torch.bfloat16)


def _active():
    return getattr(_state, "depth", 0) > 0


def _device_type(args):
    for leaf in flatten(args):
        if isinstance(leaf, torch.Tensor):
            return leaf.device.type
    return "cpu"


@contextlib.contextmanager
def _mixed_scope(device_type, dtype):
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        with torch.autocast(device_type, dtype=dtype):
            yield
    finally:
        _state.depth -= 1


@contextlib.contextmanager
def _full_precision_scope(device_type):
    saved = getattr(_state, "depth", 0)
    _state.depth = 0
    try:
        with torch.autocast(device_type, enabled=False):
            yield
    finally:
        _state.depth = saved


def layer_precision_scope(layer, args):
    """The context a layer call runs in, and its inputs cast to its compute dtype.

    Returns ``(None, args)`` when the call needs nothing (always so while no
    mixed policy has been used in the process).

    Args:
        layer: the layer being called (reads its ``dtype_policy``).
        args: the call's positional arguments.

    Returns:
        ``(context manager or None, args)``.
    """
    policy = layer._dtype_policy
    if not (policy._is_mixed or policy_module._MIXED_USED):
        return None, args  # programs that never use a mixed policy pay only this check
    if policy._is_mixed:
        if _active():
            return None, args
        return _mixed_scope(_device_type(args), policy.torch_compute_dtype), args
    if not policy.compute_dtype.startswith(("float", "bfloat")):
        return None, args
    dtype = policy.torch_compute_dtype
    cast_any = False

    def cast(value):
        # Only to or from 16-bit floats: float32/float64 inputs keep their usual behaviour.
        nonlocal cast_any
        if (
            isinstance(value, torch.Tensor)
            and value.is_floating_point()
            and value.dtype != dtype
            and (value.dtype in _HALF or dtype in _HALF)
        ):
            cast_any = True
            return value.to(dtype)
        return value

    args = map_structure(cast, args)
    if _active():
        return _full_precision_scope(_device_type(args)), args
    if cast_any:
        return contextlib.nullcontext(), args
    return None, args


def float32_outputs(model, outputs):
    """16-bit floating outputs of a model with float32 variables, cast to float32 for losses and metrics."""
    if not policy_module._MIXED_USED:
        return outputs
    policy = getattr(model, "_dtype_policy", None)
    if policy is not None and policy.variable_dtype != "float32":
        return outputs  # a model that is float16/bfloat16 throughout keeps its dtype

    def cast(value):
        if isinstance(value, torch.Tensor) and value.is_floating_point() and value.dtype in (
            torch.float16,
            torch.bfloat16,
        ):
            return value.float()
        return value

    return map_structure(cast, outputs)

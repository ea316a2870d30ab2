"""Shape inference for layer calls on symbolic tensors.

The layer's real ``call`` runs on PyTorch fake tensors (shapes and dtypes, no
storage, no compute), so any layer written with ordinary torch operations gets
shape inference for free. ``None`` dimensions are filled with two different
stand-in sizes; output dimensions that differ between the two runs are
reported as ``None``. If fake tensors cannot run the call (data-dependent
Python control flow), it runs once more on small real zero tensors.
"""

import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from ember.backend.dtypes import standardize_dtype, to_torch_dtype
from ember.backend.scope import symbolic_scope
from ember.graph.keras_tensor import KerasTensor
from ember.tree import flatten, map_structure

# Stand-in sizes for unknown dimensions: two primes, large enough for typical kernels.
_STAND_INS = (13, 17)


def _materialize(structure, size, make):
    def leaf(value):
        if isinstance(value, KerasTensor):
            shape = tuple(size if d is None else d for d in value.shape)
            return make(shape, to_torch_dtype(value.dtype))
        return value

    return map_structure(leaf, structure)


def _run(fn, args, kwargs, size, fake):
    if fake:
        mode = FakeTensorMode(allow_non_fake_inputs=True)
        with mode, symbolic_scope(), torch.no_grad():
            real_args = _materialize(args, size, lambda s, dt: torch.empty(s, dtype=dt))
            real_kwargs = _materialize(kwargs, size, lambda s, dt: torch.empty(s, dtype=dt))
            return fn(*real_args, **real_kwargs)
    with symbolic_scope(), torch.no_grad():
        real_args = _materialize(args, size, lambda s, dt: torch.zeros(s, dtype=dt))
        real_kwargs = _materialize(kwargs, size, lambda s, dt: torch.zeros(s, dtype=dt))
        return fn(*real_args, **real_kwargs)


def _to_spec(first, second):
    flat_first, flat_second = flatten(first), flatten(second)
    specs = []
    for a, b in zip(flat_first, flat_second):
        if isinstance(a, torch.Tensor):
            shape = tuple(da if da == db else None for da, db in zip(a.shape, b.shape))
            specs.append(KerasTensor(shape, standardize_dtype(a.dtype)))
        else:
            specs.append(a)
    position = iter(specs)
    return map_structure(lambda _: next(position), first)


def compute_output_spec(fn, args, kwargs, owner="layer"):
    """Run ``fn(*args, **kwargs)`` on stand-ins for the KerasTensors in the arguments.

    Returns the output structure with every tensor replaced by a KerasTensor.
    """
    has_unknown = any(
        d is None for t in flatten((args, kwargs)) if isinstance(t, KerasTensor) for d in t.shape
    )
    errors = []
    for fake in (True, False):
        try:
            first = _run(fn, args, kwargs, _STAND_INS[0], fake)
            second = _run(fn, args, kwargs, _STAND_INS[1], fake) if has_unknown else first
            return _to_spec(first, second)
        except Exception as error:  # noqa: BLE001 - reported below with both attempts
            errors.append(error)
    raise ValueError(
        f"Could not infer the output shape of {owner} on symbolic inputs "
        f"{[t for t in flatten((args, kwargs)) if isinstance(t, KerasTensor)]}. Its call failed "
        f"with: {errors[-1]!r}. Check that the input shapes are right for this layer, or define "
        f"`compute_output_shape(input_shape)` on the layer."
    ) from errors[-1]

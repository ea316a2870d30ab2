"""``model.export``: an inference artifact for serving, without ember at load time.

Formats:

* ``"torch"`` (default): ``torch.export`` program saved with ``torch.export.save``
  (``.pt2``), with a dynamic batch dimension; load it with ``torch.export.load(path).module()``.
* ``"torchscript"``: ``torch.jit.trace`` saved with ``torch.jit.save``; load with ``torch.jit.load``.
* ``"onnx"``: ``torch.onnx.export`` (needs the ``onnx`` package, and ``onnxscript`` for
  PyTorch's current exporter).
"""

import os
import tempfile

import torch

from ember.tree import flatten, pack_sequence_as

__all__ = ["export_model"]

_FORMATS = ("torch", "torchscript", "onnx")
_EXAMPLE_BATCH = 2


def _example_inputs(model, input_signature):
    if input_signature is not None:
        return _from_signature(input_signature)
    graph = getattr(model, "_graph", None)
    if graph is None:
        raise ValueError(
            f"Cannot infer example inputs for model {model.name!r} (it is not a functional model built from "
            "ember.Input). Pass `input_signature=`, e.g. input_signature=[(None, 784)] or example tensors."
        )
    leaves = []
    for shape, dtype in graph.input_specs:
        leaves.append(torch.zeros(tuple(_EXAMPLE_BATCH if d is None else d for d in shape), dtype=dtype))
    return pack_sequence_as(graph.inputs, leaves)


def _from_signature(signature):
    """Example tensors from shapes (``None`` = batch) or tensors, nested in lists/tuples/dicts."""
    if isinstance(signature, torch.Tensor):
        return signature
    if isinstance(signature, (tuple, list)) and all(d is None or isinstance(d, int) for d in signature):
        return torch.zeros(tuple(_EXAMPLE_BATCH if d is None else d for d in signature))
    if isinstance(signature, dict):
        return {k: _from_signature(v) for k, v in signature.items()}
    if isinstance(signature, (tuple, list)):
        return type(signature)(_from_signature(v) for v in signature)
    raise TypeError(f"`input_signature` entries must be shapes or tensors, got {signature!r}.")


def _atomic_target(path):
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    # Same directory (so the final rename is atomic); same extension (torch.export checks it).
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part" + os.path.splitext(path)[1])
    os.close(fd)
    return tmp


def export_model(model, filepath, format="torch", verbose=True, input_signature=None):
    """Write ``model`` for inference to ``filepath`` in ``format``; see the module docstring."""
    if format not in _FORMATS:
        raise ValueError(f"Unknown export format {format!r}; expected one of {list(_FORMATS)}.")
    example = _example_inputs(model, input_signature)
    was_training = model.training
    model.train(False)
    tmp = _atomic_target(filepath)
    try:
        with torch.no_grad():
            model(example)  # builds lazily created weights for real before any tracing
            if format == "torch":
                batch = torch.export.Dim("batch", min=1)
                dynamic = ((_batch_dims(example, batch),),)
                program = torch.export.export(model, (example,), dynamic_shapes=dynamic)
                torch.export.save(program, tmp)
            elif format == "torchscript":
                traced = torch.jit.trace(model, (example,), check_trace=False)
                torch.jit.save(traced, tmp)
            else:
                _require_onnx()
                torch.onnx.export(model, (example,), tmp, dynamo=False, input_names=None)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    finally:
        model.train(was_training)
    if verbose:
        print(f"Saved artifact at '{filepath}' (format={format!r}).")
    return filepath


def _batch_dims(example, batch):
    """dynamic_shapes for one positional argument: dimension 0 of every tensor is the batch."""
    leaves = [{0: batch} for _ in flatten(example)]
    return pack_sequence_as(example, leaves)


def _require_onnx():
    try:
        import onnx  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "Exporting to ONNX needs the `onnx` package: pip install onnx (or use format='torch' / "
            "'torchscript', which need nothing beyond PyTorch)."
        ) from error

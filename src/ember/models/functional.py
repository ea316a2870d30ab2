"""The functional graph: from symbolic inputs/outputs to an ordered list of layer calls.

``FunctionalGraph(inputs, outputs)`` walks node links backwards from the
outputs, orders the nodes so that every node comes after its parents (deepest
first, ties by creation order, as Keras does), and runs them on real tensors.
"""

import numpy as np
import torch

from ember.backend.dtypes import to_torch_dtype
from ember.backend.strings import to_string_array
from ember.graph.keras_tensor import KerasTensor
from ember.tree import flatten, map_structure, pack_sequence_as

__all__ = ["FunctionalGraph"]


def _check_symbolic(structure, what):
    leaves = flatten(structure)
    if not leaves:
        raise ValueError(f"Model `{what}` is empty; pass at least one tensor from ember.Input.")
    for leaf in leaves:
        if not isinstance(leaf, KerasTensor):
            raise TypeError(
                f"Model `{what}` must be tensors created from ember.Input (and layers called on "
                f"them), got {type(leaf).__name__}: {leaf!r}."
            )


class _Step:
    """One node, prepared for fast execution."""

    __slots__ = ("layer", "single_input", "args", "kwargs", "outputs", "single_output")

    def __init__(self, node):
        self.layer = node.layer
        args, kwargs = node.call_args, node.call_kwargs
        # Tensors (not their ids) are kept so a deep-copied graph stays consistent.
        self.single_input = args[0] if len(args) == 1 and isinstance(args[0], KerasTensor) and not kwargs else None
        self.args = args
        self.kwargs = kwargs
        self.outputs = node.output_tensors
        self.single_output = isinstance(node.outputs, KerasTensor)


class FunctionalGraph:
    """Ordered layer calls between ``inputs`` and ``outputs`` (nested structures of KerasTensors).

    ``extras`` are further symbolic tensors computed on every run but not
    returned as outputs (the model's symbolic ``add_loss``/``add_metric`` values).
    """

    def __init__(self, inputs, outputs, extras=()):
        _check_symbolic(inputs, "inputs")
        _check_symbolic(outputs, "outputs")
        self.inputs = inputs
        self.outputs = outputs
        self.flat_inputs = flatten(inputs)
        self.flat_outputs = flatten(outputs)
        self.extras = list(extras)
        if self.extras:
            _check_symbolic(self.extras, "add_loss/add_metric values")
        for tensor in self.flat_inputs:
            layer = tensor.history[0] if tensor.history else None
            if layer is None or type(layer).__name__ != "InputLayer":
                raise ValueError(
                    f"Model inputs must come directly from ember.Input(...), got {tensor!r}, which is "
                    "the output of another layer."
                )
        self.nodes = self._ordered_nodes()
        self.layers = []
        for node in self.nodes:
            if node.layer not in self.layers:
                self.layers.append(node.layer)
        # Inputs that feed nothing still belong to the model.
        for tensor in self.flat_inputs:
            if tensor.history[0] not in self.layers:
                self.layers.insert(0, tensor.history[0])
        self.steps = [_Step(node) for node in self.nodes if node.input_tensors]
        self.input_names = [t.history[0].name for t in self.flat_inputs]
        self.input_specs = [
            (t.shape, t.dtype if t.dtype == "string" else to_torch_dtype(t.dtype)) for t in self.flat_inputs
        ]
        self.output_names = [t.history[0].name for t in self.flat_outputs]
        if isinstance(outputs, dict):
            self.output_names = list(outputs.keys())

    def _ordered_nodes(self):
        depth, nodes = {}, {}
        input_ids = {id(t) for t in self.flat_inputs}
        stack = [(t.history[0]._inbound_nodes[t.history[1]], 0) for t in self.flat_outputs + self.extras]
        while stack:
            node, d = stack.pop()
            if depth.get(id(node), -1) >= d:
                continue
            if d > 10_000:
                raise ValueError("The functional graph has a cycle or is too deep (over 10,000 layers).")
            depth[id(node)] = d
            nodes[id(node)] = node
            for tensor in node.input_tensors:
                if tensor.history is None:
                    raise ValueError(f"Tensor {tensor!r} was not produced by a layer or ember.Input.")
                layer, node_index, _ = tensor.history
                parent = layer._inbound_nodes[node_index]
                if not parent.input_tensors and id(tensor) not in input_ids:
                    raise ValueError(
                        f"The model's outputs depend on input {tensor.name!r}, which is not in the "
                        f"model's `inputs`. Add it to `inputs` (given: "
                        f"{[t.name for t in self.flat_inputs]})."
                    )
                stack.append((parent, d + 1))
        return sorted(nodes.values(), key=lambda n: (-depth[id(n)], n.order))

    # ------------------------------------------------------------------ execution
    def standardize_inputs(self, inputs, model_name):
        """Match user inputs to the graph's inputs; cast and check shapes. Returns a flat list."""
        n = len(self.flat_inputs)
        if isinstance(inputs, dict):
            missing = [name for name in self.input_names if name not in inputs]
            if missing:
                if n == 1 and len(inputs) == 1:
                    flat = list(inputs.values())
                else:
                    raise ValueError(
                        f"Model {model_name!r} expects inputs named {self.input_names}; the dict given "
                        f"has keys {list(inputs.keys())} (missing {missing})."
                    )
            else:
                flat = [inputs[name] for name in self.input_names]
        elif isinstance(inputs, (list, tuple)) and n > 1 or isinstance(inputs, (list, tuple)) and len(inputs) == 1:
            flat = list(inputs)
        else:
            flat = [inputs]
        if len(flat) != n:
            raise ValueError(
                f"Model {model_name!r} expects {n} input(s) {self.input_names}, but got {len(flat)}."
            )
        out = []
        for i, (value, (shape, dtype)) in enumerate(zip(flat, self.input_specs)):
            if dtype == "string":
                value = to_string_array(value, f"input {self.input_names[i]!r}")  # stays a NumPy array
            elif not isinstance(value, torch.Tensor):
                value = torch.as_tensor(np.asarray(value))
            if dtype != "string" and value.dtype is not dtype:
                value = value.to(dtype)
            if value.ndim == len(shape) - 1 and shape[-1] == 1:
                value = value[..., None]  # (N,) for an input of shape (None, 1), as Keras allows
            elif value.ndim == len(shape) + 1 and value.shape[-1] == 1:
                value = value.squeeze(-1)
            if value.ndim != len(shape) or any(
                s is not None and s != v for s, v in zip(shape, value.shape)
            ):
                raise ValueError(
                    f"Input {i} ({self.input_names[i]!r}) of model {model_name!r} is incompatible with "
                    f"the model: expected shape {shape}, got {tuple(value.shape)}. Reshape the data "
                    f"or change the model's ember.Input(shape=...)."
                )
            out.append(value)
        return out

    def run(self, flat_inputs):
        """Outputs (nested like ``outputs``) and the list of ``extras`` values."""
        values = {id(t): v for t, v in zip(self.flat_inputs, flat_inputs)}
        for step in self.steps:
            if step.single_input is not None:
                result = step.layer(values[id(step.single_input)])
            else:
                lookup = lambda v: values[id(v)] if isinstance(v, KerasTensor) else v  # noqa: E731
                args = map_structure(lookup, step.args)
                kwargs = map_structure(lookup, step.kwargs)
                result = step.layer(*args, **kwargs)
            if step.single_output:
                values[id(step.outputs[0])] = result
            else:
                for tensor, value in zip(step.outputs, flatten(result)):
                    values[id(tensor)] = value
        if isinstance(self.outputs, KerasTensor):
            outputs = values[id(self.outputs)]  # one output: nothing to re-nest
        else:
            outputs = pack_sequence_as(self.outputs, [values[id(t)] for t in self.flat_outputs])
        if self.extras:
            return outputs, [values[id(t)] for t in self.extras]
        return outputs, ()

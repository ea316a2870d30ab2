"""``Node``: one call of a layer inside a functional graph."""

import itertools

from ember.graph.keras_tensor import KerasTensor
from ember.tree import flatten

_creation_order = itertools.count()


class Node:
    """Records ``outputs = layer(*call_args, **call_kwargs)`` on symbolic tensors.

    ``input_tensors`` lists the KerasTensors found in the arguments (in
    flattening order); everything else in the arguments is a constant captured
    as-is and passed again on every real call.
    """

    __slots__ = ("layer", "call_args", "call_kwargs", "outputs", "input_tensors", "output_tensors", "order")

    def __init__(self, layer, call_args, call_kwargs, outputs):
        self.layer = layer
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.outputs = outputs
        self.input_tensors = [t for t in flatten((call_args, call_kwargs)) if isinstance(t, KerasTensor)]
        self.output_tensors = [t for t in flatten(outputs) if isinstance(t, KerasTensor)]
        self.order = next(_creation_order)

    @property
    def parent_nodes(self):
        parents = []
        for tensor in self.input_tensors:
            if tensor.history is not None:
                layer, node_index, _ = tensor.history
                node = layer._inbound_nodes[node_index]
                if node not in parents:
                    parents.append(node)
        return parents

    @property
    def is_input(self):
        return not self.input_tensors

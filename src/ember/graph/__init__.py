"""The functional-graph core: symbolic tensors, nodes and shape inference.

A ``KerasTensor`` is a placeholder with a shape (``None`` for unknown
dimensions) and a dtype. Calling a layer on KerasTensors records one ``Node``
(one layer call: its arguments and outputs) and returns new KerasTensors whose
``history`` points back at ``(layer, node_index, tensor_index)``. A functional
model walks these links backwards from its outputs to its inputs.

This package sits below ``layers`` and ``models`` so both can use it without
import cycles.
"""

from ember.graph.keras_tensor import KerasTensor, any_symbolic, is_keras_tensor
from ember.graph.node import Node
from ember.graph.tracing import compute_output_spec

__all__ = ["KerasTensor", "Node", "any_symbolic", "compute_output_spec", "is_keras_tensor"]

"""Regularizers: penalties on weights or activations added to the training loss.

A regularizer is a callable ``x -> scalar tensor``. Layers take them as
``kernel_regularizer``, ``bias_regularizer`` and ``activity_regularizer``
(a name such as ``"l2"``, a config dict or an object); their values appear
in ``layer.losses`` / ``model.losses`` and ``fit`` adds them to the loss.
Weights are seen in Keras's layout (a Conv2D kernel is
``(rows, cols, input_depth, filters)``).
"""

from ember.regularizers.base import Regularizer
from ember.regularizers.norm_penalties import L1, L1L2, L2
from ember.regularizers.orthogonal import OrthogonalRegularizer
from ember.regularizers.registry import ALL_REGULARIZERS, deserialize, get, serialize

# Keras also exposes every regularizer class under its snake_case name.
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

__all__ = [
    "ALL_REGULARIZERS",
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "serialize",
]

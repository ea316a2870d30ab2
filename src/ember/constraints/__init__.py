"""Weight constraints: projections ``w -> w`` the optimizer applies after each update.

Layers take them as ``kernel_constraint`` and ``bias_constraint`` (a name such
as ``"max_norm"``, a config dict or an object). Weights are given to a
constraint in Keras's layout (a Conv2D kernel is
``(rows, cols, input_depth, filters)``), so ``axis`` means what it means in Keras.
"""

from ember.constraints.base import Constraint
from ember.constraints.norms import MaxNorm, MinMaxNorm, NonNeg, UnitNorm
from ember.constraints.registry import ALL_CONSTRAINTS, deserialize, get, serialize

# Keras also exposes every constraint class under its snake_case name.
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

__all__ = [
    "ALL_CONSTRAINTS",
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]

"""Activation functions on ``torch.Tensor`` with Keras's names, arguments and numerics.

Each function is a thin call into ``torch`` / ``torch.nn.functional`` kernels
where the math is identical. ``get`` turns a name (``"relu"``), a callable or
``None`` into a function; ``serialize`` turns a function back into its name.
"""

from ember.activations.gated import gelu, glu, hard_silu, hard_swish, mish, silu, swish
from ember.activations.normalizing import log_softmax, softmax, sparsemax
from ember.activations.registry import ALL_ACTIVATIONS, deserialize, get, serialize
from ember.activations.rectifiers import celu, elu, leaky_relu, relu, relu6, selu, softplus, sparse_plus, squareplus
from ember.activations.shrinkage import hard_shrink, soft_shrink, tanh_shrink, threshold
from ember.activations.squashing import (
    exponential,
    hard_sigmoid,
    hard_tanh,
    linear,
    log_sigmoid,
    sigmoid,
    softsign,
    sparse_sigmoid,
    tanh,
)

__all__ = [
    "ALL_ACTIVATIONS",
    "celu",
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh",
    "tanh_shrink",
    "threshold",
]

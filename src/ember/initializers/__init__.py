"""Weight initializers: callables ``(shape, dtype=None) -> torch.Tensor`` with Keras's numerics.

Shapes follow Keras's array layouts (a Dense kernel is ``(in, out)``, a
Conv2D kernel ``(kh, kw, in, out)``), which decide the fans used by the
variance-scaling family.
"""

from ember.initializers.base import Initializer
from ember.initializers.constants import Constant, Identity, Ones, Zeros
from ember.initializers.random import Orthogonal, RandomNormal, RandomUniform, TruncatedNormal
from ember.initializers.registry import ALL_INITIALIZERS, deserialize, get, serialize
from ember.initializers.scaling import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    VarianceScaling,
)

# Keras also exposes every initializer class under its snake_case name.
constant = Constant
glorot_normal = GlorotNormal
glorot_uniform = GlorotUniform
he_normal = HeNormal
he_uniform = HeUniform
identity = Identity
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
ones = Ones
orthogonal = Orthogonal
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
zeros = Zeros

__all__ = [
    "ALL_INITIALIZERS",
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "constant",
    "deserialize",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "serialize",
    "truncated_normal",
    "variance_scaling",
    "zeros",
]

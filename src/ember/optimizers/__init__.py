"""Optimizers with Keras 3's semantics, running on ``torch._foreach_*`` kernels."""

from ember.optimizers.adam import Adam as Adam
from ember.optimizers.adam import adam_update as adam_update
from ember.optimizers.base_optimizer import Optimizer as Optimizer
from ember.optimizers.registry import deserialize as deserialize
from ember.optimizers.registry import get as get
from ember.optimizers.registry import serialize as serialize
from ember.optimizers.rmsprop import RMSprop as RMSprop
from ember.optimizers.rmsprop import rmsprop_update as rmsprop_update
from ember.optimizers.sgd import SGD as SGD
from ember.optimizers.sgd import sgd_update as sgd_update

__all__ = [
    "Optimizer",
    "SGD",
    "RMSprop",
    "Adam",
    "sgd_update",
    "rmsprop_update",
    "adam_update",
    "get",
    "serialize",
    "deserialize",
]

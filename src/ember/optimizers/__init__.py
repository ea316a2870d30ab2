"""Optimizers with Keras 3's semantics, running on ``torch._foreach_*`` kernels."""

from ember.optimizers.adadelta import Adadelta as Adadelta
from ember.optimizers.adadelta import adadelta_update as adadelta_update
from ember.optimizers.adafactor import Adafactor as Adafactor
from ember.optimizers.adafactor import adafactor_update as adafactor_update
from ember.optimizers.adagrad import Adagrad as Adagrad
from ember.optimizers.adagrad import adagrad_update as adagrad_update
from ember.optimizers.adam import Adam as Adam
from ember.optimizers.adam import adam_update as adam_update
from ember.optimizers.adamax import Adamax as Adamax
from ember.optimizers.adamax import adamax_update as adamax_update
from ember.optimizers.adamw import AdamW as AdamW
from ember.optimizers.base_optimizer import Optimizer as Optimizer
from ember.optimizers.ftrl import Ftrl as Ftrl
from ember.optimizers.ftrl import ftrl_update as ftrl_update
from ember.optimizers.lion import Lion as Lion
from ember.optimizers.lion import lion_update as lion_update
from ember.optimizers.loss_scale_optimizer import LossScaleOptimizer as LossScaleOptimizer
from ember.optimizers.nadam import Nadam as Nadam
from ember.optimizers.nadam import nadam_update as nadam_update
from ember.optimizers import schedules as schedules
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
    "AdamW",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "Nadam",
    "Ftrl",
    "Lion",
    "Adafactor",
    "LossScaleOptimizer",
    "sgd_update",
    "rmsprop_update",
    "adam_update",
    "adagrad_update",
    "adadelta_update",
    "adamax_update",
    "nadam_update",
    "ftrl_update",
    "lion_update",
    "adafactor_update",
    "get",
    "schedules",
    "serialize",
    "deserialize",
]

"""Learning-rate schedules, as ``keras.optimizers.schedules``.

Pass a schedule as an optimizer's ``learning_rate``; the optimizer calls it with
its completed-step count (a Python ``int``) before each update. Each schedule's
formula is a pure function (``exponential_decay``, ...) that also accepts a
tensor of steps.
"""

from ember.optimizers.schedules.cosine_decay import CosineDecay as CosineDecay
from ember.optimizers.schedules.cosine_decay import CosineDecayRestarts as CosineDecayRestarts
from ember.optimizers.schedules.cosine_decay import cosine_decay as cosine_decay
from ember.optimizers.schedules.cosine_decay import cosine_decay_restarts as cosine_decay_restarts
from ember.optimizers.schedules.exponential_decay import ExponentialDecay as ExponentialDecay
from ember.optimizers.schedules.exponential_decay import exponential_decay as exponential_decay
from ember.optimizers.schedules.inverse_time_decay import InverseTimeDecay as InverseTimeDecay
from ember.optimizers.schedules.inverse_time_decay import inverse_time_decay as inverse_time_decay
from ember.optimizers.schedules.learning_rate_schedule import LearningRateSchedule as LearningRateSchedule
from ember.optimizers.schedules.piecewise_constant_decay import PiecewiseConstantDecay as PiecewiseConstantDecay
from ember.optimizers.schedules.piecewise_constant_decay import piecewise_constant_decay as piecewise_constant_decay
from ember.optimizers.schedules.polynomial_decay import PolynomialDecay as PolynomialDecay
from ember.optimizers.schedules.polynomial_decay import polynomial_decay as polynomial_decay
from ember.optimizers.schedules.registry import deserialize as deserialize
from ember.optimizers.schedules.registry import get as get
from ember.optimizers.schedules.registry import serialize as serialize

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "exponential_decay",
    "piecewise_constant_decay",
    "polynomial_decay",
    "inverse_time_decay",
    "cosine_decay",
    "cosine_decay_restarts",
    "serialize",
    "deserialize",
    "get",
]

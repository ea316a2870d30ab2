"""Losses: ``Loss`` subclasses and the per-sample functions they wrap, as ``keras.losses``."""

from ember.losses.loss import Loss, LossFunctionWrapper
from ember.losses.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
)
from ember.losses.registry import deserialize, get, serialize
from ember.losses.regression import MeanAbsoluteError, MeanSquaredError, mean_absolute_error, mean_squared_error

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "deserialize",
    "get",
    "mean_absolute_error",
    "mean_squared_error",
    "serialize",
    "sparse_categorical_crossentropy",
]

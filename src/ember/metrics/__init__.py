"""Metrics: ``Metric`` subclasses with on-device state, and the functions they average, as ``keras.metrics``."""

from ember.losses.probabilistic import binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy
from ember.losses.regression import mean_absolute_error, mean_squared_error
from ember.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)
from ember.metrics.metric import Metric
from ember.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)
from ember.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from ember.metrics.registry import deserialize, get, serialize
from ember.metrics.regression_metrics import MeanAbsoluteError, MeanSquaredError

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "Mean",
    "MeanAbsoluteError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "Metric",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "Sum",
    "accuracy",
    "binary_accuracy",
    "binary_crossentropy",
    "categorical_accuracy",
    "categorical_crossentropy",
    "deserialize",
    "get",
    "mean_absolute_error",
    "mean_squared_error",
    "serialize",
    "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy",
]

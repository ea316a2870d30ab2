"""The public surface of ``ember.metrics`` and its docstring examples."""

import doctest
import importlib

import pytest

from ember import losses, metrics

EXPECTED = [
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


def test_exported_names():
    assert sorted(metrics.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(metrics, name) is not None


def test_loss_functions_are_shared_with_losses():
    for name in ["mean_squared_error", "mean_absolute_error", "binary_crossentropy", "categorical_crossentropy",
                 "sparse_categorical_crossentropy"]:
        assert getattr(metrics, name) is getattr(losses, name)


@pytest.mark.parametrize(
    "module",
    ["metric", "reduction_metrics", "accuracy_metrics", "regression_metrics", "probabilistic_metrics", "registry"],
)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(f"ember.metrics.{module}"))
    assert result.attempted > 0
    assert result.failed == 0

"""The public surface of ``ember.losses`` and its docstring examples."""

import doctest
import importlib

import pytest

from ember import losses

EXPECTED = [
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


def test_exported_names():
    assert sorted(losses.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(losses, name) is not None


@pytest.mark.parametrize("module", ["loss", "regression", "probabilistic", "registry"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(f"ember.losses.{module}"))
    assert result.attempted > 0
    assert result.failed == 0

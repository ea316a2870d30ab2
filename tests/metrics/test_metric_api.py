"""The public surface of ``ember.metrics`` (names are snapshotted in tests/test_public_api.py) and its docstrings."""

import doctest
import importlib

import pytest

from ember import losses, metrics

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

"""The public surface of ``ember.losses`` and its docstring examples."""

import doctest
import importlib

import pytest

from ember import losses


@pytest.mark.parametrize(
    "module",
    [
        "loss",
        "regression",
        "probabilistic",
        "registry",
        "robust",
        "cosine_similarity",
        "focal",
        "distributional",
        "hinge",
        "overlap",
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(f"ember.losses.{module}"))
    assert result.attempted > 0
    assert result.failed == 0

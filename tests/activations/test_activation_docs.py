"""The docstring examples in ``ember.activations`` run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = ["rectifiers", "gated", "squashing", "shrinkage", "normalizing", "registry"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(f"ember.activations.{module}"))
    assert result.attempted > 0
    assert result.failed == 0

"""The docstring examples in ``ember.initializers`` run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = ["base", "constants", "random", "scaling", "registry"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(f"ember.initializers.{module}"))
    assert result.attempted > 0
    assert result.failed == 0

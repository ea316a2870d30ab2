"""Shared test configuration.

Keras 3 is the test-only oracle for numerics, names and defaults; it always runs
on its PyTorch backend here.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def keras():
    """The Keras 3 oracle (torch backend)."""
    import keras as keras_module

    assert keras_module.backend.backend() == "torch"
    return keras_module

"""set_random_seed makes a whole training run repeat exactly."""

import doctest
import random

import numpy as np
import pytest

import ember
from ember.utils import random as random_module


def _run():
    ember.utils.set_random_seed(42)
    model = ember.Sequential([ember.Input(shape=(4,)), ember.layers.Dense(8, activation="relu"),
                              ember.layers.Dropout(0.5), ember.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.rand(64, 4).astype("float32")
    history = model.fit(x, x.sum(1, keepdims=True), epochs=2, batch_size=8, verbose=0)
    return history.history["loss"], [w.copy() for w in model.get_weights()], random.random()


def test_runs_repeat_exactly():
    first, second = _run(), _run()
    assert first[0] == second[0]
    for a, b in zip(first[1], second[1]):
        np.testing.assert_array_equal(a, b)
    assert first[2] == second[2]


def test_bad_seed():
    with pytest.raises(ValueError, match="non-negative integer"):
        ember.utils.set_random_seed(-1)


def test_docstring():
    assert doctest.testmod(random_module).failed == 0

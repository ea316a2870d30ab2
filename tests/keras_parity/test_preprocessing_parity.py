"""Fit-level parity of models that start with preprocessing layers."""

import numpy as np

from keras_parity.harness import assert_fit_matches_keras

RNG = np.random.default_rng(3)


def _compile(lib):
    return {"optimizer": lib.optimizers.Adam(learning_rate=0.01), "loss": "mse", "metrics": ["mae"]}


def test_normalization_rescaling_dense_fit_matches_keras():
    x = (RNG.standard_normal((32, 4)) * 3 + 2).astype("float32")
    y = RNG.standard_normal((32, 1)).astype("float32")
    mean, variance = x.mean(0), x.var(0)

    def make(lib):
        inputs = lib.Input(shape=(4,))
        h = lib.layers.Normalization(mean=mean, variance=variance)(inputs)
        h = lib.layers.Rescaling(0.5, offset=0.1)(h)
        return lib.Model(inputs, lib.layers.Dense(1)(h))

    assert_fit_matches_keras(make, _compile, x, y)


def test_masking_recurrent_fit_matches_keras():
    x = RNG.standard_normal((24, 5, 3)).astype("float32")
    x[::2, 3:] = 0.0  # padded tails, skipped through the mask
    y = RNG.standard_normal((24, 2)).astype("float32")

    def make(lib):
        inputs = lib.Input(shape=(5, 3))
        h = lib.layers.SimpleRNN(4)(lib.layers.Masking()(inputs))
        return lib.Model(inputs, lib.layers.Dense(2)(h))

    assert_fit_matches_keras(make, _compile, x, y)

"""fit parity with Keras 3 for recurrent models: Embedding (with a padding mask) into LSTM / GRU."""

import numpy as np
import pytest

from keras_parity.harness import assert_fit_matches_keras


def _data(n=32, steps=6, vocab=9, seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, vocab, (n, steps))
    lengths = rng.integers(2, steps + 1, n)
    tokens[np.arange(steps)[None, :] >= lengths[:, None]] = 0  # right padding
    labels = (tokens.sum(1) % 3).astype("int64")
    return tokens, labels


@pytest.mark.parametrize("recurrent", ["LSTM", "GRU", "BidirectionalSimpleRNN"])
def test_embedding_rnn_classifier_fit_matches_keras(recurrent):
    x, y = _data()

    def make(lib):
        inputs = lib.Input(shape=(6,), dtype="int32")
        h = lib.layers.Embedding(9, 4, mask_zero=True)(inputs)
        if recurrent == "BidirectionalSimpleRNN":
            h = lib.layers.Bidirectional(lib.layers.SimpleRNN(5))(h)
        else:
            h = getattr(lib.layers, recurrent)(5)(h)
        outputs = lib.layers.Dense(3, activation="softmax")(h)
        return lib.Model(inputs, outputs)

    def compile_kwargs(lib):
        return {
            "optimizer": lib.optimizers.Adam(0.01),
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
        }

    assert_fit_matches_keras(make, compile_kwargs, x, y, epochs=2, batch_size=8)


def test_unmasked_lstm_sequence_regression_fit_matches_keras():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((24, 5, 3)).astype("float32")
    y = rng.standard_normal((24, 5, 2)).astype("float32")

    def make(lib):
        inputs = lib.Input(shape=(5, 3))
        h = lib.layers.LSTM(4, return_sequences=True)(inputs)
        return lib.Model(inputs, lib.layers.TimeDistributed(lib.layers.Dense(2))(h))

    def compile_kwargs(lib):
        return {"optimizer": lib.optimizers.SGD(0.1), "loss": "mse", "metrics": ["mae"]}

    assert_fit_matches_keras(make, compile_kwargs, x, y, epochs=2, batch_size=8)


def test_sequential_masked_sequence_loss_fit_matches_keras():
    """return_sequences output carries the padding mask, so padded steps are left out of the loss."""
    x, _ = _data(n=24, seed=2)
    y = np.random.default_rng(3).standard_normal((24, 6, 1)).astype("float32")

    def make(lib):
        return lib.Sequential(
            [
                lib.Input(shape=(6,), dtype="int32"),
                lib.layers.Embedding(9, 3, mask_zero=True),
                lib.layers.GRU(4, return_sequences=True),
                lib.layers.LSTM(1, return_sequences=True, activation="linear"),
            ]
        )

    def compile_kwargs(lib):
        return {"optimizer": lib.optimizers.Adam(0.01), "loss": "mse"}

    assert_fit_matches_keras(make, compile_kwargs, x, y, epochs=2, batch_size=8)

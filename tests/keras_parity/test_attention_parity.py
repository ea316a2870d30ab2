"""Fit parity for attention layers: the same small model trained in ember and in Keras 3."""

import numpy as np

from keras_parity.harness import assert_fit_matches_keras


def _data(n=32, steps=5, features=4):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((n, steps, features)).astype("float32")
    y = (x[:, :, :2].mean(axis=(1, 2)) > 0).astype("float32")[:, None]
    return x, y


def _compile(lib):
    return {"optimizer": lib.optimizers.Adam(learning_rate=0.01), "loss": "binary_crossentropy", "metrics": ["accuracy"]}


def test_multi_head_attention_fit_matches_keras():
    def make(lib):
        inputs = lib.Input(shape=(5, 4))
        h = lib.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")(inputs, inputs, use_causal_mask=True)
        h = lib.layers.GlobalAveragePooling1D()(h)
        return lib.Model(inputs, lib.layers.Dense(1, activation="sigmoid")(h))

    x, y = _data()
    assert_fit_matches_keras(make, _compile, x, y, epochs=2, batch_size=8)


def test_attention_layers_fit_matches_keras():
    def make(lib):
        inputs = lib.Input(shape=(5, 4))
        a = lib.layers.Attention(use_scale=True, score_mode="concat")([inputs, inputs])
        b = lib.layers.AdditiveAttention()([inputs, inputs])
        h = lib.layers.GlobalAveragePooling1D()(lib.layers.concatenate([a, b]))
        return lib.Model(inputs, lib.layers.Dense(1, activation="sigmoid")(h))

    x, y = _data()
    assert_fit_matches_keras(make, _compile, x, y, epochs=2, batch_size=8)

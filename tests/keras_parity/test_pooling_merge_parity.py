"""Differential fit: a small conv net through pooling, reshaping and merge layers, trained in ember and Keras 3."""

import numpy as np

from keras_parity.harness import assert_fit_matches_keras


def _make(lib):
    L = lib.layers
    inputs = lib.Input(shape=(6, 6, 2), name="image")
    h = L.Conv2D(3, 3, padding="same", activation="tanh", name="conv")(inputs)
    a = L.MaxPooling2D(name="max")(h)  # (3, 3, 3)
    b = L.AveragePooling2D(3, strides=1, padding="same", name="avg")(L.ZeroPadding2D(1, name="pad")(a))
    b = L.Cropping2D(1, name="crop")(b)  # (3, 3, 3)
    merged = L.Subtract(name="sub")([L.Multiply(name="mul")([a, b]), L.Maximum(name="max_merge")([a, b])])
    up = L.MaxPooling2D(2, name="down")(L.UpSampling2D(2, interpolation="bilinear", name="up")(merged))
    flat = L.Flatten(name="flat")(L.Permute((3, 1, 2), name="perm")(up))
    dense = L.Dense(4, name="dense")(flat)
    score = L.Dot(axes=1, normalize=True, name="dot")([dense, L.Dense(4, name="dense_2")(flat)])
    outputs = L.Average(name="mean")([score, L.Dense(1, name="head")(L.GlobalAveragePooling2D(name="gap")(h))])
    return lib.Model(inputs, outputs)


def test_pooling_reshaping_merge_fit_matches_keras():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6, 6, 2)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    assert_fit_matches_keras(
        _make, lambda lib: {"optimizer": lib.optimizers.Adam(0.01), "loss": "mse", "metrics": ["mae"]}, x, y
    )

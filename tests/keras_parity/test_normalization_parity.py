"""fit parity with Keras for models containing normalization layers."""

import keras
import numpy as np
import pytest

import ember


def assert_fit_matches_keras(make_model, compile_kwargs, x, y, epochs=2, batch_size=16, **fit_kwargs):
    """As ``keras_parity.harness.assert_fit_matches_keras``, copying the weights layer by layer.

    Keras orders a model's weights layer by layer, and ember's model-level
    ``get_weights`` lists the non-trainable moving statistics last, so the
    weights are matched per layer here.
    """
    ours, theirs = make_model(ember), make_model(keras)
    assert len(ours.layers) == len(theirs.layers)
    for a, b in zip(ours.layers, theirs.layers):
        b.set_weights(a.get_weights())
    ours.compile(**compile_kwargs(ember))
    theirs.compile(**compile_kwargs(keras))
    kwargs = dict(epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0, **fit_kwargs)
    h_ours, h_theirs = ours.fit(x, y, **kwargs).history, theirs.fit(x, y, **kwargs).history
    assert sorted(h_ours) == sorted(h_theirs)
    for key in h_theirs:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=2e-3, atol=1e-5, err_msg=f"history[{key!r}]")
    for a, b in zip(ours.layers, theirs.layers):  # moving statistics included
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=5e-3, atol=1e-5, err_msg=f"weights of {a.name}")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=5e-3, atol=1e-5)


def _data(*shape, seed=0):
    return (np.random.default_rng(seed).normal(size=shape) * 2 + 0.5).astype(np.float32)


def _sgd_mse(lib):
    return {"optimizer": lib.optimizers.SGD(learning_rate=0.05), "loss": "mse", "metrics": ["mae"]}


def _dense_model(norm, frozen=False):
    def make(lib):
        inputs = lib.Input(shape=(5,))
        h = lib.layers.Dense(8, activation="tanh")(inputs)
        layer = norm(lib)
        h = layer(h)
        if frozen:
            layer.trainable = False
        return lib.Model(inputs, lib.layers.Dense(2)(h))

    return make


@pytest.mark.parametrize(
    "norm",
    [
        lambda lib: lib.layers.BatchNormalization(momentum=0.8),
        lambda lib: lib.layers.LayerNormalization(),
        lambda lib: lib.layers.GroupNormalization(groups=4),
    ],
    ids=["batch", "layer", "group"],
)
def test_dense_model_with_normalization(norm):
    x, y = _data(48, 5), _data(48, 2, seed=1)
    assert_fit_matches_keras(_dense_model(norm), _sgd_mse, x, y, epochs=3, validation_split=0.25)


def test_frozen_batch_normalization_trains_in_inference_mode():
    x, y = _data(32, 5), _data(32, 2, seed=1)
    make = _dense_model(lambda lib: lib.layers.BatchNormalization(), frozen=True)
    assert_fit_matches_keras(make, _sgd_mse, x, y)


def test_conv2d_model_with_batch_normalization():
    def make(lib):
        inputs = lib.Input(shape=(6, 6, 2))
        h = lib.layers.Conv2D(4, 3, activation="relu")(inputs)
        h = lib.layers.BatchNormalization(momentum=0.9)(h)
        h = lib.layers.GlobalAveragePooling2D()(h)
        return lib.Model(inputs, lib.layers.Dense(3, activation="softmax")(h))

    def compile_kwargs(lib):
        return {"optimizer": lib.optimizers.Adam(learning_rate=0.01), "loss": "sparse_categorical_crossentropy",
                "metrics": ["accuracy"]}

    x = _data(32, 6, 6, 2)
    y = np.random.default_rng(2).integers(0, 3, size=(32,))
    assert_fit_matches_keras(make, compile_kwargs, x, y, epochs=3)

"""Differential tests: the guide's Dense MLP trained in ember and in Keras 3 from the same weights.

Same data, ``shuffle=False``, identical initial weights (copied with
get_weights/set_weights); losses and metrics per epoch must agree within 1e-3
relative, and the final weights closely.
"""

import numpy as np
import pytest

import ember

N, FEATURES, CLASSES = 300, 20, 5


def _data(kind):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    labels = rng.integers(0, CLASSES, N)
    if kind == "sparse":
        y = labels.astype("float32")
    elif kind == "categorical":
        y = np.eye(CLASSES, dtype="float32")[labels]
    else:  # binary: one sigmoid/logit unit
        y = (x[:, 0] + 0.3 * rng.normal(size=N) > 0).astype("float32").reshape(-1, 1)
    return x, y


def _build(lib, units_out, activation):
    inputs = lib.Input(shape=(FEATURES,), name="digits")
    h = lib.layers.Dense(16, activation="relu", name="dense_1")(inputs)
    h = lib.layers.Dense(16, activation="relu", name="dense_2")(h)
    outputs = lib.layers.Dense(units_out, activation=activation, name="predictions")(h)
    return lib.Model(inputs=inputs, outputs=outputs)


LOSSES = {
    # kind: (loss class name, loss kwargs, metric class name, output units, output activation)
    "sparse": ("SparseCategoricalCrossentropy", {}, "SparseCategoricalAccuracy", CLASSES, "softmax"),
    "sparse_logits": ("SparseCategoricalCrossentropy", {"from_logits": True}, "SparseCategoricalAccuracy", CLASSES, None),
    "categorical": ("CategoricalCrossentropy", {}, "CategoricalAccuracy", CLASSES, "softmax"),
    "categorical_logits": ("CategoricalCrossentropy", {"from_logits": True}, "CategoricalAccuracy", CLASSES, None),
    "binary": ("BinaryCrossentropy", {}, "BinaryAccuracy", 1, "sigmoid"),
    "binary_logits": ("BinaryCrossentropy", {"from_logits": True}, "BinaryAccuracy", 1, None),
}

OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {"learning_rate": 0.003}),
}


def _train(lib, model, loss_key, opt_key, x, y, validation, **fit_kwargs):
    loss_name, loss_kwargs, metric_name, _, _ = LOSSES[loss_key]
    opt_name, opt_kwargs = OPTIMIZERS[opt_key]
    model.compile(
        optimizer=getattr(lib.optimizers, opt_name)(**opt_kwargs),
        loss=getattr(lib.losses, loss_name)(**loss_kwargs),
        metrics=[getattr(lib.metrics, metric_name)()],
    )
    history = model.fit(
        x, y, batch_size=32, epochs=3, shuffle=False, verbose=0,
        validation_data=validation, **fit_kwargs,
    )
    return history.history


def _assert_histories_match(ours, theirs):
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-3, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("opt_key", sorted(OPTIMIZERS))
@pytest.mark.parametrize("loss_key", sorted(LOSSES))
def test_mlp_history_matches_keras(keras, loss_key, opt_key):
    x, y = _data(loss_key.split("_")[0])
    _, _, _, units, activation = LOSSES[loss_key]
    ours = _build(ember, units, activation)
    theirs = _build(keras, units, activation)
    theirs.set_weights(ours.get_weights())
    validation = (x[-60:], y[-60:])
    h_ours = _train(ember, ours, loss_key, opt_key, x[:-60], y[:-60], validation)
    h_theirs = _train(keras, theirs, loss_key, opt_key, x[:-60], y[:-60], validation)
    _assert_histories_match(h_ours, h_theirs)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    # evaluate and predict agree too
    np.testing.assert_allclose(
        ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("weighting", ["class_weight", "sample_weight", "validation_split"])
def test_weighting_and_split_match_keras(keras, weighting):
    x, y = _data("sparse")
    ours = _build(ember, CLASSES, "softmax")
    theirs = _build(keras, CLASSES, "softmax")
    theirs.set_weights(ours.get_weights())
    if weighting == "class_weight":
        kwargs = {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5, 3: 1.0, 4: 3.0}}
    elif weighting == "sample_weight":
        kwargs = {"sample_weight": np.where(y == 2, 2.0, 1.0)}
    else:
        kwargs = {"validation_split": 0.25}
    h_ours = _train(ember, ours, "sparse", "rmsprop", x, y, None, **kwargs)
    h_theirs = _train(keras, theirs, "sparse", "rmsprop", x, y, None, **kwargs)
    _assert_histories_match(h_ours, h_theirs)


def test_string_identifiers_match_keras(keras):
    """compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])."""
    x, y = _data("sparse")
    histories = []
    ours = _build(ember, CLASSES, "softmax")
    theirs = _build(keras, CLASSES, "softmax")
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        histories.append(model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history)
    _assert_histories_match(*histories)
    assert "accuracy" in histories[0]

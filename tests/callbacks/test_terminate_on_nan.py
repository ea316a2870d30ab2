"""TerminateOnNaN against Keras 3: the batch it stops at, its message and the run's history."""

import math

import numpy as np
import pytest
from fake_training import EmberFakeModel, KerasFakeModel
from keras_parity.harness import dense_model

import ember
from ember.callbacks import CallbackList, TerminateOnNaN


@pytest.mark.parametrize("losses", [[1.0, 0.5, math.nan, 0.1], [2.0, math.inf], [1.0, -math.inf], [0.3, 0.2]])
def test_matches_keras_on_scripted_batches(keras, capsys, losses):
    results = []
    for lib, fake in ((ember, EmberFakeModel), (keras, KerasFakeModel)):
        model = fake(lib)
        callback = lib.callbacks.TerminateOnNaN()
        callback.set_model(model)
        ran = 0
        for batch, loss in enumerate(losses):
            callback.on_train_batch_end(batch, {"loss": loss})
            ran += 1
            if model.stop_training:
                break
        results.append((ran, model.stop_training, capsys.readouterr().out))
    assert results[0] == results[1]


def _data_with_a_bad_target():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    y[21] = np.inf  # in the third batch of 8
    return x, y


def test_fit_stops_at_the_same_batch_as_keras(keras, capsys):
    x, y = _data_with_a_bad_target()
    make = dense_model(4, 1)
    ours, theirs = make(ember), make(keras)
    theirs.set_weights(ours.get_weights())
    results = []
    for lib, model in ((ember, ours), (keras, theirs)):
        model.compile(optimizer="sgd", loss="mse")
        history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0,
                            callbacks=[lib.callbacks.TerminateOnNaN()])
        results.append((len(history.epoch), capsys.readouterr().out))
    assert results[0] == results[1] == (1, "Batch 2: Invalid loss, terminating training\n")


def test_raise_error_raises_at_once_like_keras(keras):
    for lib, fake in ((ember, EmberFakeModel), (keras, KerasFakeModel)):
        callback = lib.callbacks.TerminateOnNaN(raise_error=True)
        callback.set_model(fake(lib))
        with pytest.raises(RuntimeError, match=r"NaN or Inf loss encountered at batch 4\. Loss value: nan\."):
            callback.on_train_batch_end(4, {"loss": float("nan")})
    x, y = _data_with_a_bad_target()
    model = dense_model(4, 1)(ember)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(RuntimeError, match="at batch 2"):
        model.fit(x, y, batch_size=8, shuffle=False, verbose=0, callbacks=[TerminateOnNaN(raise_error=True)])


def test_listens_to_train_batches_only():
    # It reads the loss after every batch (a device sync per step); evaluation is not watched.
    callbacks = CallbackList([TerminateOnNaN()])
    assert callbacks.needs_train_batch_hooks
    assert not callbacks.needs_test_batch_hooks and not callbacks.needs_predict_batch_hooks

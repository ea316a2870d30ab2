"""SwapEMAWeights against Keras 3: validation, evaluate and predict with the EMA weights."""

import numpy as np
import pytest
from keras_parity.harness import dense_model

import ember
from ember.callbacks import CallbackList, SwapEMAWeights


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = np.tanh(x @ rng.normal(size=(4, 2))).astype("float32")
    return x[:32], y[:32], x[32:], y[32:]


def _models(keras, ema_momentum=0.8):
    make = dense_model(4, 2)
    ours, theirs = make(ember), make(keras)
    theirs.set_weights(ours.get_weights())
    for lib, model in ((ember, ours), (keras, theirs)):
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=ema_momentum),
                      loss="mse")
    return ours, theirs


def _assert_weights_close(a, b):
    for wa, wb in zip(a, b):
        np.testing.assert_allclose(wa, wb, rtol=2e-3, atol=1e-5)


def test_validation_uses_the_ema_weights_like_keras(keras):
    x, y, x_val, y_val = _data()
    ours, theirs = _models(keras)
    initial = ours.get_weights()
    histories = [model.fit(x, y, validation_data=(x_val, y_val), epochs=3, batch_size=8, shuffle=False, verbose=0,
                           callbacks=[lib.callbacks.SwapEMAWeights()]).history
                 for lib, model in ((ember, ours), (keras, theirs))]
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=2e-3, err_msg=key)
    _assert_weights_close(ours.get_weights(), theirs.get_weights())

    # Without the callback, validation sees the raw weights and gives other values.
    plain = dense_model(4, 2)(ember)
    plain.compile(optimizer=ember.optimizers.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.8), loss="mse")
    plain.set_weights(initial)
    plain_history = plain.fit(x, y, validation_data=(x_val, y_val), epochs=3, batch_size=8, shuffle=False,
                              verbose=0).history
    np.testing.assert_allclose(plain_history["loss"], histories[0]["loss"], rtol=1e-6)
    assert not np.allclose(plain_history["val_loss"], histories[0]["val_loss"], rtol=1e-3)


def test_swap_on_epoch_shows_the_ema_weights_to_later_callbacks_like_keras(keras):
    x, y, x_val, y_val = _data()
    ours, theirs = _models(keras)
    seen = {ember: [], keras: []}
    for lib, model in ((ember, ours), (keras, theirs)):
        record = lib.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs, lib=lib, model=model:
                                              seen[lib].append(model.get_weights()))
        model.fit(x, y, validation_data=(x_val, y_val), epochs=3, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[lib.callbacks.SwapEMAWeights(swap_on_epoch=True), record])
    assert len(seen[ember]) == 3
    for ours_epoch, theirs_epoch in zip(seen[ember], seen[keras]):
        _assert_weights_close(ours_epoch, theirs_epoch)
    _assert_weights_close(ours.get_weights(), theirs.get_weights())
    # The last epoch's EMA weights are what the model keeps.
    _assert_weights_close(ours.get_weights(), seen[ember][-1])


def _train_without_finalizing(model, x, y, steps=4):
    for i in range(steps):
        model.train_on_batch(x[8 * i: 8 * i + 8], y[8 * i: 8 * i + 8])


def test_evaluate_and_predict_use_the_ema_weights_and_put_the_raw_ones_back(keras):
    x, y, x_val, y_val = _data()
    ours, theirs = _models(keras, ema_momentum=0.5)
    for model in (ours, theirs):
        _train_without_finalizing(model, x, y)
    raw = [w.copy() for w in ours.get_weights()]
    _assert_weights_close(raw, theirs.get_weights())

    ema_loss = ours.evaluate(x_val, y_val, verbose=0, callbacks=[SwapEMAWeights()])
    keras_ema_loss = theirs.evaluate(x_val, y_val, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    np.testing.assert_allclose(ema_loss, keras_ema_loss, rtol=2e-3)
    assert ema_loss != pytest.approx(ours.evaluate(x_val, y_val, verbose=0), rel=1e-3)
    _assert_weights_close(ours.get_weights(), raw)

    # predict: the EMA model's outputs, computed as an independent model holding the averages.
    averaged = dense_model(4, 2)(ember)
    averaged.set_weights(ours.get_weights())
    optimizer = ours.optimizer
    averages = zip(optimizer._trainable_variables, optimizer._model_variables_moving_average)
    ema_by_weight = {id(variable): average for variable, average in averages}
    averaged.set_weights([ema_by_weight[id(w)].detach().numpy() for w in ours.weights])
    np.testing.assert_allclose(ours.predict(x_val, verbose=0, callbacks=[SwapEMAWeights()]),
                               averaged.predict(x_val, verbose=0), rtol=1e-6, atol=1e-6)
    # Unlike Keras 3.15 (which leaves the EMA weights in the model after predict), ember swaps back.
    _assert_weights_close(ours.get_weights(), raw)


def test_nothing_is_swapped_before_the_first_update():
    x, y, x_val, y_val = _data()
    model = dense_model(4, 2)(ember)
    model.compile(optimizer=ember.optimizers.SGD(use_ema=True), loss="mse")
    before = model.evaluate(x_val, y_val, verbose=0)
    assert model.evaluate(x_val, y_val, verbose=0, callbacks=[SwapEMAWeights()]) == before


def test_optimizer_without_ema_is_a_clear_error_like_keras(keras):
    x, y, _, _ = _data()
    for lib in (ember, keras):
        model = dense_model(4, 2)(lib)
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(ValueError, match=r"SwapEMAWeights must be used when `use_ema=True` is set on the "
                                             r"optimizer\. Received: use_ema=False"):
            model.evaluate(x, y, verbose=0, callbacks=[lib.callbacks.SwapEMAWeights()])


def test_does_not_listen_to_batches():
    callbacks = CallbackList([SwapEMAWeights(swap_on_epoch=True)])
    assert not (callbacks.needs_train_batch_hooks or callbacks.needs_test_batch_hooks
                or callbacks.needs_predict_batch_hooks)

"""ReduceLROnPlateau against Keras 3: scripted logs through the hooks, and real `fit` runs."""

import itertools
import warnings

import numpy as np
import pytest
import torch
from fake_training import EmberFakeModel, KerasFakeModel, run_epochs
from keras_parity.harness import dense_model

import ember
from ember.callbacks import CallbackList, ReduceLROnPlateau

VALUES = [1.0, 0.99995, 0.9, 0.9, 0.95, 0.92, 0.91, 0.7, 0.7, 0.7, 0.71, 0.72, 0.5, 0.6]


def test_matches_keras_on_scripted_logs(keras, capsys):
    configs = itertools.product([0.1, 0.5], [0, 1, 2], [0, 2], [0.0, 0.0002], [1e-4, 0.05], ["min", "max"])
    for factor, patience, cooldown, min_lr, min_delta, mode in configs:
        monitor = "val_loss" if mode == "min" else "val_accuracy"
        logs = [{"loss": 1.0, monitor: v} for v in VALUES]
        results = []
        for lib, fake in ((ember, EmberFakeModel), (keras, KerasFakeModel)):
            model = fake(lib)
            callback = lib.callbacks.ReduceLROnPlateau(
                monitor=monitor, factor=factor, patience=patience, cooldown=cooldown, min_lr=min_lr,
                min_delta=min_delta, mode=mode, verbose=1)
            seen = run_epochs(callback, model, logs)
            results.append({
                "logged": [epoch_logs["learning_rate"] for epoch_logs in seen],
                "final": float(np.asarray(model.optimizer.learning_rate)),
                "printed": capsys.readouterr().out,
                "state": (callback.best, callback.wait, callback.cooldown_counter),
            })
        assert results[0] == results[1], (factor, patience, cooldown, min_lr, min_delta, mode)


def test_message_wording(capsys):
    callback = ReduceLROnPlateau(factor=0.5, patience=1, verbose=1)
    run_epochs(callback, EmberFakeModel(ember, learning_rate=0.001), [{"val_loss": 0.5}, {"val_loss": 0.6}])
    assert capsys.readouterr().out == "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.0005000000237487257.\n"


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    return x, np.tanh(x @ rng.normal(size=(4, 2))).astype("float32")


def test_fit_matches_keras_and_later_epochs_use_the_new_rate(keras):
    x, y = _data()
    make = dense_model(4, 2)
    ours, theirs = make(ember), make(keras)
    theirs.set_weights(ours.get_weights())
    histories = []
    for lib, model in ((ember, ours), (keras, theirs)):
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1, momentum=0.5), loss="mse")
        # A large min_delta makes every epoch after the first a plateau: the rate halves each epoch.
        reduce = lib.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
        histories.append(model.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0,
                                   callbacks=[reduce]).history)
    assert sorted(histories[0]) == sorted(histories[1]) == ["learning_rate", "loss"]
    np.testing.assert_allclose(histories[0]["learning_rate"], [0.1, 0.1, 0.05, 0.025], rtol=1e-6)
    for key in histories[1]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=2e-3, err_msg=key)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=5e-3, atol=1e-5)
    assert float(ours.optimizer.learning_rate) == pytest.approx(0.0125)


def test_torch_optimizer_every_param_group_is_reduced():
    x, y = _data()
    model = dense_model(4, 2)(ember)
    hidden, outputs = model.get_layer("hidden"), model.get_layer("outputs")
    optimizer = torch.optim.SGD([{"params": list(hidden.parameters())},
                                 {"params": list(outputs.parameters()), "lr": 0.2}], lr=0.1)
    model.compile(optimizer=optimizer, loss="mse")
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[reduce])
    # Epoch 1 sets the reference, epochs 2 and 3 are plateaus: each group's rate is halved twice,
    # from its own value; the logged rate (at each epoch's end, before reducing) is the first group's.
    assert history.history["learning_rate"] == [0.1, 0.1, 0.05]
    assert [group["lr"] for group in optimizer.param_groups] == [0.025, 0.05]


def test_missing_monitor_warns_like_keras(keras):
    messages = []
    for lib, fake in ((ember, EmberFakeModel), (keras, KerasFakeModel)):
        model = fake(lib)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            seen = run_epochs(lib.callbacks.ReduceLROnPlateau(patience=0), model, [{"loss": 1.0}, {"loss": 2.0}])
        assert [logs["learning_rate"] for logs in seen] == [pytest.approx(0.001)] * 2
        messages.append([str(w.message) for w in record if w.category is UserWarning])
    assert messages[0] == messages[1]
    assert messages[0][0] == ("Learning rate reduction is conditioned on metric `val_loss` which is not available. "
                              "Available metrics are: loss,learning_rate.")


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"does not support a factor >= 1\.0\. Received factor=1\.5"):
        ReduceLROnPlateau(factor=1.5)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['epsilon'\]"):
        ReduceLROnPlateau(epsilon=1e-3)


def test_optimizer_without_a_settable_rate_is_a_clear_error():
    schedule = ember.optimizers.SGD(learning_rate=ember.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))
    model = EmberFakeModel(ember)
    model.optimizer = schedule
    with pytest.raises(TypeError, match="learning-rate schedule"):
        run_epochs(ReduceLROnPlateau(patience=0), model, [{"val_loss": 1.0}, {"val_loss": 2.0}])
    model.optimizer = object()
    with pytest.raises(ValueError, match="ReduceLROnPlateau needs an optimizer with a learning rate"):
        run_epochs(ReduceLROnPlateau(patience=0), model, [{"val_loss": 1.0}])


def test_reads_only_epoch_logs():
    assert not CallbackList([ReduceLROnPlateau()]).needs_train_batch_hooks

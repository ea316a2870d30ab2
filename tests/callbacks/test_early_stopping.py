"""EarlyStopping against Keras 3: scripted logs through the hooks, and real `fit` runs."""

import itertools

import numpy as np
import pytest
import torch
from fake_training import EmberFakeModel, KerasFakeModel, run_epochs
from keras_parity.harness import dense_model

import ember
from ember.callbacks import CallbackList, EarlyStopping, LambdaCallback


def _scripted_sequences():
    """Random walks rounded to 2 decimals: plateaus, ties, small and large moves."""
    rng = np.random.default_rng(1234)
    for _ in range(6):
        steps = rng.choice([-0.3, -0.05, -0.01, 0.0, 0.0, 0.01, 0.2], size=9)
        yield [round(float(v), 2) for v in 1.0 + np.cumsum(steps)]


CONFIGS = [
    dict(patience=patience, min_delta=min_delta, baseline=baseline, start_from_epoch=start, mode=mode)
    for patience, min_delta, baseline, start, mode in itertools.product(
        [0, 1, 3], [0, 0.05], [None, 0.9], [0, 2], ["min", "max"])
]


def test_matches_keras_on_scripted_logs(keras, capsys):
    for values, config in itertools.product(list(_scripted_sequences()), CONFIGS):
        monitor = "val_loss" if config["mode"] == "min" else "val_auc"
        logs = [{"loss": 1.0, monitor: v} for v in values]
        results = []
        for lib, fake in ((ember, EmberFakeModel), (keras, KerasFakeModel)):
            model = fake(lib)
            callback = lib.callbacks.EarlyStopping(
                monitor=monitor, verbose=1, restore_best_weights=True, **config)
            seen = run_epochs(callback, model, logs)
            results.append({
                "epochs_run": len(seen),
                "stop_training": model.stop_training,
                "stopped_epoch": callback.stopped_epoch,
                "best": callback.best,
                "best_epoch": callback.best_epoch,
                "wait": callback.wait,
                "restored_weights_from": model.weight_mark(),
                "printed": capsys.readouterr().out,
            })
        assert results[0] == results[1], (values, config)


def test_auto_mode_stops_on_a_rising_loss_like_keras(keras, capsys):
    values = [0.5, 0.4, 0.41, 0.45, 0.39, 0.5, 0.6]
    logs = [{"loss": 1.0, "val_loss": v} for v in values]
    outcomes = []
    for lib, fake in ((ember, EmberFakeModel), (keras, KerasFakeModel)):
        callback = lib.callbacks.EarlyStopping(patience=1, verbose=1)
        outcomes.append((len(run_epochs(callback, fake(lib), logs)), callback.stopped_epoch, capsys.readouterr().out))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2] == f"Epoch {outcomes[0][1] + 1}: early stopping\n"


def _overfitting_data():
    """Validation targets are the negated training targets: val_loss rises as the model learns."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    return x[:32], y[:32], x[32:], -y[32:]


def _fit_both(keras, make_callbacks, epochs=10, optimizer="sgd"):
    """Trains the same model from the same weights in ember and Keras; returns (histories, models)."""
    x, y, x_val, y_val = _overfitting_data()
    make = dense_model(4, 1)
    ours, theirs = make(ember), make(keras)
    theirs.set_weights(ours.get_weights())
    histories = []
    for lib, model in ((ember, ours), (keras, theirs)):
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05) if optimizer == "sgd" else optimizer,
                      loss="mse")
        history = model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=16,
                            shuffle=False, verbose=0, callbacks=make_callbacks(lib))
        histories.append(history.history)
    return histories, (ours, theirs)


def test_guide_example_stops_at_the_keras_epoch_and_prints_it(keras, capsys):
    outputs = []

    def callbacks(lib):
        outputs.append(capsys.readouterr().out)
        return [lib.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=2, verbose=1)]

    (ours, theirs), _ = _fit_both(keras, callbacks)
    printed_ours, printed_theirs = outputs[1], capsys.readouterr().out
    assert len(ours["loss"]) == len(theirs["loss"]) < 10
    np.testing.assert_allclose(ours["val_loss"], theirs["val_loss"], rtol=2e-3)
    assert printed_ours == printed_theirs == f"Epoch {len(ours['loss'])}: early stopping\n"

    # Keras's callback, fed ember's own val_loss values, stops at the same epoch.
    oracle = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=2)
    seen = run_epochs(oracle, KerasFakeModel(keras), [{"val_loss": v} for v in ours["val_loss"]])
    assert len(seen) == len(ours["loss"])


def test_restore_best_weights_restores_the_best_epochs_weights_in_place():
    x, y, x_val, y_val = _overfitting_data()
    model = dense_model(4, 1)(ember)
    model.compile(optimizer=ember.optimizers.SGD(learning_rate=0.05), loss="mse")
    snapshots = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(
        [w.detach().clone() for w in model.weights]))
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    weight_objects = [id(w) for w in model.weights]
    history = model.fit(x, y, validation_data=(x_val, y_val), epochs=10, batch_size=16, verbose=0,
                        callbacks=[record, stopper])
    best = int(np.argmin(history.history["val_loss"]))
    assert stopper.best_epoch == best and len(snapshots) > best + 1
    for weight, expected in zip(model.weights, snapshots[best]):
        torch.testing.assert_close(weight.detach(), expected, rtol=0, atol=0)
    # The copies were device tensors and the model's own Parameters were updated in place.
    assert all(isinstance(w, torch.Tensor) for w in stopper.best_weights)
    assert [id(w) for w in model.weights] == weight_objects


def test_unknown_monitor_warns_with_the_available_keys_and_training_runs_on(keras):
    x, y, x_val, y_val = _overfitting_data()
    model = dense_model(4, 1)(ember)
    model.compile(optimizer="sgd", loss="mse")
    # mode="min" is what Keras warns for; in mode "auto" Keras raises instead (it cannot infer
    # a direction for an unknown name), while ember warns the same way (see MonitorCallback).
    for mode in ("min", "auto"):
        with pytest.warns(UserWarning) as record:
            history = model.fit(x, y, validation_data=(x_val, y_val), epochs=3, verbose=0,
                                callbacks=[EarlyStopping(monitor="x", mode=mode)])
        assert len(history.history["loss"]) == 3
        messages = {str(w.message) for w in record}
        assert messages == {"Early stopping conditioned on metric `x` which is not available. "
                            "Available metrics are: loss,val_loss"}

    theirs = keras.callbacks.EarlyStopping(monitor="x", mode="min")
    with pytest.warns(UserWarning) as keras_record:
        run_epochs(theirs, KerasFakeModel(keras), [{"loss": 1.0, "val_loss": 2.0}])
    assert {str(w.message) for w in keras_record} == messages


def test_bad_mode_warns_and_falls_back_to_auto_like_keras(keras):
    with pytest.warns(UserWarning, match="EarlyStopping mode 'bogus' is unknown, fallback to auto mode") as ours:
        callback = EarlyStopping(mode="bogus")
    with pytest.warns(UserWarning) as theirs:
        keras.callbacks.EarlyStopping(mode="bogus")
    assert callback.mode == "auto"
    assert str(ours[0].message).startswith(str(theirs[0].message))


def test_reads_only_epoch_logs():
    callbacks = CallbackList([EarlyStopping(), EarlyStopping(monitor="loss", restore_best_weights=True)])
    assert not callbacks.needs_train_batch_hooks
    assert not callbacks.needs_test_batch_hooks

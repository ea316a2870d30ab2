"""History: epoch logs accumulate as floats and the model points at the History."""

import numpy as np
import torch

from ember.callbacks import CallbackList, History


def test_history_matches_keras_history_on_the_same_logs(keras):
    epoch_logs = [
        {"loss": 0.9, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4},
        {"loss": 0.7, "accuracy": 0.6, "val_loss": 1.0, "val_accuracy": 0.45},
        {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.9, "val_accuracy": 0.5},
    ]
    model = torch.nn.Linear(2, 1)
    ours = History()
    ours.set_model(model)
    oracle = keras.callbacks.History()
    oracle.set_model(keras.Sequential([keras.layers.Dense(1)]))
    for history in (ours, oracle):
        history.on_train_begin()
        for epoch, logs in enumerate(epoch_logs):
            history.on_epoch_end(epoch, dict(logs))
    assert ours.history == oracle.history
    assert ours.epoch == oracle.epoch == [0, 1, 2]
    assert model.history is ours


def test_values_become_python_floats():
    history = History()
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": torch.tensor(0.25), "mae": np.float32(0.5),
                             "steps": np.array([3]), "lr": 1})
    history.on_epoch_end(1, {"loss": torch.tensor([0.125]), "mae": 0.75, "steps": 4,
                             "lr": np.int64(2)})
    assert history.history == {"loss": [0.25, 0.125], "mae": [0.5, 0.75], "steps": [3.0, 4.0],
                               "lr": [1.0, 2.0]}
    assert all(type(v) is float for values in history.history.values() for v in values)


def test_non_scalar_values_are_kept_as_arrays():
    history = History()
    history.on_epoch_end(0, {"per_class": torch.tensor([0.5, 0.25])})
    np.testing.assert_array_equal(history.history["per_class"][0], np.array([0.5, 0.25]))


def test_new_training_restarts_epochs_but_keeps_accumulating():
    # Keras semantics when one History object is reused across fit calls.
    history = History()
    for run in range(2):
        history.on_train_begin()
        history.on_epoch_end(0, {"loss": float(run)})
    assert history.epoch == [0]
    assert history.history == {"loss": [0.0, 1.0]}


def test_params_reach_history_through_the_callback_list():
    callbacks = CallbackList(add_history=True, verbose=1, epochs=10, steps=1)
    assert callbacks.history.params == {"verbose": 1, "epochs": 10, "steps": 1}


def test_without_model_history_still_records():
    history = History()
    history.on_epoch_end(0, {"loss": 1.0})
    history.on_epoch_end(1, None)
    assert history.history == {"loss": [1.0]} and history.epoch == [0, 1]

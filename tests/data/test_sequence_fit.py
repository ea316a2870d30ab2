"""``fit``/``evaluate``/``predict`` on a Sequence: the same numbers as Keras, whatever the workers."""

import numpy as np
import pytest
import torch

import ember
from keras_parity.harness import dense_model
from test_sequence_helpers import ArraySequence, LoggedSequence, read_log, watchdog  # noqa: F401  (autouse)

WORKER_SETTINGS = [
    pytest.param({"workers": 0}, id="main-thread"),
    pytest.param({"workers": 3}, id="threads"),
    pytest.param({"workers": 2, "use_multiprocessing": True}, id="processes"),
]


def _data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32") + 0.1).astype("float32")


def _keras_sequence(keras, x, y=None, batch_size=16):
    class KerasArraySequence(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()

        def __len__(self):
            return -(-len(x) // batch_size)

        def __getitem__(self, index):
            rows = slice(index * batch_size, (index + 1) * batch_size)
            return x[rows] if y is None else (x[rows], y[rows])

    return KerasArraySequence()


def _compiled_pair(keras):
    make = dense_model(4, 1)
    ours, theirs = make(ember), make(keras)
    theirs.set_weights(ours.get_weights())
    ours.compile(optimizer=ember.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    theirs.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    return ours, theirs


@pytest.mark.parametrize("settings", WORKER_SETTINGS)
def test_fit_evaluate_predict_match_keras(keras, settings):
    (x, y), (xv, yv) = _data(40, 0), _data(24, 1)
    ours, theirs = _compiled_pair(keras)
    h_ours = ours.fit(ArraySequence(x, y), validation_data=ArraySequence(xv, yv), epochs=2, shuffle=False,
                      verbose=0, **settings).history
    h_theirs = theirs.fit(_keras_sequence(keras, x, y), validation_data=_keras_sequence(keras, xv, yv),
                          epochs=2, shuffle=False, verbose=0).history
    assert sorted(h_ours) == sorted(h_theirs) == ["loss", "mae", "val_loss", "val_mae"]
    for key in h_theirs:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=2e-3, atol=1e-6, err_msg=key)
    e_theirs = theirs.evaluate(_keras_sequence(keras, xv, yv), verbose=0)
    p_theirs = theirs.predict(_keras_sequence(keras, xv), verbose=0)
    np.testing.assert_allclose(ours.evaluate(ArraySequence(xv, yv), verbose=0, **settings), e_theirs, rtol=2e-3)
    np.testing.assert_allclose(ours.predict(ArraySequence(xv), verbose=0, **settings), p_theirs, rtol=5e-3,
                               atol=1e-6)


def test_shuffled_training_does_not_depend_on_the_workers():
    x, y = _data(64, 2)
    histories = []
    for settings in ({"workers": 0}, {"workers": 3}, {"workers": 2, "use_multiprocessing": True}):
        torch.manual_seed(7)
        model = dense_model(4, 1)(ember)
        model.compile(optimizer=ember.optimizers.SGD(0.05), loss="mse")
        histories.append(model.fit(ArraySequence(x, y, batch_size=8), epochs=3, shuffle=True, verbose=0,
                                   **settings).history["loss"])
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-6)
    np.testing.assert_allclose(histories[2], histories[0], rtol=1e-6)
    torch.manual_seed(7)
    model = dense_model(4, 1)(ember)
    model.compile(optimizer=ember.optimizers.SGD(0.05), loss="mse")
    unshuffled = model.fit(ArraySequence(x, y, batch_size=8), epochs=3, shuffle=False, verbose=0).history["loss"]
    assert not np.allclose(unshuffled, histories[0], rtol=1e-6)  # shuffling did change the batch order


def test_fit_calls_the_epoch_hooks_once_per_epoch_and_workers_see_their_effect(tmp_path):
    log = tmp_path / "log"
    sequence = LoggedSequence(5, log, workers=2, use_multiprocessing=True)
    model = ember.Sequential([ember.Input((2,)), ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(sequence, epochs=3, verbose=0)
    assert (sequence.begins, sequence.ends) == (3, 3)
    # Each epoch loaded every batch once, in workers that saw the previous on_epoch_end.
    starts = sorted((epoch, index) for event, epoch, index, _, _ in read_log(log) if event == "start")
    assert starts == [(epoch, index) for epoch in range(3) for index in range(5)]

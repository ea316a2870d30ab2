"""ProgbarLogger against `keras.callbacks.ProgbarLogger` driven by the same hooks."""

import time

import pytest

import ember.utils.progbar as progbar_module
from ember.callbacks import CallbackList, ProgbarLogger


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(time, "time", fake)  # read by Keras
    monkeypatch.setattr(time, "monotonic", fake)  # read by ember
    return fake


@pytest.fixture
def interactive(monkeypatch):
    monkeypatch.setattr(progbar_module, "_stdout_is_interactive", lambda: True)


@pytest.fixture
def non_interactive(monkeypatch):
    monkeypatch.setattr(progbar_module, "_stdout_is_interactive", lambda: False)


def drive_fit(logger, clock, capsys, steps, verbose, epochs=2, batches=3):
    """Calls the hooks a fit loop with validation calls; returns the output."""
    capsys.readouterr()
    clock.now = 1000.0
    logger.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})
    logger.on_train_begin({})
    for epoch in range(epochs):
        logger.on_epoch_begin(epoch, {})
        for batch in range(batches):
            clock.now += 0.7
            logger.on_train_batch_begin(batch, {})
            logger.on_train_batch_end(batch, {"accuracy": 0.25 * batch, "loss": 1.0 / (batch + 1)})
        logger.on_test_begin({})
        for batch in range(2):
            logger.on_test_batch_end(batch, {"loss": 9.0})
        logger.on_test_end({"loss": 9.0})
        logger.on_epoch_end(epoch, {"accuracy": 0.5, "loss": 0.5, "val_loss": 0.25})
    logger.on_train_end({})
    return capsys.readouterr().out


@pytest.mark.parametrize("steps", [3, None])
@pytest.mark.parametrize("verbose", [0, 1, 2, "auto"])
def test_fit_output_matches_keras(keras, clock, interactive, capsys, steps, verbose):
    expected = drive_fit(keras.callbacks.ProgbarLogger(), clock, capsys, steps, verbose)
    got = drive_fit(ProgbarLogger(), clock, capsys, steps, verbose)
    assert got == expected
    if verbose:
        assert got.startswith("Epoch 1/2\n") and "Epoch 2/2\n" in got
        assert "val_loss: 0.2500" in got and "9.0000" not in got  # validation is silent


def test_fit_non_interactive_prints_one_line_per_epoch(clock, non_interactive, capsys):
    got = drive_fit(ProgbarLogger(), clock, capsys, steps=None, verbose=1)
    # First epoch: 3 steps of 0.7 s, the first one left out of the per-step time.
    # Second epoch: the step count learned in epoch 1 is the target.
    line = ("3/3 " + "━" * 20
            + " {}s 700ms/step - accuracy: 0.5000 - loss: 0.5000 - val_loss: 0.2500\n")
    assert got == "Epoch 1/2\n" + line.format(2) + "Epoch 2/2\n" + line.format(2)


def test_single_epoch_has_no_epoch_line(clock, non_interactive, capsys):
    got = drive_fit(ProgbarLogger(), clock, capsys, steps=3, verbose=2, epochs=1)
    assert got == "3/3 - 2s - 700ms/step - accuracy: 0.5000 - loss: 0.5000 - val_loss: 0.2500\n"


def drive_evaluate_and_predict(logger, clock, capsys, steps):
    capsys.readouterr()
    clock.now = 1000.0
    logger.set_params({"verbose": 1, "epochs": 1, "steps": steps})
    logger.on_test_begin({})
    for batch in range(4):
        clock.now += 0.02
        logger.on_test_batch_end(batch, {"loss": 0.1 * (batch + 1)})
    logger.on_test_end({"loss": 0.4, "mae": 0.0})
    logger.on_predict_begin({})
    for batch in range(4):
        clock.now += 0.002
        logger.on_predict_batch_end(batch, {"outputs": 123.0})
    logger.on_predict_end({})
    return capsys.readouterr().out


@pytest.mark.parametrize("steps", [4, None])
def test_evaluate_and_predict_get_their_own_bars_like_keras(keras, clock, interactive, capsys,
                                                            steps):
    expected = drive_evaluate_and_predict(keras.callbacks.ProgbarLogger(), clock, capsys, steps)
    got = drive_evaluate_and_predict(ProgbarLogger(), clock, capsys, steps)
    assert got == expected
    assert got.count("\n") == 2 and "mae: 0.0000e+00" in got and "outputs" not in got


def test_evaluate_after_fit_with_the_same_logger_shows_a_bar(clock, non_interactive, capsys):
    # Keras keeps such a logger silent for good after fit; ember re-enables it.
    logger = ProgbarLogger()
    callbacks = CallbackList([logger], verbose=1, epochs=1, steps=1)
    callbacks.on_train_begin()
    callbacks.on_test_begin()
    callbacks.on_test_end({"loss": 1.0})
    callbacks.on_train_end()
    assert capsys.readouterr().out == ""
    callbacks.on_test_begin()
    callbacks.on_test_batch_end(0, {"loss": 2.0})
    callbacks.on_test_end({"loss": 2.0})
    assert capsys.readouterr().out.endswith("- loss: 2.0000\n")


def test_bad_verbose_is_rejected():
    with pytest.raises(ValueError, match='params\\["verbose"\\] must be 0, 1, 2 or "auto", got 3'):
        ProgbarLogger().set_params({"verbose": 3, "epochs": 1, "steps": 1})

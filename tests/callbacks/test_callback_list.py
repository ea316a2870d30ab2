"""CallbackList: dispatch order, default callbacks and the needs_* batch-hook flags."""

from collections.abc import Mapping
from unittest import mock

import pytest
import torch

from ember.callbacks import Callback, CallbackList, History, LambdaCallback, ProgbarLogger


def fit_sequence(callbacks, epochs=2, steps=2, validation_steps=1):
    """Calls hooks in the order a fit loop with validation does."""
    callbacks.on_train_begin()
    for epoch in range(epochs):
        callbacks.on_epoch_begin(epoch)
        for batch in range(steps):
            callbacks.on_train_batch_begin(batch)
            callbacks.on_train_batch_end(batch, {"loss": 1.0})
        callbacks.on_test_begin()
        for batch in range(validation_steps):
            callbacks.on_test_batch_begin(batch)
            callbacks.on_test_batch_end(batch, {"loss": 2.0})
        callbacks.on_test_end({"loss": 2.0})
        callbacks.on_epoch_end(epoch, {"loss": 1.0, "val_loss": 2.0})
    callbacks.on_train_end({"loss": 1.0, "val_loss": 2.0})


def test_hooks_are_forwarded_to_every_callback_in_order():
    manager = mock.MagicMock()
    first, second = mock.MagicMock(spec=Callback), mock.MagicMock(spec=Callback)
    manager.attach_mock(first, "first")
    manager.attach_mock(second, "second")
    model = torch.nn.Linear(1, 1)

    callbacks = CallbackList([first, second], model=model, verbose=1, epochs=1, steps=1)
    fit_sequence(callbacks, epochs=1, steps=1)
    callbacks.on_predict_begin()
    callbacks.on_predict_batch_begin(0)
    callbacks.on_predict_batch_end(0, {"outputs": 1})
    callbacks.on_predict_end()

    params = {"verbose": 1, "epochs": 1, "steps": 1}
    expected = []
    for name, args in [
        ("set_model", (model,)),
        ("set_params", (params,)),
        ("on_train_begin", ({},)),
        ("on_epoch_begin", (0, {})),
        ("on_train_batch_begin", (0, {})),
        ("on_train_batch_end", (0, {"loss": 1.0})),
        ("on_test_begin", ({},)),
        ("on_test_batch_begin", (0, {})),
        ("on_test_batch_end", (0, {"loss": 2.0})),
        ("on_test_end", ({"loss": 2.0},)),
        ("on_epoch_end", (0, {"loss": 1.0, "val_loss": 2.0})),
        ("on_train_end", ({"loss": 1.0, "val_loss": 2.0},)),
        ("on_predict_begin", ({},)),
        ("on_predict_batch_begin", (0, {})),
        ("on_predict_batch_end", (0, {"outputs": 1})),
        ("on_predict_end", ({},)),
    ]:
        expected += [getattr(mock.call.first, name)(*args), getattr(mock.call.second, name)(*args)]
    assert manager.mock_calls == expected


def test_legacy_batch_hooks_are_forwarded():
    callback = mock.MagicMock(spec=Callback)
    callbacks = CallbackList([callback])
    callbacks.on_batch_begin(3)
    callbacks.on_batch_end(3, {"loss": 0.5})
    assert callback.mock_calls == [mock.call.on_batch_begin(3, {}),
                                   mock.call.on_batch_end(3, {"loss": 0.5})]


def test_default_train_batch_hooks_call_the_legacy_ones():
    calls = []

    class Legacy(Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            calls.append(("end", batch, logs["loss"]))

    callbacks = CallbackList([Legacy()])
    fit_sequence(callbacks, epochs=1, steps=2)
    assert calls == [("begin", 0), ("end", 0, 1.0), ("begin", 1), ("end", 1, 1.0)]


def test_add_history_and_progbar_are_appended_after_user_callbacks():
    user = LambdaCallback()
    given = [user]
    model = torch.nn.Linear(1, 1)
    callbacks = CallbackList(given, add_history=True, add_progbar=True, model=model,
                             verbose=0, epochs=1, steps=1)
    assert [type(c) for c in callbacks] == [LambdaCallback, History, ProgbarLogger]
    assert given == [user]  # the caller's list is not modified
    assert model.history is callbacks.history
    assert all(c.model is model for c in callbacks)
    assert all(c.params == {"verbose": 0, "epochs": 1, "steps": 1} for c in callbacks)


def test_existing_history_and_progbar_are_reused():
    history, progbar = History(), ProgbarLogger()
    callbacks = CallbackList([[progbar], (history,)], add_history=True, add_progbar=True)
    assert callbacks.callbacks == [progbar, history]
    assert callbacks.history is history


def test_append_gives_the_callback_the_model_and_params():
    model = torch.nn.Linear(1, 1)
    callbacks = CallbackList(model=model, verbose=2, epochs=3, steps=None)
    history = History()
    callbacks.append(history)
    assert callbacks.callbacks == [history] and callbacks.history is history
    assert history.model is model and history.params == {"verbose": 2, "epochs": 3, "steps": None}


def test_history_is_returned_and_set_on_the_model():
    model = torch.nn.Linear(1, 1)
    callbacks = CallbackList(add_history=True, model=model, verbose=0, epochs=2, steps=2)
    fit_sequence(callbacks)
    assert model.history is callbacks.history
    assert callbacks.history.history == {"loss": [1.0, 1.0], "val_loss": [2.0, 2.0]}
    assert callbacks.history.epoch == [0, 1]


def test_empty_model_module_is_still_set():
    # nn.Sequential() has len 0; it must not be mistaken for "no model".
    model = torch.nn.Sequential()
    callbacks = CallbackList([History()], model=model)
    assert callbacks.callbacks[0].model is model


def test_non_callbacks_are_rejected():
    with pytest.raises(TypeError, match="must be an instance of ember.callbacks.Callback, got "
                                        "function"):
        CallbackList([lambda logs: None])
    with pytest.raises(TypeError, match="callbacks must be a list .* got dict"):
        CallbackList({"a": History()})
    with pytest.raises(TypeError, match="got str"):
        CallbackList().append("history")


# -- needs_* flags ---------------------------------------------------------------


def flags(callbacks):
    return (callbacks.needs_train_batch_hooks, callbacks.needs_test_batch_hooks,
            callbacks.needs_predict_batch_hooks)


class OnBatchEnd(Callback):
    def on_batch_end(self, batch, logs=None):
        pass


class OnTestBatchBegin(Callback):
    def on_test_batch_begin(self, batch, logs=None):
        pass


class OnEpochEnd(Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass


@pytest.mark.parametrize(
    "make_callbacks, expected",
    [
        (lambda: [], (False, False, False)),
        (lambda: [History(), OnEpochEnd(), LambdaCallback(on_epoch_end=print)],
         (False, False, False)),
        (lambda: [OnBatchEnd()], (True, False, False)),
        (lambda: [OnTestBatchBegin()], (False, True, False)),
        (lambda: [LambdaCallback(on_predict_batch_end=print)], (False, False, True)),
        (lambda: [LambdaCallback(on_train_batch_begin=print)], (True, False, False)),
        (lambda: [mock.MagicMock(spec=Callback)], (True, True, True)),
        (lambda: [CallbackList([OnTestBatchBegin()])], (False, True, False)),
    ],
)
def test_needs_batch_hooks_flags(make_callbacks, expected):
    assert flags(CallbackList(make_callbacks())) == expected


@pytest.mark.parametrize("verbose, expected", [(0, False), (2, False), (1, True), ("auto", True)])
def test_progbar_logger_needs_batch_hooks_only_when_drawing_a_live_bar(verbose, expected):
    callbacks = CallbackList(add_history=True, add_progbar=True, verbose=verbose, epochs=1,
                             steps=2)
    assert flags(callbacks) == (expected, expected, expected)
    callbacks.on_train_begin()
    # Validation inside fit is silent, so its batches need no hooks.
    assert flags(callbacks) == (expected, False, expected)
    callbacks.on_train_end()
    assert flags(callbacks) == (expected, expected, expected)


class CountingMapping(Mapping):
    def __init__(self, **values):
        self._values = values
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return self._values[key]

    def __iter__(self):
        self.reads += 1
        return iter(self._values)

    def __len__(self):
        self.reads += 1
        return len(self._values)


def test_lazy_batch_logs_are_passed_through_unread(monkeypatch, capsys):
    import ember.utils.progbar as progbar_module

    monkeypatch.setattr(progbar_module, "_stdout_is_interactive", lambda: False)
    received = []
    spy = LambdaCallback(on_train_batch_end=lambda batch, logs: received.append(logs))
    callbacks = CallbackList([spy], add_history=True, add_progbar=True, verbose=1, epochs=1,
                             steps=3)
    batch_logs = [CountingMapping(loss=0.5) for _ in range(3)]
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(0)
    for batch, logs in enumerate(batch_logs):
        callbacks.on_train_batch_begin(batch)
        callbacks.on_train_batch_end(batch, logs)
    assert received == batch_logs and all(a is b for a, b in zip(received, batch_logs))
    assert [logs.reads for logs in batch_logs] == [0, 0, 0]
    callbacks.on_epoch_end(0, {"loss": 0.25})
    assert capsys.readouterr().out.endswith("- loss: 0.2500\n")

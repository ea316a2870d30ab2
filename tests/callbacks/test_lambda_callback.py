"""LambdaCallback and the Callback base class."""

from unittest import mock

import pytest
import torch

from ember.callbacks import Callback, CallbackList, LambdaCallback
from ember.callbacks.lambda_callback import HOOK_NAMES


def test_every_hook_calls_its_function_with_the_hook_arguments():
    functions = {name: mock.Mock(name=name) for name in HOOK_NAMES}
    callback = LambdaCallback(**functions)
    callbacks = CallbackList([callback])
    callbacks.on_train_begin({"a": 1})
    callbacks.on_epoch_begin(0, {"b": 2})
    callbacks.on_train_batch_begin(0, {"c": 3})
    callbacks.on_train_batch_end(0, {"d": 4})
    callbacks.on_test_begin()
    callbacks.on_test_batch_begin(1)
    callbacks.on_test_batch_end(1, {"e": 5})
    callbacks.on_test_end({"f": 6})
    callbacks.on_epoch_end(0, {"g": 7})
    callbacks.on_train_end({"h": 8})
    callbacks.on_predict_begin()
    callbacks.on_predict_batch_begin(2)
    callbacks.on_predict_batch_end(2, {"outputs": 9})
    callbacks.on_predict_end()
    callbacks.on_batch_begin(5)
    callbacks.on_batch_end(5, {"i": 10})
    expected = {
        "on_train_begin": mock.call({"a": 1}),
        "on_epoch_begin": mock.call(0, {"b": 2}),
        "on_train_batch_begin": mock.call(0, {"c": 3}),
        "on_train_batch_end": mock.call(0, {"d": 4}),
        "on_test_begin": mock.call({}),
        "on_test_batch_begin": mock.call(1, {}),
        "on_test_batch_end": mock.call(1, {"e": 5}),
        "on_test_end": mock.call({"f": 6}),
        "on_epoch_end": mock.call(0, {"g": 7}),
        "on_train_end": mock.call({"h": 8}),
        "on_predict_begin": mock.call({}),
        "on_predict_batch_begin": mock.call(2, {}),
        "on_predict_batch_end": mock.call(2, {"outputs": 9}),
        "on_predict_end": mock.call({}),
        # Given their own functions, the train batch hooks do not call these.
        "on_batch_begin": mock.call(5, {}),
        "on_batch_end": mock.call(5, {"i": 10}),
    }
    assert {name: f.call_args_list for name, f in functions.items()} == {
        name: [call] for name, call in expected.items()}


def test_legacy_batch_functions_run_on_train_batches():
    seen = []
    callback = LambdaCallback(on_batch_end=lambda batch, logs: seen.append((batch, logs["loss"])))
    callbacks = CallbackList([callback])
    assert callbacks.needs_train_batch_hooks and not callbacks.needs_test_batch_hooks
    callbacks.on_train_batch_end(0, {"loss": 0.5})
    callbacks.on_test_batch_end(0, {"loss": 9.0})
    assert seen == [(0, 0.5)]


def test_positional_arguments_follow_keras_order():
    functions = [mock.Mock() for _ in range(6)]
    callback = LambdaCallback(*functions)
    names = ["on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
             "on_train_batch_begin", "on_train_batch_end"]
    assert [getattr(callback, name) for name in names] == functions


def test_bad_arguments():
    with pytest.raises(TypeError, match="unknown hook name\\(s\\) \\['on_epoch_finish'\\]"):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(TypeError, match="on_epoch_end must be a callable, got str"):
        LambdaCallback(on_epoch_end="print")


def test_callback_base_defaults():
    callback = Callback()
    assert callback.model is None and callback.params is None
    assert callback.validation_data is None
    model = torch.nn.Linear(1, 1)
    callback.set_model(model)
    callback.set_params({"epochs": 1})
    assert callback.model is model and callback.params == {"epochs": 1}
    other = torch.nn.Linear(1, 1)
    callback.model = other  # tf.keras code assigns the attribute directly
    assert callback.model is other
    for name in HOOK_NAMES:
        args = (0, {}) if "batch" in name or "epoch" in name else ({},)
        assert getattr(callback, name)(*args) is None


def test_default_train_batch_hooks_delegate_to_legacy_hooks():
    callback = Callback()
    with mock.patch.object(callback, "on_batch_begin") as begin, \
            mock.patch.object(callback, "on_batch_end") as end:
        callback.on_train_batch_begin(2, {"x": 1})
        callback.on_train_batch_end(2, {"loss": 0.5})
        callback.on_test_batch_end(2, {"loss": 0.5})
    begin.assert_called_once_with(2, {"x": 1})
    end.assert_called_once_with(2, {"loss": 0.5})

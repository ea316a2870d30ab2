"""steps_per_execution: validated in compile; batch callbacks see groups of steps as Keras does.

Keras 3 (its torch backend accepts only 1; the grouped behaviour is that of its
other backends) calls ``on_*_batch_begin(first)`` and ``on_*_batch_end(first + N - 1)``
for every group of N steps, the last group included even when it is shorter.
"""

import numpy as np
import pytest
import torch

import ember


class Recorder(ember.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(("train_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("train_end", batch, dict(logs)))

    def on_test_batch_end(self, batch, logs=None):
        self.events.append(("test_end", batch))

    def on_predict_batch_end(self, batch, logs=None):
        self.events.append(("predict_end", batch))


def _data():
    x = np.arange(20, dtype="float32").reshape(10, 2) / 10
    return x, x.sum(1, keepdims=True)


def _model(steps_per_execution):
    ember.utils.set_random_seed(0)
    model = ember.Sequential([ember.Input((2,)), ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], steps_per_execution=steps_per_execution)
    return model


def _expected_groups(steps, per_call):
    return [(begin, begin + per_call - 1) for begin in range(0, steps, per_call)]


@pytest.mark.parametrize("per_call", [1, 2, 3, 5, 7])
def test_batch_callbacks_every_group(per_call):
    x, y = _data()
    recorder = Recorder()
    model = _model(per_call)
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False, validation_data=(x, y), callbacks=[recorder])
    model.predict(x, batch_size=2, verbose=0, callbacks=[recorder])
    groups = _expected_groups(5, per_call)
    train = [e[1] for e in recorder.events if e[0] in ("train_begin", "train_end")]
    assert train == [i for group in groups for i in group]
    assert [e[1] for e in recorder.events if e[0] == "test_end"] == [end for _, end in groups]
    assert [e[1] for e in recorder.events if e[0] == "predict_end"] == [end for _, end in groups]


def test_logs_and_results_are_those_of_one_step_at_a_time():
    x, y = _data()
    single, grouped = Recorder(), Recorder()
    model_1, model_2 = _model(1), _model(2)
    history_1 = model_1.fit(x, y, batch_size=2, epochs=3, verbose=0, shuffle=False, callbacks=[single])
    history_2 = model_2.fit(x, y, batch_size=2, epochs=3, verbose=0, shuffle=False, callbacks=[grouped])
    assert history_1.history == history_2.history
    for a, b in zip(model_1.weights, model_2.weights):
        assert torch.equal(a, b)
    logs_1 = [e[2] for e in single.events if e[0] == "train_end"]
    logs_2 = [e[2] for e in grouped.events if e[0] == "train_end"]
    # Per epoch, the grouped ends come after steps 1, 3 and 4 (the last, shorter group).
    assert logs_2 == [logs_1[epoch * 5 + i] for epoch in range(3) for i in (1, 3, 4)]
    np.testing.assert_array_equal(model_1.predict(x, verbose=0), model_2.predict(x, verbose=0))


def test_stop_training_is_read_after_each_group():
    class StopAtFirstEnd(ember.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = True

    x, y = _data()
    model = _model(3)
    model.fit(x, y, batch_size=2, epochs=2, verbose=0, shuffle=False, callbacks=[StopAtFirstEnd()])
    assert int(model.optimizer.iterations) == 3


def test_progress_bar_counts_steps(capsys):
    x, y = _data()
    model = _model(2)
    model.fit(x, y, batch_size=2, epochs=1, verbose=1, shuffle=False)
    assert "5/5" in capsys.readouterr().out


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True, None])
def test_steps_per_execution_must_be_a_positive_int(value):
    model = ember.Sequential([ember.Input((2,)), ember.layers.Dense(1)])
    with pytest.raises(ValueError, match=rf"`steps_per_execution` must be an integer >= 1, got {value!r}"):
        model.compile(optimizer="sgd", loss="mse", steps_per_execution=value)

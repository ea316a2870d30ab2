"""fit / evaluate / predict on arrays: structures, callbacks, overridable steps, errors."""

import re
from unittest import mock

import numpy as np
import pytest
import torch

import ember
from ember import layers


def _mlp(out_units=3, activation="softmax"):
    inputs = ember.Input(shape=(6,), name="features")
    x = layers.Dense(8, activation="relu")(inputs)
    return ember.Model(inputs, layers.Dense(out_units, activation=activation, name="out")(x))


def _data(n=100):
    rng = np.random.default_rng(0)
    return rng.random((n, 6), dtype=np.float32), rng.integers(0, 3, n)


def test_callback_hooks_observe_every_step_in_order():
    x, y = _data(100)
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    cb = mock.MagicMock(spec=ember.callbacks.Callback)
    model.fit(x, y, batch_size=32, epochs=2, validation_data=(x[:40], y[:40]), verbose=0, callbacks=[cb])
    names = [c[0] for c in cb.method_calls if c[0].startswith("on_")]
    assert names[0] == "on_train_begin" and names[-1] == "on_train_end"
    assert names.count("on_epoch_begin") == 2 and names.count("on_train_batch_end") == 8
    assert names.count("on_test_batch_end") == 4 and names.count("on_test_begin") == 2
    batch_calls = [c for c in cb.method_calls if c[0] == "on_train_batch_end"]
    assert [c.args[0] for c in batch_calls] == [0, 1, 2, 3, 0, 1, 2, 3]
    logs = batch_calls[-1].args[1]
    assert set(logs) == {"loss", "accuracy"} and isinstance(logs["loss"], float)
    epoch_end = [c for c in cb.method_calls if c[0] == "on_epoch_end"][0]
    assert set(epoch_end.args[1]) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_progress_bar_formats(capsys, monkeypatch):
    x, y = _data(100)
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    model.fit(x, y, batch_size=32, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert re.search(r"Epoch 1/2\n4/4 - \d+s - \d+(ms|us|s)/step - loss: \d\.\d{4} - sparse_categorical_accuracy: \d\.\d{4}\n", out)
    monkeypatch.setattr("ember.utils.progbar._stdout_is_interactive", lambda: True)
    model.fit(x, y, batch_size=32, epochs=1, verbose=1)
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert out.count("\r") >= 2  # redrawn in place
    assert re.search(r"4/4 ━{20} \d+s \d+(ms|us|s)/step - loss: \d\.\d{4}", out)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    model.fit(x, y, batch_size=32, epochs=1, verbose="auto")  # auto = 2 off a terminal
    assert re.search(r"^4/4 - ", capsys.readouterr().out)


def test_evaluate_returns_scalar_list_or_dict():
    x, y = _data()
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    loss = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    values = model.evaluate(x, y, verbose=0)
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(as_dict) == model.metrics_names == ["loss", "accuracy"]
    assert values == pytest.approx(list(as_dict.values()))
    # steps limits the batches: the first 32 samples only
    first = model.evaluate(x, y, batch_size=32, steps=1, verbose=0, return_dict=True)
    assert first == pytest.approx(model.evaluate(x[:32], y[:32], verbose=0, return_dict=True))


def test_sample_weight_in_evaluate_weights_the_loss():
    x, y = _data(64)
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    sw = np.zeros(64)
    sw[:10] = 1.0
    weighted = model.evaluate(x, y, sample_weight=sw, batch_size=64, verbose=0)
    unweighted_first10 = model.evaluate(x[:10], y[:10], batch_size=64, verbose=0)
    # sum_over_batch_size: weighted sum divided by the number of samples (64), not by the weights' sum.
    assert weighted == pytest.approx(unweighted_first10 * 10 / 64, rel=1e-5)


def test_multi_output_losses_weights_and_names():
    inputs = ember.Input(shape=(6,))
    h = layers.Dense(8, activation="relu")(inputs)
    score = layers.Dense(1, name="score_output")(h)
    cls = layers.Dense(3, activation="softmax", name="class_output")(h)
    model = ember.Model(inputs, [score, cls])
    x, y = _data(64)
    y_score = np.random.rand(64, 1).astype("float32")
    y_cls = np.eye(3, dtype="float32")[y]
    model.compile(
        optimizer="rmsprop",
        loss={"score_output": "mse", "class_output": "categorical_crossentropy"},
        metrics={"score_output": ["mae"], "class_output": ["accuracy"]},
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    logs = model.evaluate(x, {"score_output": y_score, "class_output": y_cls}, batch_size=64, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "score_output_loss", "class_output_loss", "score_output_mae", "class_output_accuracy"]
    assert logs["loss"] == pytest.approx(2 * logs["score_output_loss"] + logs["class_output_loss"], rel=1e-5)
    p_score, p_cls = model.predict(x, verbose=0)
    assert logs["score_output_loss"] == pytest.approx(np.mean((p_score - y_score) ** 2), rel=1e-5)
    assert logs["class_output_accuracy"] == pytest.approx(np.mean(p_cls.argmax(1) == y))
    history = model.fit(x, [y_score, y_cls], epochs=1, verbose=0)
    assert set(history.history) == set(logs)
    # a loss for one output only
    model.compile(optimizer="rmsprop", loss=[None, "categorical_crossentropy"])
    only_cls = model.evaluate(x, [y_score, y_cls], verbose=0)
    _, p_cls = model.predict(x, verbose=0)
    p_cls = np.clip(p_cls / p_cls.sum(1, keepdims=True), 1e-7, 1 - 1e-7)
    assert only_cls == pytest.approx(-np.mean(np.sum(y_cls * np.log(p_cls), 1)), rel=1e-5)


def test_predict_returns_numpy_nested_like_outputs():
    inputs = ember.Input(shape=(6,))
    model = ember.Model(inputs, {"a": layers.Dense(2)(inputs), "b": layers.Dense(1)(inputs)})
    x, _ = _data(70)
    out = model.predict(x, batch_size=32, verbose=0)
    assert set(out) == {"a", "b"} and out["a"].shape == (70, 2) and out["b"].shape == (70, 1)
    assert isinstance(out["a"], np.ndarray)
    np.testing.assert_allclose(out["a"], model(torch.as_tensor(x))["a"].detach().numpy(), rtol=1e-6)
    assert model.predict(x, steps=1, batch_size=32, verbose=0)["a"].shape == (32, 2)


def test_overridden_train_step_is_used():
    class CustomModel(ember.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable = [v for v in self.trainable_weights]
            self.optimizer.apply([v.value.grad for v in trainable], trainable)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = ember.Input(shape=(6,))
    model = CustomModel(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.random.rand(64, 6).astype("float32")
    y = x.sum(1, keepdims=True)
    history = model.fit(x, y, epochs=5, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_train_and_test_on_batch():
    x, y = _data(32)
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.test_on_batch(x, y, return_dict=True)
    for _ in range(20):
        model.train_on_batch(x, y)
    after = model.test_on_batch(x, y, return_dict=True)
    assert after["loss"] < before["loss"]
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x, verbose=0), rtol=1e-6)


def test_initial_epoch_and_steps_per_epoch():
    x, y = _data(100)
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, initial_epoch=1, verbose=0)
    assert history.epoch == [1, 2]
    steps = []
    cb = ember.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(b))
    model.fit(x, y, batch_size=10, epochs=2, steps_per_epoch=3, verbose=0, callbacks=[cb])
    assert steps == [0, 1, 2, 0, 1, 2]
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(x, y, batch_size=10, epochs=5, steps_per_epoch=4, verbose=0)
    assert len(history.epoch) == 3  # 10 batches: 4 + 4 + 2, then stop


def test_validation_freq():
    x, y = _data(64)
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=4, validation_data=(x, y), validation_freq=2, verbose=0)
    assert len(history.history["val_loss"]) == 2


# ---------------------------------------------------------------- errors
def test_fit_before_compile():
    x, y = _data()
    with pytest.raises(RuntimeError, match=r"You must call `compile\(\)` before `fit\(\)`"):
        _mlp().fit(x, y)
    with pytest.raises(RuntimeError, match="before `evaluate"):
        _mlp().evaluate(x, y)


def test_mismatched_lengths():
    x, y = _data()
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"x: 100, y: 90"):
        model.fit(x, y[:90], verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(x, y, sample_weight=np.ones(5), verbose=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"optimizer": "rmsporp"}, "rmsporp"),
        ({"loss": "sparse_categorical_crossentropyy"}, "sparse_categorical_crossentropyy"),
        ({"loss": "mse", "metrics": "accuracy"}, r"metrics=\['accuracy'\]"),
    ],
)
def test_unknown_identifiers(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _mlp().compile(**kwargs)


def test_unknown_metric_identifier_fails_at_compile():
    with pytest.raises(ValueError, match="Unknown metric identifier 'acuracy'"):
        _mlp().compile(loss="sparse_categorical_crossentropy", metrics=["acuracy"])


@pytest.mark.parametrize("split", [0.0001 - 1, 1.0, 1.5, -0.2])
def test_validation_split_outside_unit_interval(split):
    x, y = _data()
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"validation_split` must be a float in \(0, 1\)"):
        model.fit(x, y, validation_split=split, verbose=0)


def test_bad_fit_arguments():
    x, y = _data()
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="verbose"):
        model.fit(x, y, verbose=3)
    with pytest.raises(ValueError, match="epochs"):
        model.fit(x, y, epochs=-1, verbose=0)
    with pytest.raises(TypeError, match="Unsupported type for `x`"):
        model.fit("not data", verbose=0)
    with pytest.raises(ValueError, match="no targets `y`"):
        model.fit(x, verbose=0)


def test_jit_compile_matches_eager():
    x, y = _data(64)
    histories, predictions = [], []
    for jit in (False, True):
        torch.manual_seed(0)
        model = _mlp()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit)
        assert (model._step_compiler is not None) is jit  # the whole step compiles: see test_jit_compile.py
        histories.append(model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history)
        predictions.append(model.predict(x, verbose=0))
    for key in histories[0]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-4)
    np.testing.assert_allclose(predictions[0], predictions[1], rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="jit_compile"):
        _mlp().compile(loss="mse", jit_compile="yes")


def test_validation_steps_and_batch_size():
    x, y = _data(100)
    model = _mlp()
    model.compile(loss="sparse_categorical_crossentropy")
    seen = []
    cb = ember.callbacks.LambdaCallback(on_test_batch_end=lambda b, logs: seen.append(b))
    history = model.fit(
        x, y, epochs=2, validation_data=(x, y), validation_steps=2, validation_batch_size=10,
        verbose=0, callbacks=[cb],
    )
    assert seen == [0, 1, 0, 1]
    # validation restarts each epoch: the same first 20 samples are evaluated
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x[:20], y[:20], verbose=0), rel=1e-6)


def test_custom_activation_config_round_trip():
    layer = layers.Dense(2, activation=lambda t: t * 2)
    clone = layers.Dense.from_config(layer.get_config())
    clone(torch.ones(1, 3))
    clone.set_weights([np.ones((3, 2), "float32"), np.zeros(2, "float32")])
    torch.testing.assert_close(clone(torch.ones(1, 3)), torch.full((1, 2), 6.0))

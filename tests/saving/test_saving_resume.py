"""A model saved mid-training continues exactly as the original: same optimizer state, same history."""

import numpy as np
import pytest
import torch

import ember
from ember import layers

from .custom_objects import HalvingSchedule, MaxAbsError, TwoTower, WeightedMSE, squared_error


def _data(n=24, features=4):
    rng = np.random.default_rng(3)
    x = rng.random((n, features), dtype=np.float32)
    return x, rng.random((n, 1), dtype=np.float32), rng.random((n, 2), dtype=np.float32)


def _assert_optimizer_state_equal(a, b):
    assert type(a) is type(b)
    assert a.get_config() == b.get_config()
    assert [v.name for v in a.variables] == [v.name for v in b.variables]
    for va, vb in zip(a.variables, b.variables):
        assert va.dtype == vb.dtype
        torch.testing.assert_close(va, vb, rtol=0, atol=0)


def _continue_both(model, path, x, y, **fit_kwargs):
    """Save, load, then train the original and the copy on the same batches in the same order."""
    model.save(path)
    loaded = ember.models.load_model(path)
    _assert_optimizer_state_equal(model.optimizer, loaded.optimizer)
    fit_kwargs = {"epochs": 2, "batch_size": 6, "shuffle": False, "verbose": 0, **fit_kwargs}
    original = model.fit(x, y, **fit_kwargs).history
    resumed = loaded.fit(x, y, **fit_kwargs).history
    return loaded, original, resumed


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: ember.optimizers.Adam(learning_rate=ember.optimizers.schedules.ExponentialDecay(0.05, 3, 0.7)),
        lambda: ember.optimizers.SGD(learning_rate=HalvingSchedule(0.1, 4), momentum=0.9, nesterov=True),
        lambda: ember.optimizers.RMSprop(learning_rate=0.01, use_ema=True, clipnorm=1.0),
    ],
    ids=["adam-decay", "sgd-custom-schedule", "rmsprop-ema"],
)
def test_functional_model_resumes_with_identical_history(tmp_path, optimizer):
    x, y1, y2 = _data()
    inputs = ember.Input(shape=(4,), name="features")
    hidden = layers.Dense(6, activation="relu", name="hidden")(inputs)
    first = layers.Dense(1, name="first")(hidden)
    second = layers.Dense(2, activation="softmax", name="second")(hidden)
    model = ember.Model(inputs, [first, second])
    model.compile(
        optimizer=optimizer(),
        loss={"first": WeightedMSE(2.0), "second": "categorical_crossentropy"},
        loss_weights={"first": 0.5, "second": 2.0},
        metrics={"first": [MaxAbsError(), "mae"], "second": [ember.metrics.CategoricalAccuracy(name="acc")]},
    )
    model.fit(x, [y1, y2], epochs=2, batch_size=6, shuffle=False, verbose=0)

    loaded, original, resumed = _continue_both(model, tmp_path / "mid.ember", x, [y1, y2])
    assert set(original) == {
        "loss", "first_loss", "second_loss", "first_max_abs_error", "first_mae", "second_acc"
    }
    assert resumed == original  # exactly: same numbers, epoch after epoch
    _assert_optimizer_state_equal(model.optimizer, loaded.optimizer)
    np.testing.assert_array_equal(model.predict(x, verbose=0)[1], loaded.predict(x, verbose=0)[1])


def test_subclassed_model_resumes_with_custom_loss_function(tmp_path):
    x, y, _ = _data(features=3)
    model = TwoTower(units=4)
    model(torch.zeros(1, 3))
    model.compile(optimizer=ember.optimizers.Adam(0.02), loss=squared_error, metrics=["mse", squared_error])
    model.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0)

    loaded, original, resumed = _continue_both(model, tmp_path / "sub.ember", x, y, epochs=3)
    assert sorted(original) == ["loss", "mse", "squared_error"]
    assert resumed == original
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 4 * 3 + 4


def test_saved_before_training_resumes_like_a_fresh_model(tmp_path):
    x, y, _ = _data()
    model = ember.Sequential([ember.Input(shape=(4,)), layers.Dense(3, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer=ember.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    assert not model.optimizer.built
    _, original, resumed = _continue_both(model, tmp_path / "fresh.ember", x, y)
    assert resumed == original


def test_load_without_compile(tmp_path):
    x, y, _ = _data()
    model = ember.Sequential([ember.Input(shape=(4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.ember")
    loaded = ember.models.load_model(tmp_path / "m.ember", compile=False)
    assert not loaded.compiled and loaded.optimizer is None
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_compile_arguments_that_cannot_be_saved(tmp_path):
    model = ember.Sequential([ember.Input(shape=(4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss=lambda y_true, y_pred: torch.mean((y_true - y_pred) ** 2, dim=-1))
    with pytest.raises(ValueError, match=r"compile\(\) arguments.*lambda.*register_serializable"):
        model.save(tmp_path / "m.ember")
    assert not (tmp_path / "m.ember").exists()

    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), loss="mse")
    with pytest.raises(ValueError, match="not an ember optimizer.*save_weights"):
        model.save(tmp_path / "m.ember")


def test_frozen_layer_stays_frozen_and_resumes(tmp_path):
    x, y, _ = _data()
    frozen = layers.Dense(3, activation="tanh", name="frozen")
    frozen.trainable = False
    model = ember.Sequential([ember.Input(shape=(4,)), frozen, layers.Dense(1, name="head")])
    model.compile(optimizer=ember.optimizers.Adam(0.05), loss="mse")
    model.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0)

    loaded, original, resumed = _continue_both(model, tmp_path / "frozen.ember", x, y)
    assert resumed == original
    assert not loaded.get_layer("frozen").trainable
    assert len(loaded.trainable_weights) == 2 and len(loaded.non_trainable_weights) == 2
    np.testing.assert_array_equal(loaded.get_layer("frozen").get_weights()[0], frozen.get_weights()[0])

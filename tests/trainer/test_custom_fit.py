"""Customising what happens in fit(): overridden steps, compute_loss/compute_metrics, own metrics."""

import numpy as np
import pytest
import torch

import ember
from ember import layers


def _data(n=128):
    rng = np.random.default_rng(0)
    x = rng.random((n, 32), dtype=np.float32)
    y = rng.random((n, 1), dtype=np.float32)
    return x, y


def _functional(cls):
    inputs = ember.Input(shape=(32,))
    return cls(inputs, layers.Dense(1)(inputs))


def test_keras2_style_train_step_with_compiled_loss_and_metrics():
    class CustomModel(ember.Model):
        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    model = _functional(CustomModel)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = _data()
    history = model.fit(x, y, epochs=3, verbose=0)
    assert list(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    # The default test_step reports the same metrics for the same data.
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    assert logs["mae"] == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-5)


def test_keras3_style_own_metrics_and_no_compiled_loss():
    class CustomModel(ember.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = ember.metrics.Mean(name="loss")
            self.mae_metric = ember.metrics.MeanAbsoluteError(name="mae")

        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            loss = torch.mean(torch.square(y - y_pred))
            self.zero_grad()
            loss.backward()
            trainable = self.trainable_weights
            self.optimizer.apply([v.grad for v in trainable], trainable)
            self.loss_tracker.update_state(loss.detach())
            self.mae_metric.update_state(y, y_pred.detach())
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            # Listed here so they are reset at the start of every epoch.
            return [self.loss_tracker, self.mae_metric]

    inputs = ember.Input(shape=(32,))
    model = CustomModel(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="adam")
    x, y = _data()
    history = model.fit(x, y, epochs=3, verbose=0)
    assert list(history.history) == ["loss", "mae"]
    assert model.metrics_names == ["loss", "mae"]
    # reset every epoch: epoch 3's mae is the mean over that epoch's 4 batches only
    assert history.history["mae"][-1] < history.history["mae"][0]


def test_custom_test_step_and_predict_step():
    class CustomModel(ember.Model):
        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            self.compute_loss(y=y, y_pred=y_pred)
            return {"doubled_mean": torch.mean(y_pred) * 2}

        def predict_step(self, data):
            (x,) = data
            return self(x, training=False) + 100.0

    model = _functional(CustomModel)
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(32)
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    plain = model(torch.as_tensor(x)).detach().numpy()
    assert logs == pytest.approx({"doubled_mean": float(np.mean(plain) * 2)})
    np.testing.assert_allclose(model.predict(x, verbose=0), plain + 100.0, rtol=1e-6)


def test_compute_loss_override_is_used_by_default_train_step():
    calls = []

    class CustomModel(ember.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            calls.append(training)
            loss = super().compute_loss(x, y, y_pred, sample_weight, training)
            return loss + 10.0

    model = _functional(CustomModel)
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(32)
    loss = model.evaluate(x, y, batch_size=32, verbose=0)
    pred = model.predict(x, verbose=0)
    assert loss == pytest.approx(np.mean((pred - y) ** 2) + 10.0, rel=1e-5)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert calls == [False, True]


def test_compute_metrics_override():
    class CustomModel(ember.Model):
        def compute_metrics(self, x, y, y_pred, sample_weight=None):
            logs = super().compute_metrics(x, y, y_pred, sample_weight)
            return {**logs, "max_pred": float(y_pred.max())}

    model = _functional(CustomModel)
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(32)
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    assert logs["max_pred"] == pytest.approx(float(model.predict(x, verbose=0).max()), rel=1e-6)

"""Hinge, squared hinge, categorical hinge, KL divergence and Poisson metrics against Keras and NumPy."""

import numpy as np
import pytest
import torch
from metric_oracles import assert_matches_keras, weight_for

from ember import losses, metrics

N, C = 6, 4
NAMES = ["Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson"]


def _batch(name, rng, signed=False):
    if name in ("Hinge", "SquaredHinge"):
        labels = rng.integers(0, 2, size=(N, C)).astype(np.float32)
        return (2 * labels - 1 if signed else labels), rng.normal(size=(N, C)).astype(np.float32)
    if name == "CategoricalHinge":
        return np.eye(C, dtype=np.float32)[rng.integers(0, C, size=N)], rng.normal(size=(N, C)).astype(np.float32)
    if name == "KLDivergence":
        y_true = rng.dirichlet(np.ones(C), size=N).astype(np.float32)
        y_true[0, 0] = 0.0  # a zero probability: clipped, not NaN
        return y_true, rng.dirichlet(np.ones(C), size=N).astype(np.float32)
    return rng.poisson(2.0, size=(N, C)).astype(np.float32), rng.uniform(0.1, 4.0, size=(N, C)).astype(np.float32)


def _np_per_sample(name, y_true, y_pred):
    if name in ("Hinge", "SquaredHinge"):
        signs = 2 * y_true - 1 if np.isin(y_true, [0, 1]).all() else y_true
        margins = np.maximum(1 - signs * y_pred, 0)
        return margins.mean(-1) if name == "Hinge" else (margins**2).mean(-1)
    if name == "CategoricalHinge":
        positive = (y_true * y_pred).sum(-1)
        negative = ((1 - y_true) * y_pred).max(-1)
        return np.maximum(negative - positive + 1, 0)
    if name == "KLDivergence":
        t, p = np.clip(y_true, 1e-7, 1), np.clip(y_pred, 1e-7, 1)
        return (t * np.log(t / p)).sum(-1)
    return (y_pred - y_true * np.log(y_pred + 1e-7)).mean(-1)


@pytest.mark.parametrize("mode", ["none", "n", "n1", "mixed"])
@pytest.mark.parametrize("name", NAMES)
def test_matches_keras_over_weighted_batches(keras, name, mode):
    rng = np.random.default_rng(len(name))
    ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
    assert ours.name == theirs.name and ours.get_config() == theirs.get_config()
    batches = []
    for step in range(4):
        batch_mode = ["none", "n", "n1"][step % 3] if mode == "mixed" else mode
        batches.append((*_batch(name, rng, signed=step == 2), weight_for(batch_mode, rng, N)))
    assert_matches_keras(ours, theirs, batches)


@pytest.mark.parametrize("name", NAMES)
def test_weighted_mean_matches_numpy(name):
    rng = np.random.default_rng(5)
    metric = getattr(metrics, name)()
    values, weights = [], []
    for step in range(3):
        y_true, y_pred = _batch(name, rng, signed=step == 1)
        weight = rng.uniform(0.1, 2.0, size=(N,)).astype(np.float32)
        metric.update_state(y_true, y_pred, sample_weight=weight)
        values.append(_np_per_sample(name, y_true, y_pred))
        weights.append(weight)
    values, weights = np.concatenate(values), np.concatenate(weights)
    np.testing.assert_allclose(float(metric.result()), (values * weights).sum() / weights.sum(), rtol=1e-5)


def test_hinge_converts_zero_one_labels_per_batch_only_when_all_are_binary():
    y_pred = np.array([[0.5, -0.5]], dtype=np.float32)
    # {0, 1} labels become {-1, 1}; a batch with any other value is used as given.
    np.testing.assert_allclose(metrics.hinge([[0.0, 1.0]], y_pred).numpy(), [(1.5 + 1.5) / 2])
    np.testing.assert_allclose(metrics.hinge([[0.0, -1.0]], y_pred).numpy(), [(1.0 + 0.5) / 2])


def test_kl_divergence_of_identical_distributions_is_zero():
    p = np.array([[0.2, 0.3, 0.5]], dtype=np.float32)
    metric = metrics.KLDivergence()
    metric.update_state(p, p)
    assert float(metric.result()) == pytest.approx(0.0, abs=1e-7)


def test_metric_functions_are_the_loss_functions():
    for name in ["hinge", "squared_hinge", "categorical_hinge", "kl_divergence", "poisson"]:
        assert getattr(metrics, name) is getattr(losses, name)


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_string_identifier_and_reset(keras, name):
    ours = getattr(metrics, name)(name="custom", dtype="float64")
    assert ours.get_config() == getattr(keras.metrics, name)(name="custom", dtype="float64").get_config()
    rebuilt = metrics.deserialize(metrics.serialize(ours))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()
    snake = metrics.get(name).name
    assert type(metrics.get(snake)) is type(ours) and snake == keras.metrics.get(snake).name
    ours.update_state(*_batch(name, np.random.default_rng(0)))
    assert float(ours.result()) != 0.0
    ours.reset_state()
    assert float(ours.result()) == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_updates_do_no_host_sync(no_host_sync, name):
    metric = getattr(metrics, name)()
    y_true, y_pred = (torch.from_numpy(a) for a in _batch(name, np.random.default_rng(1)))
    with no_host_sync():
        metric.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred, sample_weight=torch.rand(N))
        metric.result()
        metric.reset_state()

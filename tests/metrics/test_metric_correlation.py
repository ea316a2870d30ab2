"""Pearson and concordance correlation metrics against Keras and NumPy formulas."""

import numpy as np
import pytest
import torch
from metric_oracles import assert_matches_keras, weight_for

from ember import metrics

N, D = 6, 5
NAMES = ["PearsonCorrelation", "ConcordanceCorrelation"]


def _np_per_sample(name, y_true, y_pred):
    y_true, y_pred = y_true.astype(np.float64), y_pred.astype(np.float64)
    if name == "PearsonCorrelation":
        return np.array([np.corrcoef(t, p)[0, 1] for t, p in zip(y_true, y_pred)])
    covariance = ((y_true - y_true.mean(-1, keepdims=True)) * (y_pred - y_pred.mean(-1, keepdims=True))).mean(-1)
    spread = y_true.var(-1) + y_pred.var(-1) + (y_true.mean(-1) - y_pred.mean(-1)) ** 2
    return 2 * covariance / (spread + 1e-7)


def _batch(rng):
    y_true = rng.normal(size=(N, D)).astype(np.float32)
    return y_true, (0.7 * y_true + rng.normal(scale=0.5, size=(N, D)) + 0.3).astype(np.float32)


@pytest.mark.parametrize("mode", ["none", "n", "n1", "mixed"])
@pytest.mark.parametrize("name", NAMES)
def test_matches_keras_over_weighted_batches(keras, name, mode):
    rng = np.random.default_rng(len(name) + len(mode))
    ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
    assert ours.name == theirs.name and ours.get_config() == theirs.get_config()
    batches = []
    for step in range(4):
        batch_mode = ["none", "n", "n1"][step % 3] if mode == "mixed" else mode
        batches.append((*_batch(rng), weight_for(batch_mode, rng, N)))
    assert_matches_keras(ours, theirs, batches)


@pytest.mark.parametrize("name", NAMES)
def test_weighted_mean_matches_numpy(name):
    rng = np.random.default_rng(2)
    metric = getattr(metrics, name)()
    values, weights = [], []
    for _ in range(3):
        y_true, y_pred = _batch(rng)
        weight = rng.uniform(0.1, 2.0, size=(N,)).astype(np.float32)
        metric.update_state(y_true, y_pred, sample_weight=weight)
        values.append(_np_per_sample(name, y_true, y_pred))
        weights.append(weight)
    values, weights = np.concatenate(values), np.concatenate(weights)
    np.testing.assert_allclose(float(metric.result()), (values * weights).sum() / weights.sum(), rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_axis_matches_keras(keras, name):
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.normal(size=(3, D, 2)).astype(np.float32), rng.normal(size=(3, D, 2)).astype(np.float32)
    ours, theirs = getattr(metrics, name)(axis=1), getattr(keras.metrics, name)(axis=1)
    ours.update_state(y_true, y_pred)
    theirs.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(ours.result()), float(theirs.result()), rtol=1e-5)
    moved = _np_per_sample(name, np.moveaxis(y_true, 1, -1).reshape(-1, D), np.moveaxis(y_pred, 1, -1).reshape(-1, D))
    np.testing.assert_allclose(float(ours.result()), moved.mean(), rtol=1e-5)


def test_edge_cases(keras):
    # Identical targets and predictions: both are 1; a shift lowers only the concordance.
    y = np.array([[1.0, 2.0, 4.0]], dtype=np.float32)
    assert float(metrics.pearson_correlation(y, y + 5)[0]) == pytest.approx(1.0, abs=1e-6)
    assert float(metrics.concordance_correlation(y, y)[0]) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(
        metrics.concordance_correlation(y, y + 5).numpy(), _np_per_sample("ConcordanceCorrelation", y, y + 5), rtol=1e-6
    )
    # A constant row has no Pearson correlation: NaN, as in Keras.
    constant = np.ones((1, 3), dtype=np.float32)
    assert np.isnan(float(metrics.pearson_correlation(constant, y)[0]))
    assert np.isnan(float(keras.metrics.pearson_correlation(constant, y)[0]))


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_string_identifier_and_reset(keras, name):
    ours = getattr(metrics, name)(name="c", dtype="float64", axis=1)
    assert ours.get_config() == getattr(keras.metrics, name)(name="c", dtype="float64", axis=1).get_config()
    rebuilt = metrics.deserialize(metrics.serialize(ours))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()
    snake = getattr(metrics, name)().name
    assert type(metrics.get(snake)) is type(ours) and keras.metrics.get(snake).name == snake
    ours.update_state(*_batch(np.random.default_rng(0)))
    assert float(ours.result()) != 0.0
    ours.reset_state()
    assert float(ours.result()) == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_bad_axis(name):
    with pytest.raises(ValueError, match=r"`axis` must be an int, got axis=\(0, 1\)"):
        getattr(metrics, name)(axis=(0, 1))


@pytest.mark.parametrize("name", NAMES)
def test_updates_do_no_host_sync(no_host_sync, name):
    metric = getattr(metrics, name)()
    y_true, y_pred = torch.rand(4, 3), torch.rand(4, 3)
    with no_host_sync():
        metric.update_state(y_true, y_pred, sample_weight=torch.rand(4))
        metric.result()
        metric.reset_state()

"""RMSE, MAPE, MSLE, cosine similarity and log-cosh metrics against Keras and NumPy formulas."""

import numpy as np
import pytest
import torch
from metric_oracles import assert_matches_keras, weight_for

from ember import losses, metrics

N, D = 6, 3
NAMES = [
    "RootMeanSquaredError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "CosineSimilarity",
    "LogCoshError",
]


def _np_per_sample(name, y_true, y_pred):
    if name == "RootMeanSquaredError":
        return ((y_true - y_pred) ** 2).mean(-1)  # the root is taken of the weighted mean
    if name == "MeanAbsolutePercentageError":
        return 100 * np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), 1e-7)).mean(-1)
    if name == "MeanSquaredLogarithmicError":
        return ((np.log1p(np.maximum(y_pred, 1e-7)) - np.log1p(np.maximum(y_true, 1e-7))) ** 2).mean(-1)
    if name == "CosineSimilarity":
        norms = np.linalg.norm(y_true, axis=-1) * np.linalg.norm(y_pred, axis=-1)
        return (y_true * y_pred).sum(-1) / norms
    if name == "LogCoshError":
        return np.log(np.cosh(y_pred.astype(np.float64) - y_true)).mean(-1)
    raise AssertionError(name)


def _batch(rng):
    return rng.normal(size=(N, D)).astype(np.float32), rng.normal(size=(N, D)).astype(np.float32)


@pytest.mark.parametrize("mode", ["none", "n", "n1", "mixed"])
@pytest.mark.parametrize("name", NAMES)
def test_matches_keras_over_weighted_batches(keras, name, mode):
    rng = np.random.default_rng(len(name))
    ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
    assert ours.name == theirs.name and ours.get_config() == theirs.get_config()
    batches = []
    for step in range(4):
        batch_mode = ["none", "n", "n1"][step % 3] if mode == "mixed" else mode
        batches.append((*_batch(rng), weight_for(batch_mode, rng, N)))
    assert_matches_keras(ours, theirs, batches)


@pytest.mark.parametrize("name", NAMES)
def test_weighted_mean_matches_numpy(name):
    rng = np.random.default_rng(3)
    metric = getattr(metrics, name)()
    values, weights = [], []
    for _ in range(3):
        y_true, y_pred = _batch(rng)
        weight = rng.uniform(0.1, 2.0, size=(N,)).astype(np.float32)
        metric.update_state(y_true, y_pred, sample_weight=weight)
        values.append(_np_per_sample(name, y_true, y_pred))
        weights.append(weight)
    values, weights = np.concatenate(values), np.concatenate(weights)
    expected = (values * weights).sum() / weights.sum()
    if name == "RootMeanSquaredError":
        expected = np.sqrt(expected)
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)


def test_rmse_weights_per_element_match_keras(keras):
    rng = np.random.default_rng(8)
    batches = [(*_batch(rng), rng.uniform(size=(N, D)).astype(np.float32)) for _ in range(3)]
    assert_matches_keras(metrics.RootMeanSquaredError(), keras.metrics.RootMeanSquaredError(), batches)


def test_edge_cases_against_numpy():
    # MAPE with zero targets: the denominator is floored at 1e-7.
    assert float(metrics.mean_absolute_percentage_error([[0.0]], [[1e-7]])[0]) == pytest.approx(100.0)
    # MSLE floors negative values at 1e-7 before the log.
    got = metrics.mean_squared_logarithmic_error([[-5.0, 2.0]], [[0.0, 2.0]])
    np.testing.assert_allclose(got.numpy(), [0.0], atol=1e-12)
    # Cosine similarity of a zero vector is 0, of opposite vectors -1.
    np.testing.assert_allclose(
        metrics.cosine_similarity([[0.0, 0.0], [1.0, 2.0]], [[3.0, 4.0], [-2.0, -4.0]]).numpy(), [0.0, -1.0], atol=1e-6
    )
    # log-cosh stays finite where cosh overflows float32, and is ~|x| - log 2 there.
    got = metrics.log_cosh([[0.0]], [[200.0]])
    np.testing.assert_allclose(got.numpy(), [200.0 - np.log(2.0)], rtol=1e-6)


def test_cosine_similarity_axis_and_config(keras):
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.normal(size=(N, D, 2)).astype(np.float32), rng.normal(size=(N, D, 2)).astype(np.float32)
    ours, theirs = metrics.CosineSimilarity(axis=1), keras.metrics.CosineSimilarity(axis=1)
    ours.update_state(y_true, y_pred)
    theirs.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(ours.result()), float(theirs.result()), rtol=1e-5)
    norms = np.linalg.norm(y_true, axis=1) * np.linalg.norm(y_pred, axis=1)
    np.testing.assert_allclose(float(ours.result()), ((y_true * y_pred).sum(1) / norms).mean(), rtol=1e-5)
    # A non-default axis survives the round trip (Keras's config drops it; the default config matches).
    rebuilt = metrics.deserialize(metrics.serialize(ours))
    assert rebuilt.axis == 1 and rebuilt.get_config() == {"name": "cosine_similarity", "dtype": "float32", "axis": 1}
    assert metrics.CosineSimilarity().get_config() == keras.metrics.CosineSimilarity().get_config()


def test_metric_functions_are_the_loss_functions_except_cosine():
    for name in ["mean_absolute_percentage_error", "mean_squared_logarithmic_error", "log_cosh"]:
        assert getattr(metrics, name) is getattr(losses, name)
    y_true, y_pred = [[1.0, 2.0]], [[2.0, 1.0]]
    np.testing.assert_allclose(
        metrics.cosine_similarity(y_true, y_pred).numpy(), -losses.cosine_similarity(y_true, y_pred).numpy()
    )


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_and_reset(keras, name):
    ours = getattr(metrics, name)(name="custom", dtype="float64")
    assert ours.get_config() == getattr(keras.metrics, name)(name="custom", dtype="float64").get_config()
    rebuilt = metrics.deserialize(metrics.serialize(ours))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()
    ours.update_state(np.ones((2, 2)), np.full((2, 2), 3.0))
    assert float(ours.result()) != 0.0
    ours.reset_state()
    assert float(ours.result()) == 0.0


@pytest.mark.parametrize(
    "identifier,cls",
    [
        ("root_mean_squared_error", metrics.RootMeanSquaredError),
        ("mape", metrics.MeanAbsolutePercentageError),
        ("MAPE", metrics.MeanAbsolutePercentageError),
        ("mean_absolute_percentage_error", metrics.MeanAbsolutePercentageError),
        ("msle", metrics.MeanSquaredLogarithmicError),
        ("MSLE", metrics.MeanSquaredLogarithmicError),
        ("cosine_similarity", metrics.CosineSimilarity),
        ("log_cosh_error", metrics.LogCoshError),
        ("LogCoshError", metrics.LogCoshError),
    ],
)
def test_string_identifiers_match_keras(keras, identifier, cls):
    metric = metrics.get(identifier)
    assert type(metric) is cls
    assert metric.name == keras.metrics.get(identifier).name


@pytest.mark.parametrize("identifier", ["rmse", "logcosh", "cosine"])
def test_names_keras_does_not_register_are_unknown(keras, identifier):
    with pytest.raises(ValueError, match=rf"Unknown metric identifier '{identifier}'"):
        metrics.get(identifier)
    with pytest.raises(ValueError):
        keras.metrics.get(identifier)


def test_bad_axis_is_rejected():
    with pytest.raises(ValueError, match=r"`axis` must be an int, got axis='last'"):
        metrics.CosineSimilarity(axis="last")


@pytest.mark.parametrize("name", NAMES)
def test_updates_do_no_host_sync(no_host_sync, name):
    metric = getattr(metrics, name)()
    y_true, y_pred = torch.rand(4, 3), torch.rand(4, 3)
    with no_host_sync():
        metric.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred, sample_weight=torch.rand(4))
        metric.result()
        metric.reset_state()

"""``R2Score`` against Keras and a NumPy weighted-R^2 formula, including its edge cases."""

import warnings

import numpy as np
import pytest
import torch
from metric_oracles import assert_matches_keras, to_numpy, weight_for

from ember import metrics

N, C = 8, 3


def _np_r2(y_true, y_pred, weight=None, class_aggregation="uniform_average", num_regressors=0):
    """Weighted R^2 per column from all samples at once, aggregated as Keras does."""
    y_true, y_pred = y_true.astype(np.float64), y_pred.astype(np.float64)
    weight = np.ones_like(y_true) if weight is None else np.broadcast_to(weight.reshape(len(y_true), -1), y_true.shape)
    mean = (weight * y_true).sum(0) / weight.sum(0)
    total = (weight * (y_true - mean) ** 2).sum(0)
    residual = (weight * (y_true - y_pred) ** 2).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = 1 - residual / total
    scores[np.isinf(scores)] = 0.0
    if class_aggregation == "uniform_average":
        score = scores.mean()
    elif class_aggregation == "variance_weighted_average":
        score = (total * scores).sum() / total.sum()
    else:
        score = scores
    if num_regressors:
        n = y_true.size
        score = 1 - (1 - score) * (n - 1) / (n - num_regressors - 1)
    return score


def _batches(rng, mode, steps=4):
    batches = []
    for step in range(steps):
        y_true = rng.normal(size=(N, C)).astype(np.float32)
        y_pred = (y_true + rng.normal(scale=0.5, size=(N, C))).astype(np.float32)
        batch_mode = ["none", "n", "n1"][step % 3] if mode == "mixed" else mode
        batches.append((y_true, y_pred, weight_for(batch_mode, rng, N)))
    return batches


@pytest.mark.parametrize("mode", ["none", "n", "n1", "mixed"])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"class_aggregation": "variance_weighted_average"}, {"class_aggregation": None}, {"num_regressors": 2}],
)
def test_matches_keras_over_weighted_batches(keras, kwargs, mode):
    rng = np.random.default_rng(7)
    ours, theirs = metrics.R2Score(**kwargs), keras.metrics.R2Score(**kwargs)
    assert ours.name == theirs.name and ours.get_config() == theirs.get_config()
    # An empty adjusted score warns (in both libraries), so that case is not reset mid-way.
    reset_after = -1 if kwargs.get("num_regressors") else 1
    assert_matches_keras(ours, theirs, _batches(rng, mode), rtol=1e-4, atol=1e-5, reset_after=reset_after)


def test_per_element_weights_match_keras(keras):
    rng = np.random.default_rng(2)
    batches = [
        (y_true, y_pred, rng.uniform(size=(N, C)).astype(np.float32)) for y_true, y_pred, _ in _batches(rng, "none")
    ]
    assert_matches_keras(metrics.R2Score(), keras.metrics.R2Score(), batches, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("class_aggregation", ["uniform_average", "variance_weighted_average", None])
@pytest.mark.parametrize("num_regressors", [0, 3])
def test_accumulated_batches_match_numpy_on_all_samples(class_aggregation, num_regressors):
    rng = np.random.default_rng(11)
    metric = metrics.R2Score(class_aggregation=class_aggregation, num_regressors=num_regressors)
    batches = _batches(rng, "n", steps=3)
    for y_true, y_pred, weight in batches:
        metric.update_state(y_true, y_pred, sample_weight=weight)
    y_true, y_pred, weight = (np.concatenate(parts) for parts in zip(*batches))
    expected = _np_r2(y_true, y_pred, weight, class_aggregation, num_regressors)
    np.testing.assert_allclose(to_numpy(metric.result()), expected, rtol=1e-4)


def test_constant_targets(keras):
    # A constant column with errors scores 0 (not -inf); an exact fit of a constant column is NaN, as in Keras.
    y_true = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]], dtype=np.float32)
    y_pred = np.array([[1.0, 1.0], [2.0, 3.0], [1.0, 3.0]], dtype=np.float32)
    metric = metrics.R2Score(class_aggregation=None)
    metric.update_state(y_true, y_pred)
    np.testing.assert_allclose(metric.result().numpy(), _np_r2(y_true, y_pred, class_aggregation=None), rtol=1e-6)
    assert metric.result()[0].item() == 0.0
    perfect = metrics.R2Score()
    perfect.update_state(np.ones((4, 1)), np.ones((4, 1)))
    theirs = keras.metrics.R2Score()
    theirs.update_state(np.ones((4, 1), dtype=np.float32), np.ones((4, 1), dtype=np.float32))
    assert np.isnan(float(perfect.result())) and np.isnan(float(theirs.result()))


def test_perfect_and_mean_predictions():
    y_true = np.array([[1.0], [2.0], [4.0]], dtype=np.float32)
    metric = metrics.R2Score()
    metric.update_state(y_true, y_true)
    assert float(metric.result()) == pytest.approx(1.0)
    metric.reset_state()
    metric.update_state(y_true, np.full_like(y_true, y_true.mean()))
    assert float(metric.result()) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("num_regressors,message", [(5, "more than the number of values"), (1, "divide by zero")])
def test_adjusted_score_falls_back_with_a_warning(keras, num_regressors, message):
    y_true, y_pred = np.array([[1.0], [3.0]], dtype=np.float32), np.array([[1.0], [2.0]], dtype=np.float32)
    ours, theirs = metrics.R2Score(num_regressors=num_regressors), keras.metrics.R2Score(num_regressors=num_regressors)
    ours.update_state(y_true, y_pred)
    theirs.update_state(y_true, y_pred)
    with pytest.warns(UserWarning, match=message):
        got = ours.result()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = to_numpy(theirs.result())
    np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(got), _np_r2(y_true, y_pred), rtol=1e-6)


def test_state_is_built_on_first_update_and_reset_keeps_it():
    metric = metrics.R2Score()
    assert [v.name for v in metric.variables] == ["num_samples"]
    assert float(metric.result()) == 0.0
    metric.update_state(np.ones((2, 4)), np.zeros((2, 4)))
    assert [v.name for v in metric.variables] == ["num_samples", "squared_sum", "sum", "residual", "count"]
    assert float(metric.num_samples) == 8.0
    metric.reset_state()
    assert all(float(v.abs().sum()) == 0.0 for v in metric.variables)
    metric.update_state(np.array([[1.0, 2, 3, 4], [2, 3, 4, 5]]), np.array([[1.0, 2, 3, 4], [2, 3, 4, 5]]))
    assert float(metric.result()) == pytest.approx(1.0)


def test_rank_one_inputs_are_one_column():
    metric = metrics.R2Score()
    metric.update_state(np.array([1.0, 2.0, 4.0]), np.array([[1.0], [2.0], [3.0]]))
    expected = _np_r2(np.array([[1.0], [2], [4]]), np.array([[1.0], [2], [3]]))
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-6)


def test_config_round_trip():
    metric = metrics.R2Score(class_aggregation=None, num_regressors=2, name="r2", dtype="float64")
    rebuilt = metrics.deserialize(metrics.serialize(metric))
    assert type(rebuilt) is metrics.R2Score and rebuilt.get_config() == metric.get_config()
    assert type(metrics.get("r2_score")) is metrics.R2Score


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"class_aggregation": "mean"}, r"`class_aggregation` must be one of .*got class_aggregation='mean'"),
        ({"num_regressors": -1}, r"`num_regressors` must be an int >= 0 .*got num_regressors=-1"),
        ({"num_regressors": 1.5}, r"`num_regressors` must be an int >= 0"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        metrics.R2Score(**kwargs)


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"R2Score expects 2-D inputs .*y_true.shape=\(2, 2, 2\)"):
        metrics.R2Score().update_state(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    metric = metrics.R2Score()
    metric.update_state(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expects y_true and y_pred of shape \(batch_size, 3\)"):
        metric.update_state(np.zeros((2, 4)), np.zeros((2, 4)))


def test_updates_do_no_host_sync(no_host_sync):
    metric = metrics.R2Score(num_regressors=1)
    metric.update_state(torch.rand(4, 3), torch.rand(4, 3))  # builds the state
    with no_host_sync():
        metric.update_state(torch.rand(4, 3), torch.rand(4, 3), sample_weight=torch.rand(4))
        metric.result()
        metric.reset_state()

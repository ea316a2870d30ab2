"""Every built-in metric against the same ``keras.metrics`` class and a NumPy formula.

Each test feeds several batches (with and without sample weights) to both
metrics, compares ``result()`` after every update, then resets and goes on.
"""

import numpy as np
import pytest
import torch

from ember import metrics

N, C, T = 6, 4, 3


def _softmaxish(rng, shape):
    return rng.uniform(0.01, 1.0, size=shape).astype(np.float32)


def make_batch(kind, rng, from_logits=False):
    """(y_true, y_pred) for one batch of a metric kind."""
    if kind == "values":
        return None, rng.normal(size=(N,)).astype(np.float32)
    if kind == "values_2d":
        return None, rng.normal(size=(N, T)).astype(np.float32)
    if kind == "exact":
        y_true = rng.integers(0, 3, size=(N, 1))
        return y_true, np.where(rng.uniform(size=(N, 1)) < 0.5, y_true, rng.integers(0, 3, size=(N, 1)))
    if kind == "binary":
        y_pred = rng.normal(size=(N, 1)).astype(np.float32) * 2 if from_logits else rng.uniform(size=(N, 1))
        return rng.integers(0, 2, size=(N, 1)).astype(np.float32), y_pred.astype(np.float32)
    if kind == "binary_multi":
        return rng.integers(0, 2, size=(N, C)).astype(np.float32), rng.uniform(size=(N, C)).astype(np.float32)
    if kind == "regression":
        return rng.normal(size=(N, C)).astype(np.float32), rng.normal(size=(N, C)).astype(np.float32)
    labels = rng.integers(0, C, size=(N,))
    y_pred = rng.normal(size=(N, C)).astype(np.float32) * 2 if from_logits else _softmaxish(rng, (N, C))
    if kind == "categorical":
        return np.eye(C, dtype=np.float32)[labels], y_pred
    if kind == "sparse":
        return labels, y_pred
    if kind == "sparse_n1":
        return labels[:, None], y_pred
    if kind == "sparse_float":
        return labels.astype(np.float32), y_pred
    raise AssertionError(kind)


CASES = [
    ("Mean", {}, "values"),
    ("Mean", {}, "values_2d"),
    ("Sum", {}, "values"),
    ("Sum", {}, "values_2d"),
    ("Accuracy", {}, "exact"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.7}, "binary_multi"),
    ("CategoricalAccuracy", {}, "categorical"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_n1"),
    ("SparseCategoricalAccuracy", {}, "sparse_float"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("BinaryCrossentropy", {}, "binary_multi"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary"),
    ("CategoricalCrossentropy", {}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "categorical"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_n1"),
]


def _update(metric, y_true, y_pred, weight):
    if y_true is None:
        metric.update_state(y_pred, sample_weight=weight)
    else:
        metric.update_state(y_true, y_pred, sample_weight=weight)


@pytest.mark.parametrize("weights", ["none", "N", "N1", "mixed"])
@pytest.mark.parametrize("name,kwargs,kind", CASES)
def test_matches_keras_over_several_batches(keras, name, kwargs, kind, weights):
    rng = np.random.default_rng(21)
    ours = getattr(metrics, name)(**kwargs)
    theirs = getattr(keras.metrics, name)(**kwargs)
    assert ours.name == theirs.name
    assert ours.get_config() == theirs.get_config()
    for step in range(4):
        y_true, y_pred = make_batch(kind, rng, kwargs.get("from_logits", False))
        weight = rng.uniform(0.0, 2.0, size=(N,)).astype(np.float32)
        mode = ["none", "N", "N1"][step % 3] if weights == "mixed" else weights
        weight = {"none": None, "N": weight, "N1": weight[:, None]}[mode]
        _update(ours, y_true, y_pred, weight)
        _update(theirs, y_true, y_pred, weight)
        got, expected = ours.result(), keras.ops.convert_to_numpy(theirs.result())
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float32 and got.shape == ()
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
        if step == 1:
            ours.reset_state()
            theirs.reset_state()
            np.testing.assert_allclose(ours.result().numpy(), keras.ops.convert_to_numpy(theirs.result()))
    for ours_var, theirs_var in zip(ours.variables, theirs.variables):
        np.testing.assert_allclose(ours_var.numpy(), keras.ops.convert_to_numpy(theirs_var.value), rtol=1e-5)


def test_sparse_crossentropy_ignore_class_with_weights_matches_keras(keras):
    rng = np.random.default_rng(3)
    ours = metrics.SparseCategoricalCrossentropy(ignore_class=-1)
    theirs = keras.metrics.SparseCategoricalCrossentropy(ignore_class=-1)
    for _ in range(3):
        y_true, y_pred = make_batch("sparse", rng)
        y_true[rng.uniform(size=N) < 0.3] = -1
        weight = rng.uniform(0.5, 2.0, size=(N,)).astype(np.float32)
        ours.update_state(y_true, y_pred, sample_weight=weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
        np.testing.assert_allclose(ours.result().numpy(), keras.ops.convert_to_numpy(theirs.result()), rtol=1e-5)


# NumPy oracles: the weighted mean sum(w * v) / sum(w) of per-sample values over all batches.


def _np_per_sample(name, y_true, y_pred, threshold=0.5):
    if name == "Accuracy":
        return (y_true == y_pred).astype(np.float32).reshape(N)
    if name == "BinaryAccuracy":
        return ((y_pred > threshold).astype(np.float32) == y_true).mean(-1)
    if name == "CategoricalAccuracy":
        return (y_true.argmax(-1) == y_pred.argmax(-1)).astype(np.float32)
    if name == "SparseCategoricalAccuracy":
        return (y_true.reshape(N) == y_pred.argmax(-1)).astype(np.float32)
    if name == "MeanSquaredError":
        return ((y_true - y_pred) ** 2).mean(-1)
    if name == "MeanAbsoluteError":
        return np.abs(y_true - y_pred).mean(-1)
    clipped = np.clip(y_pred, np.float32(1e-7), np.float32(1) - np.float32(1e-7))
    if name == "BinaryCrossentropy":
        return -(y_true * np.log(clipped) + (1 - y_true) * np.log(1 - clipped)).mean(-1)
    normalised = np.clip(y_pred / y_pred.sum(-1, keepdims=True), np.float32(1e-7), np.float32(1) - np.float32(1e-7))
    if name == "CategoricalCrossentropy":
        return -(y_true * np.log(normalised)).sum(-1)
    if name == "SparseCategoricalCrossentropy":
        return -np.log(normalised[np.arange(N), y_true.reshape(N).astype(np.int64)])
    raise AssertionError(name)


@pytest.mark.parametrize(
    "name,kind",
    [
        ("Accuracy", "exact"),
        ("BinaryAccuracy", "binary_multi"),
        ("CategoricalAccuracy", "categorical"),
        ("SparseCategoricalAccuracy", "sparse_n1"),
        ("SparseCategoricalAccuracy", "sparse_float"),
        ("MeanSquaredError", "regression"),
        ("MeanAbsoluteError", "regression"),
        ("BinaryCrossentropy", "binary_multi"),
        ("CategoricalCrossentropy", "categorical"),
        ("SparseCategoricalCrossentropy", "sparse_n1"),
    ],
)
def test_weighted_mean_matches_numpy(name, kind):
    rng = np.random.default_rng(9)
    metric = getattr(metrics, name)()
    values, weights = [], []
    for _ in range(3):
        y_true, y_pred = make_batch(kind, rng)
        weight = rng.uniform(0.0, 2.0, size=(N,)).astype(np.float32)
        metric.update_state(y_true, y_pred, sample_weight=weight)
        values.append(_np_per_sample(name, y_true, y_pred))
        weights.append(weight)
        expected = np.sum(np.concatenate(values) * np.concatenate(weights)) / np.sum(np.concatenate(weights))
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)


def test_mean_and_sum_match_numpy():
    rng = np.random.default_rng(4)
    mean, total = metrics.Mean(), metrics.Sum()
    values = [rng.normal(size=(N, T)).astype(np.float32) for _ in range(3)]
    weights = [rng.uniform(size=(N,)).astype(np.float32) for _ in range(3)]
    for v, w in zip(values, weights):
        mean.update_state(v, sample_weight=w)
        total.update_state(v, sample_weight=w)
    per_sample = np.concatenate([v.mean(-1) for v in values])
    w = np.concatenate(weights)
    np.testing.assert_allclose(float(mean.result()), (per_sample * w).sum() / w.sum(), rtol=1e-5)
    expected_total = sum((v.sum(-1) * w_).sum() for v, w_ in zip(values, weights))
    np.testing.assert_allclose(float(total.result()), expected_total, rtol=1e-5)
    mean.update_state(5.0)
    np.testing.assert_allclose(float(mean.count), w.sum() + 1, rtol=1e-6)


def test_mean_of_nothing_is_zero():
    assert float(metrics.Mean().result()) == 0.0
    metric = metrics.Accuracy()
    metric.update_state([[1]], [[1]], sample_weight=[0.0])
    assert float(metric.result()) == 0.0


def test_masked_values_count_with_and_without_weights():
    # Entries masked out by ignore_class do not count, with or without weights.
    metric = metrics.SparseCategoricalCrossentropy(ignore_class=-1, from_logits=True)
    logits = np.zeros((4, 3), np.float32)
    metric.update_state(np.array([0, -1, 2, -1]), logits)
    np.testing.assert_allclose(float(metric.result()), np.log(3), rtol=1e-6)
    np.testing.assert_allclose(float(metric.count), 2.0)

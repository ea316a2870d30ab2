"""Every built-in loss against the same ``keras.losses`` class on identical random inputs.

Covers every reduction, sample weights of shape (N,) and (N, 1), logits and
probabilities, label smoothing, ignore_class and the accepted label shapes.
"""

import numpy as np
import pytest
import torch

from ember import losses

N, C, T = 6, 4, 3
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def _one_hot(labels, classes):
    return np.eye(classes, dtype=np.float32)[labels]


def make_inputs(kind, from_logits, rng, shape=(N,)):
    """(y_true, y_pred) float32 arrays for one kind of loss."""
    if kind == "regression":
        return rng.normal(size=shape + (C,)).astype(np.float32), rng.normal(size=shape + (C,)).astype(np.float32)
    if kind == "binary":
        y_true = rng.integers(0, 2, size=shape + (C,)).astype(np.float32)
        logits = (rng.normal(size=shape + (C,)) * 3).astype(np.float32)
        y_pred = logits if from_logits else (1 / (1 + np.exp(-logits))).astype(np.float32)
        return y_true, y_pred
    labels = rng.integers(0, C, size=shape)
    logits = (rng.normal(size=shape + (C,)) * 3).astype(np.float32)
    # Unnormalised positive scores, so the renormalisation step matters.
    y_pred = logits if from_logits else rng.uniform(0.01, 2.0, size=shape + (C,)).astype(np.float32)
    if kind == "categorical":
        return _one_hot(labels, C), y_pred
    return labels.astype(np.int64), y_pred


CASES = [
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary"),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary"),
    ("CategoricalCrossentropy", {}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True}, "categorical"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.3}, "categorical"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "categorical"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse"),
]


def keras_value(keras, name, kwargs, y_true, y_pred, sample_weight=None):
    loss = getattr(keras.losses, name)(**kwargs)
    value = loss(y_true, y_pred, sample_weight=sample_weight)
    return keras.ops.convert_to_numpy(value)


def ember_value(name, kwargs, y_true, y_pred, sample_weight=None):
    value = getattr(losses, name)(**kwargs)(y_true, y_pred, sample_weight=sample_weight)
    assert isinstance(value, torch.Tensor)
    assert value.dtype == torch.float32
    return value.detach().numpy()


@pytest.mark.parametrize("weights", [None, "N", "N1"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs,kind", CASES)
def test_matches_keras(keras, name, kwargs, kind, reduction, weights):
    rng = np.random.default_rng(11)
    y_true, y_pred = make_inputs(kind, kwargs.get("from_logits", False), rng)
    sample_weight = None
    if weights is not None:
        sample_weight = rng.uniform(0.0, 2.0, size=(N,)).astype(np.float32)
        if weights == "N1":
            sample_weight = sample_weight[:, None]
    kwargs = {**kwargs, "reduction": reduction}
    expected = keras_value(keras, name, kwargs, y_true, y_pred, sample_weight)
    got = ember_value(name, kwargs, y_true, y_pred, sample_weight)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("label_shape", ["N", "N1"])
@pytest.mark.parametrize("label_dtype", [np.int64, np.int32, np.float32])
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_label_shapes_and_dtypes_match_keras(keras, label_shape, label_dtype, from_logits):
    rng = np.random.default_rng(3)
    y_true, y_pred = make_inputs("sparse", from_logits, rng)
    y_true = y_true.astype(label_dtype)
    if label_shape == "N1":
        y_true = y_true[:, None]
    kwargs = {"from_logits": from_logits}
    expected = keras_value(keras, "SparseCategoricalCrossentropy", kwargs, y_true, y_pred)
    np.testing.assert_allclose(
        ember_value("SparseCategoricalCrossentropy", kwargs, y_true, y_pred), expected, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_ignore_class_matches_keras(keras, from_logits, reduction):
    rng = np.random.default_rng(5)
    y_true, y_pred = make_inputs("sparse", from_logits, rng)
    y_true[[1, 4]] = -1
    sample_weight = rng.uniform(0.5, 2.0, size=(N,)).astype(np.float32)
    kwargs = {"from_logits": from_logits, "ignore_class": -1, "reduction": reduction}
    for weight in (None, sample_weight):
        expected = keras_value(keras, "SparseCategoricalCrossentropy", kwargs, y_true, y_pred, weight)
        got = ember_value("SparseCategoricalCrossentropy", kwargs, y_true, y_pred, weight)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", None])
@pytest.mark.parametrize("name,kwargs,kind", CASES)
def test_per_timestep_losses_match_keras(keras, name, kwargs, kind, reduction):
    # Sequence outputs (N, T, C): the per-sample loss has shape (N, T); weights of shape (N, T).
    rng = np.random.default_rng(8)
    y_true, y_pred = make_inputs(kind, kwargs.get("from_logits", False), rng, shape=(N, T))
    sample_weight = rng.uniform(0.0, 2.0, size=(N, T)).astype(np.float32)
    kwargs = {**kwargs, "reduction": reduction}
    for weight in (None, sample_weight):
        expected = keras_value(keras, name, kwargs, y_true, y_pred, weight)
        np.testing.assert_allclose(ember_value(name, kwargs, y_true, y_pred, weight), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy"])
def test_rank_one_targets_match_keras(keras, name):
    # Labels (N,) against predictions (N, 1), and both of shape (N,) (a scalar per-sample loss).
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 2, size=(N,)).astype(np.float32)
    y_pred = rng.uniform(0.05, 0.95, size=(N, 1)).astype(np.float32)
    weight = rng.uniform(0.0, 2.0, size=(N,)).astype(np.float32)
    for pred in (y_pred, y_pred[:, 0]):
        for w in (None, weight):
            expected = keras_value(keras, name, {}, y_true, pred, w)
            np.testing.assert_allclose(ember_value(name, {}, y_true, pred, w), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name,function,kwargs,kind",
    [
        ("mean_squared_error", "mean_squared_error", {}, "regression"),
        ("mean_absolute_error", "mean_absolute_error", {}, "regression"),
        ("binary_crossentropy", "binary_crossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary"),
        ("categorical_crossentropy", "categorical_crossentropy", {"label_smoothing": 0.2}, "categorical"),
        ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy", {}, "sparse"),
    ],
)
def test_functions_match_keras(keras, name, function, kwargs, kind):
    rng = np.random.default_rng(4)
    y_true, y_pred = make_inputs(kind, kwargs.get("from_logits", False), rng)
    expected = keras.ops.convert_to_numpy(getattr(keras.losses, function)(y_true, y_pred, **kwargs))
    got = getattr(losses, name)(torch.from_numpy(y_true), torch.from_numpy(y_pred), **kwargs)
    assert tuple(got.shape) == (N,)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs,kind", CASES + [("SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse")])
def test_names_and_configs_match_keras(keras, name, kwargs, kind):
    ours = getattr(losses, name)(**kwargs)
    theirs = getattr(keras.losses, name)(**kwargs)
    assert ours.name == theirs.name
    assert ours.reduction == theirs.reduction == "sum_over_batch_size"
    expected = theirs.get_config()
    got = ours.get_config()
    if name == "SparseCategoricalCrossentropy":
        # ember also records `axis`, which Keras's config leaves out (so a round trip keeps it).
        assert got.pop("axis") == -1
    assert got == expected

"""Loss functions and reductions against NumPy formulas written here."""

import numpy as np
import pytest
import torch

from ember import losses

EPS = np.float32(1e-7)
N, C, T = 5, 3, 4


def np_clip(p):
    return np.clip(p, EPS, np.float32(1.0) - EPS)


def np_bce(y, p, from_logits=False, smoothing=0.0):
    y = y * (1 - smoothing) + 0.5 * smoothing
    if from_logits:
        elementwise = np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
    else:
        p = np_clip(p)
        elementwise = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return elementwise.mean(axis=-1)


def np_log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_cce(y, p, from_logits=False, smoothing=0.0, axis=-1):
    y = y * (1 - smoothing) + smoothing / y.shape[axis]
    if from_logits:
        log_p = np_log_softmax(p, axis)
    else:
        log_p = np.log(np_clip(p / p.sum(axis=axis, keepdims=True)))
    return -(y * log_p).sum(axis=axis)


def np_scce(labels, p, from_logits=False):
    log_p = np_log_softmax(p) if from_logits else np.log(np_clip(p / p.sum(axis=-1, keepdims=True)))
    return -np.take_along_axis(log_p, labels[..., None].astype(np.int64), axis=-1)[..., 0]


def as_np(tensor):
    return tensor.detach().numpy()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_regression_functions(rng):
    y_true = rng.normal(size=(N, C)).astype(np.float32)
    y_pred = rng.normal(size=(N, C)).astype(np.float32)
    np.testing.assert_allclose(
        as_np(losses.mean_squared_error(y_true, y_pred)), ((y_true - y_pred) ** 2).mean(-1), rtol=1e-6
    )
    np.testing.assert_allclose(
        as_np(losses.mean_absolute_error(y_true, y_pred)), np.abs(y_true - y_pred).mean(-1), rtol=1e-6
    )


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_binary_crossentropy(rng, from_logits, smoothing):
    y_true = rng.integers(0, 2, size=(N, C)).astype(np.float32)
    if from_logits:
        y_pred = rng.normal(size=(N, C)).astype(np.float32) * 4
    else:
        y_pred = rng.uniform(size=(N, C)).astype(np.float32)
        y_pred[0, 0] = 0.0  # exercises the clipping
    got = losses.binary_crossentropy(y_true, y_pred, from_logits=from_logits, label_smoothing=smoothing)
    np.testing.assert_allclose(as_np(got), np_bce(y_true, y_pred, from_logits, smoothing), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("axis", [-1, 1])
def test_categorical_crossentropy(rng, from_logits, smoothing, axis):
    # (N, C, T) with the classes on axis 1 for axis=1, (N, T, C) for axis=-1.
    shape = (N, C, T) if axis == 1 else (N, T, C)
    labels = rng.integers(0, C, size=(N, T))
    one_hot = np.eye(C, dtype=np.float32)[labels]
    y_true = np.moveaxis(one_hot, -1, 1) if axis == 1 else one_hot
    y_pred = (rng.normal(size=shape) * 3 if from_logits else rng.uniform(0.01, 2, size=shape)).astype(np.float32)
    got = losses.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, label_smoothing=smoothing, axis=axis)
    expected = np_cce(y_true, y_pred, from_logits, smoothing, axis=axis)
    assert tuple(got.shape) == (N, T)
    np.testing.assert_allclose(as_np(got), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy(rng, from_logits):
    labels = rng.integers(0, C, size=(N, T))
    scores = rng.normal(size=(N, T, C)) * 3 if from_logits else rng.uniform(0.01, 2, size=(N, T, C))
    y_pred = scores.astype(np.float32)
    expected = np_scce(labels, y_pred, from_logits)
    for y_true in (labels, labels[..., None], labels.astype(np.float32)):
        got = losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)
        np.testing.assert_allclose(as_np(got), expected, rtol=1e-5, atol=1e-6)


def test_sparse_categorical_crossentropy_class_axis_first(rng):
    labels = rng.integers(0, C, size=(N, T))
    logits = rng.normal(size=(N, C, T)).astype(np.float32)
    got = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True, axis=1)
    expected = np_scce(labels, np.moveaxis(logits, 1, -1), from_logits=True)
    np.testing.assert_allclose(as_np(got), expected, rtol=1e-5, atol=1e-6)


def test_sparse_categorical_crossentropy_ignore_class_zeroes_and_masks(rng):
    labels = rng.integers(0, C, size=(N,))
    labels[[0, 3]] = 255
    logits = rng.normal(size=(N, C)).astype(np.float32)
    got = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True, ignore_class=255)
    kept = labels != 255
    expected = np.zeros(N, np.float32)
    expected[kept] = np_scce(labels[kept], logits[kept], from_logits=True)
    np.testing.assert_allclose(as_np(got), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got._keras_mask.numpy(), kept)
    # The class averages over kept entries only.
    value = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)(labels, logits)
    np.testing.assert_allclose(float(value), expected[kept].mean(), rtol=1e-5)


@pytest.mark.parametrize("name", ["binary", "categorical", "sparse"])
def test_from_logits_is_stable_for_huge_logits(name):
    logits = np.array([[1000.0, -1000.0, 0.0], [-500.0, 500.0, 20.0]], np.float32)
    if name == "binary":
        y_true = np.array([[0, 1, 1], [1, 0, 1]], np.float32)
        expected = np_bce(y_true, logits, from_logits=True)
        fn, args = losses.binary_crossentropy, (y_true,)
    elif name == "categorical":
        y_true = np.array([[0, 1, 0], [1, 0, 0]], np.float32)
        expected = np_cce(y_true, logits, from_logits=True)
        fn, args = losses.categorical_crossentropy, (y_true,)
    else:
        y_true = np.array([1, 0])
        expected = np_scce(y_true, logits, from_logits=True)
        fn, args = losses.sparse_categorical_crossentropy, (y_true,)
    y_pred = torch.tensor(logits, requires_grad=True)
    got = fn(*args, y_pred, from_logits=True)
    assert np.all(np.isfinite(expected)) and expected.max() > 100
    np.testing.assert_allclose(as_np(got), expected, rtol=1e-6)
    got.sum().backward()
    assert torch.isfinite(y_pred.grad).all()


def test_probabilities_are_clipped_so_zero_and_one_give_finite_values():
    y_true = np.array([[1.0, 0.0]], np.float32)
    y_pred = torch.tensor([[0.0, 1.0]], requires_grad=True)
    value = losses.binary_crossentropy(y_true, y_pred)
    expected = np_bce(y_true, np.array([[0.0, 1.0]], np.float32))
    assert expected[0] > 15  # -log(1e-7) and -log(1 - (1 - 1e-7)) in float32
    np.testing.assert_allclose(as_np(value), expected, rtol=1e-6)
    value.sum().backward()
    assert torch.isfinite(y_pred.grad).all()


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", None, "none"])
@pytest.mark.parametrize("weight_shape", [None, (N,), (N, 1)])
def test_reductions(rng, reduction, weight_shape):
    y_true = rng.normal(size=(N, C)).astype(np.float32)
    y_pred = rng.normal(size=(N, C)).astype(np.float32)
    per_sample = ((y_true - y_pred) ** 2).mean(-1)
    weight = None if weight_shape is None else rng.uniform(0, 3, size=weight_shape).astype(np.float32)
    flat_weight = np.ones(N, np.float32) if weight is None else weight.reshape(N)
    weighted = per_sample * flat_weight
    expected = {
        "sum_over_batch_size": weighted.sum() / N,  # by the number of elements, not by sum(weights)
        "mean": weighted.sum() / N,
        "sum": weighted.sum(),
        "mean_with_sample_weight": weighted.sum() / flat_weight.sum() if weight is not None else weighted.sum() / N,
        None: weighted,
        "none": weighted,
    }[reduction]
    if reduction in (None, "none") and weight_shape == (N, 1):
        expected = expected[:, None]  # Keras's rule expands (N,) losses to meet (N, 1) weights
    got = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, sample_weight=weight)
    assert tuple(got.shape) == np.shape(expected)
    np.testing.assert_allclose(as_np(got), expected, rtol=1e-5)


def test_sum_over_batch_size_divides_by_elements_not_weights():
    loss = losses.MeanAbsoluteError()
    value = loss([[1.0], [1.0], [1.0], [1.0]], [[0.0], [0.0], [0.0], [0.0]], sample_weight=[1.0, 0.0, 0.0, 0.0])
    assert float(value) == pytest.approx(0.25)


def test_per_sample_weights_scale_every_timestep(rng):
    # Per-timestep losses (N, T) with one weight per sample (N,): weight i scales all of sample i's steps.
    y_true = rng.normal(size=(N, T, C)).astype(np.float32)
    y_pred = rng.normal(size=(N, T, C)).astype(np.float32)
    weight = rng.uniform(0, 2, size=(N,)).astype(np.float32)
    per_step = ((y_true - y_pred) ** 2).mean(-1)
    for reduction, expected in [
        ("sum_over_batch_size", (per_step * weight[:, None]).sum() / (N * T)),
        ("sum", (per_step * weight[:, None]).sum()),
        (None, per_step * weight[:, None]),
    ]:
        got = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, sample_weight=weight)
        np.testing.assert_allclose(as_np(got), expected, rtol=1e-5)


def test_mask_on_predictions_excludes_entries(rng):
    y_true = rng.normal(size=(N, T, C)).astype(np.float32)
    y_pred = torch.tensor(rng.normal(size=(N, T, C)).astype(np.float32))
    mask = torch.tensor(rng.uniform(size=(N, T)) > 0.4)
    y_pred._keras_mask = mask
    per_step = ((y_true - y_pred.numpy()) ** 2).mean(-1)
    kept = mask.numpy()
    got = losses.MeanSquaredError()(y_true, y_pred)
    np.testing.assert_allclose(float(got), per_step[kept].mean(), rtol=1e-5)
    got = losses.MeanSquaredError(reduction="sum")(y_true, y_pred)
    np.testing.assert_allclose(float(got), per_step[kept].sum(), rtol=1e-5)


def test_gradient_matches_torch_mse(rng):
    y_true = torch.tensor(rng.normal(size=(N, C)).astype(np.float32))
    y_pred = torch.tensor(rng.normal(size=(N, C)).astype(np.float32), requires_grad=True)
    losses.MeanSquaredError()(y_true, y_pred).backward()
    reference = y_pred.detach().clone().requires_grad_(True)
    torch.nn.functional.mse_loss(reference, y_true).backward()
    torch.testing.assert_close(y_pred.grad, reference.grad)


def test_sparse_from_logits_gradient_matches_torch_cross_entropy(rng):
    labels = torch.tensor(rng.integers(0, C, size=(N,)))
    logits = torch.tensor(rng.normal(size=(N, C)).astype(np.float32), requires_grad=True)
    losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits).backward()
    reference = logits.detach().clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(reference, labels).backward()
    torch.testing.assert_close(logits.grad, reference.grad)

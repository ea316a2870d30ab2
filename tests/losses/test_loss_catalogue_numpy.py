"""The regression, robust, focal, distributional, hinge and overlap losses against NumPy formulas.

The references are written here in float64 from the textbook definitions
(Keras's clipping constants included), independently of the implementation.
"""

import numpy as np
import pytest
import torch

from ember import losses

EPS = 1e-7
N, C, T = 5, 4, 3


def as_np(tensor):
    return tensor.detach().numpy()


def np_log_sigmoid(x):
    return -np.logaddexp(0, -x)


def np_sigmoid(x):
    return np.exp(np_log_sigmoid(x))


def np_log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _check(got, expected, rtol=1e-5, atol=1e-6):
    assert tuple(got.shape) == np.shape(expected)
    np.testing.assert_allclose(as_np(got), expected, rtol=rtol, atol=atol)


def test_mean_absolute_percentage_error(rng):
    y_true = rng.normal(size=(N, C)).astype(np.float32)
    y_true[0, 0] = 0.0  # floored at EPS: huge but finite
    y_pred = rng.normal(size=(N, C)).astype(np.float32)
    t, p = y_true.astype(np.float64), y_pred.astype(np.float64)
    expected = 100 * np.mean(np.abs(t - p) / np.maximum(np.abs(t), EPS), axis=-1)
    _check(losses.mean_absolute_percentage_error(y_true, y_pred), expected)
    assert np.isfinite(expected[0]) and expected[0] > 1e5


def test_mean_squared_logarithmic_error(rng):
    y_true = rng.uniform(-0.5, 5, size=(N, C)).astype(np.float32)
    y_pred = rng.uniform(-0.5, 5, size=(N, C)).astype(np.float32)
    t, p = np.maximum(y_true.astype(np.float64), EPS), np.maximum(y_pred.astype(np.float64), EPS)
    expected = np.mean((np.log(p + 1) - np.log(t + 1)) ** 2, axis=-1)
    _check(losses.mean_squared_logarithmic_error(y_true, y_pred), expected)


@pytest.mark.parametrize("axis", [-1, 1])
def test_cosine_similarity(rng, axis):
    y_true = rng.normal(size=(N, C, T)).astype(np.float32)
    y_pred = rng.normal(size=(N, C, T)).astype(np.float32)
    y_true[0] = 0.0  # zero vectors give 0, not NaN
    t, p = y_true.astype(np.float64), y_pred.astype(np.float64)

    def unit(x):
        return x / np.maximum(np.linalg.norm(x, axis=axis, keepdims=True), EPS)

    expected = -np.sum(unit(t) * unit(p), axis=axis)
    _check(losses.cosine_similarity(y_true, y_pred, axis=axis), expected)
    assert np.all(expected[0] == 0)


@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
def test_huber(rng, delta):
    y_true = rng.normal(size=(N, C)).astype(np.float32)
    y_pred = (rng.normal(size=(N, C)) * 2).astype(np.float32)
    e = np.abs(y_pred.astype(np.float64) - y_true)
    expected = np.mean(np.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)), axis=-1)
    assert np.any(e <= delta) and np.any(e > delta)  # both branches
    _check(losses.huber(y_true, y_pred, delta=delta), expected)
    _check(losses.Huber(delta=delta, reduction=None)(y_true, y_pred), expected)


def test_log_cosh_including_large_errors(rng):
    y_true = rng.normal(size=(N, C)).astype(np.float32)
    y_pred = rng.normal(size=(N, C)).astype(np.float32)
    y_pred[0] = [200.0, -300.0, 90.0, -95.0]  # cosh overflows float32 here; the loss must not
    e = y_pred.astype(np.float64) - y_true
    expected = np.mean(np.log(np.cosh(e)), axis=-1)
    _check(losses.log_cosh(y_true, y_pred), expected)


def test_kl_divergence_clips_both_sides(rng):
    y_true = rng.dirichlet(np.ones(C), size=N).astype(np.float32)
    y_pred = rng.dirichlet(np.ones(C), size=N).astype(np.float32)
    y_true[0, 1], y_pred[1, 2] = 0.0, 0.0
    t, p = np.clip(y_true.astype(np.float64), EPS, 1), np.clip(y_pred.astype(np.float64), EPS, 1)
    _check(losses.kl_divergence(y_true, y_pred), np.sum(t * np.log(t / p), axis=-1))


def test_poisson(rng):
    y_true = rng.integers(0, 6, size=(N, C)).astype(np.float32)
    y_pred = rng.uniform(0.01, 5, size=(N, C)).astype(np.float32)
    t, p = y_true.astype(np.float64), y_pred.astype(np.float64)
    _check(losses.poisson(y_true, y_pred), np.mean(p - t * np.log(p + EPS), axis=-1))


@pytest.mark.parametrize("labels", ["binary", "signs", "other"])
def test_hinge_and_squared_hinge(rng, labels):
    y_pred = rng.normal(size=(N, C)).astype(np.float32)
    if labels == "binary":
        y_true = rng.integers(0, 2, size=(N, C)).astype(np.float32)
        signs = 2 * y_true.astype(np.float64) - 1  # {0, 1} labels are converted
    elif labels == "signs":
        y_true = rng.choice([-1.0, 1.0], size=(N, C)).astype(np.float32)
        signs = y_true.astype(np.float64)
    else:
        y_true = rng.integers(0, 2, size=(N, C)).astype(np.float32)
        y_true[0, 0] = 0.5  # one entry outside {0, 1}: the whole tensor is used as given
        signs = y_true.astype(np.float64)
    margin = np.maximum(1 - signs * y_pred, 0)
    _check(losses.hinge(y_true, y_pred), margin.mean(axis=-1))
    _check(losses.squared_hinge(y_true, y_pred), (margin**2).mean(axis=-1))


def test_categorical_hinge(rng):
    y_true = np.eye(C, dtype=np.float32)[rng.integers(0, C, size=N)]
    y_pred = rng.normal(size=(N, C)).astype(np.float32)
    positive = np.sum(y_true * y_pred.astype(np.float64), axis=-1)
    negative = np.max((1 - y_true) * y_pred.astype(np.float64), axis=-1)
    _check(losses.categorical_hinge(y_true, y_pred), np.maximum(negative - positive + 1, 0))


def np_binary_focal(y, z, from_logits, gamma, alpha=None, smoothing=0.0):
    y = y.astype(np.float64) * (1 - smoothing) + 0.5 * smoothing
    z = z.astype(np.float64)
    if from_logits:
        log_p, log_q = np_log_sigmoid(z), np_log_sigmoid(-z)
        miss = y * np_sigmoid(-z) + (1 - y) * np_sigmoid(z)
    else:
        clipped = np.clip(z, EPS, 1 - EPS)
        log_p, log_q = np.log(clipped), np.log(1 - clipped)
        miss = 1 - (y * z + (1 - y) * (1 - z))
    focal = miss**gamma * -(y * log_p + (1 - y) * log_q)
    if alpha is not None:
        focal = (y * alpha + (1 - y) * (1 - alpha)) * focal
    return focal.mean(axis=-1)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("gamma,alpha,smoothing", [(2.0, None, 0.0), (0.5, 0.3, 0.2), (0.0, None, 0.1)])
def test_binary_focal_crossentropy(rng, from_logits, gamma, alpha, smoothing):
    y_true = rng.integers(0, 2, size=(N, C)).astype(np.float32)
    logits = (rng.normal(size=(N, C)) * 3).astype(np.float32)
    y_pred = logits if from_logits else np_sigmoid(logits).astype(np.float32)
    got = losses.binary_focal_crossentropy(
        y_true, y_pred, apply_class_balancing=alpha is not None, alpha=alpha or 0.25, gamma=gamma,
        from_logits=from_logits, label_smoothing=smoothing,
    )  # fmt: skip
    _check(got, np_binary_focal(y_true, y_pred, from_logits, gamma, alpha, smoothing), rtol=2e-5)


def np_categorical_focal(y, z, from_logits, gamma, alpha, smoothing=0.0, axis=-1):
    y = y.astype(np.float64)
    y = y * (1 - smoothing) + smoothing / y.shape[axis]
    z = z.astype(np.float64)
    if from_logits:
        log_p = np_log_softmax(z, axis)
        p = np.exp(log_p)
    else:
        p = np.clip(z / z.sum(axis=axis, keepdims=True), EPS, 1 - EPS)
        log_p = np.log(p)
    return np.sum(alpha * (1 - p) ** gamma * -y * log_p, axis=axis)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("gamma,alpha,smoothing", [(2.0, 0.25, 0.0), (1.0, 0.8, 0.2)])
def test_categorical_focal_crossentropy(rng, from_logits, axis, gamma, alpha, smoothing):
    shape = (N, C, T) if axis == 1 else (N, T, C)
    one_hot = np.eye(C, dtype=np.float32)[rng.integers(0, C, size=(N, T))]
    y_true = np.moveaxis(one_hot, -1, 1).copy() if axis == 1 else one_hot
    y_pred = (rng.normal(size=shape) * 3 if from_logits else rng.uniform(0.01, 2, size=shape)).astype(np.float32)
    got = losses.categorical_focal_crossentropy(
        y_true, y_pred, alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=smoothing, axis=axis
    )
    _check(got, np_categorical_focal(y_true, y_pred, from_logits, gamma, alpha, smoothing, axis), rtol=2e-5)


def test_categorical_focal_per_class_alpha(rng):
    alpha = np.array([0.1, 0.5, 0.9, 0.3])
    y_true = np.eye(C, dtype=np.float32)[rng.integers(0, C, size=N)]
    y_pred = rng.uniform(0.01, 2, size=(N, C)).astype(np.float32)
    expected = np_categorical_focal(y_true, y_pred, False, 2.0, alpha)
    _check(losses.categorical_focal_crossentropy(y_true, y_pred, alpha=list(alpha)), expected)
    loss = losses.CategoricalFocalCrossentropy(alpha=tuple(alpha), reduction=None)
    _check(loss(y_true, y_pred), expected)
    assert loss.get_config()["alpha"] == list(alpha)


@pytest.mark.parametrize("name", ["binary", "categorical"])
def test_focal_from_logits_is_stable_for_huge_logits(name):
    # Converting logits to clipped probabilities would cap each entry's crossentropy at -log(1e-7) ~ 16.1.
    logits = np.array([[1000.0, -1000.0, 40.0], [-500.0, 500.0, -30.0]], np.float32)
    if name == "binary":
        y_true = np.array([[0, 1, 0], [1, 1, 1]], np.float32)
        expected = np_binary_focal(y_true, logits, True, gamma=0.5)
        fn, kwargs = losses.binary_focal_crossentropy, {"gamma": 0.5}
    else:
        y_true = np.array([[0, 1, 0], [1, 0, 0]], np.float32)
        expected = np_categorical_focal(y_true, logits, True, gamma=0.5, alpha=0.25)
        fn, kwargs = losses.categorical_focal_crossentropy, {"gamma": 0.5}
    assert np.all(np.isfinite(expected)) and expected.min() > 17
    y_pred = torch.tensor(logits, requires_grad=True)
    got = fn(y_true, y_pred, from_logits=True, **kwargs)
    np.testing.assert_allclose(as_np(got), expected, rtol=1e-6)
    got.sum().backward()
    assert torch.isfinite(y_pred.grad).all()


@pytest.mark.parametrize("axis", [None, -1, (1, 2)])
def test_dice_and_tversky(rng, axis):
    y_true = rng.integers(0, 2, size=(N, T, T, C)).astype(np.float32)
    y_pred = rng.uniform(size=(N, T, T, C)).astype(np.float32)
    t, p = y_true.astype(np.float64), y_pred.astype(np.float64)
    dims = None if axis is None else axis
    tp = np.sum(t * p, axis=dims)
    fn = np.sum(t * (1 - p), axis=dims)
    fp = np.sum((1 - t) * p, axis=dims)
    dice = 1 - 2 * tp / (np.sum(t, axis=dims) + np.sum(p, axis=dims) + EPS)
    _check(losses.dice(y_true, y_pred, axis=axis), dice)
    # alpha weights false negatives, beta false positives (Keras 3's behaviour).
    tversky = 1 - tp / (tp + 0.7 * fn + 0.2 * fp + EPS)
    _check(losses.tversky(y_true, y_pred, alpha=0.7, beta=0.2, axis=axis), tversky)
    _check(losses.tversky(y_true, y_pred, axis=axis), dice, rtol=1e-5)  # alpha = beta = 0.5 is Dice


def test_dice_of_empty_masks_is_finite():
    zeros = np.zeros((2, 3), np.float32)
    assert float(losses.Dice()(zeros, zeros)) == 1.0
    assert float(losses.Tversky()(zeros, zeros)) == 1.0


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", None])
def test_scalar_overlap_loss_with_sample_weights(rng, reduction):
    # axis=None gives one loss for the batch; weights then scale copies of it (Keras's rule).
    y_true = rng.integers(0, 2, size=(N, C)).astype(np.float32)
    y_pred = rng.uniform(size=(N, C)).astype(np.float32)
    weight = rng.uniform(0, 2, size=(N,)).astype(np.float32)
    value = 1 - 2 * np.sum(y_true * y_pred) / (y_true.sum() + y_pred.sum() + EPS)
    expected = {
        "sum_over_batch_size": (value * weight).sum() / N,
        "sum": (value * weight).sum(),
        "mean_with_sample_weight": value,
        None: value * weight,
    }[reduction]
    _check(losses.Dice(reduction=reduction)(y_true, y_pred, sample_weight=weight), expected)


@pytest.mark.parametrize(
    "loss",
    [
        losses.Huber(),
        losses.LogCosh(),
        losses.Hinge(),
        losses.Poisson(),
        losses.BinaryFocalCrossentropy(from_logits=True),
    ],
)
def test_per_sample_weights_scale_every_timestep(rng, loss):
    y_true = rng.integers(0, 2, size=(N, T, C)).astype(np.float32)
    y_pred = rng.uniform(0.1, 2, size=(N, T, C)).astype(np.float32)
    weight = rng.uniform(0, 2, size=(N,)).astype(np.float32)
    per_step = as_np(type(loss).from_config({**loss.get_config(), "reduction": None})(y_true, y_pred))
    assert per_step.shape == (N, T)
    expected = (per_step * weight[:, None]).sum() / (N * T)
    np.testing.assert_allclose(float(loss(y_true, y_pred, sample_weight=weight)), expected, rtol=1e-5)

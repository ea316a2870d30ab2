"""Activation functions against NumPy formulas and against Keras 3 on the same inputs."""

import math

import numpy as np
import pytest
import torch

from ember import activations

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# Grid plus the kinks of the piecewise functions.
X1 = np.concatenate([np.linspace(-6, 6, 49), [-3, -1, -0.5, 0, 0.2, 0.5, 1, 3]]).astype(np.float32)
X2 = (np.random.default_rng(7).normal(size=(4, 6)) * 3).astype(np.float32)

_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0, x)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    # Keras: keep x above the threshold (else 0), clip that to [0, max_value],
    # then subtract negative_slope * max(threshold - x, 0).
    kept = np.where(x > threshold, x, 0.0)
    if max_value is not None:
        kept = np.minimum(np.maximum(kept, 0.0), max_value)
    return kept - negative_slope * np.maximum(threshold - x, 0.0)


def _glu(x, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return a * _sigmoid(b)


def _sparsemax_row(z):
    s = np.sort(z)[::-1]
    k = np.arange(1, len(z) + 1)
    cumsum = np.cumsum(s)
    support = k[1 + k * s > cumsum].max()
    tau = (cumsum[support - 1] - 1) / support
    return np.maximum(z - tau, 0)


def _sparsemax(x, axis=-1):
    return np.apply_along_axis(_sparsemax_row, axis, x)


# (name, kwargs, input, NumPy formula)
CASES = [
    ("relu", {}, X1, _relu),
    ("relu", {"negative_slope": 0.5}, X1, _relu),
    ("relu", {"max_value": 3.0}, X1, _relu),
    ("relu", {"max_value": 0.0}, X1, _relu),
    ("relu", {"max_value": -1.0}, X1, _relu),
    ("relu", {"threshold": 1.0}, X1, _relu),
    ("relu", {"threshold": -1.0}, X1, _relu),
    ("relu", {"negative_slope": 0.5, "max_value": 3.0, "threshold": 1.0}, X1, _relu),
    ("relu", {"negative_slope": 0.1, "max_value": 4.0}, X1, _relu),
    ("relu", {"negative_slope": 0.5, "max_value": 0.5, "threshold": -1.0}, X1, _relu),
    ("relu", {"negative_slope": 0.5, "max_value": -1.0}, X1, _relu),
    ("relu", {"max_value": 6.0}, X1, _relu),
    ("relu", {"max_value": -2.0, "threshold": -1.0}, X1, _relu),
    ("sigmoid", {}, X1, _sigmoid),
    ("softmax", {}, X2, _softmax),
    ("softmax", {"axis": 0}, X2, _softmax),
    ("log_softmax", {}, X2, _log_softmax),
    ("log_softmax", {"axis": 0}, X2, _log_softmax),
    ("tanh", {}, X1, np.tanh),
    ("gelu", {}, X1, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
    (
        "gelu",
        {"approximate": True},
        X1,
        lambda x, approximate: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    ),
    ("silu", {}, X1, lambda x: x * _sigmoid(x)),
    ("swish", {}, X1, lambda x: x * _sigmoid(x)),
    ("elu", {}, X1, lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1))),
    ("elu", {"alpha": 0.5}, X1, lambda x, alpha: np.where(x > 0, x, alpha * (np.exp(x) - 1))),
    ("selu", {}, X1, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))),
    ("softplus", {}, X1, _softplus),
    ("softsign", {}, X1, lambda x: x / (1 + np.abs(x))),
    ("leaky_relu", {}, X1, lambda x, negative_slope=0.2: np.where(x >= 0, x, negative_slope * x)),
    ("leaky_relu", {"negative_slope": 0.01}, X1, lambda x, negative_slope: np.where(x >= 0, x, negative_slope * x)),
    ("relu6", {}, X1, lambda x: np.clip(x, 0, 6)),
    ("hard_sigmoid", {}, X1, lambda x: np.clip(x + 3, 0, 6) / 6),
    ("exponential", {}, X1, np.exp),
    ("linear", {}, X1, lambda x: x),
    ("mish", {}, X1, lambda x: x * np.tanh(_softplus(x))),
    ("hard_silu", {}, X1, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("hard_swish", {}, X1, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("celu", {}, X1, lambda x, alpha=1.0: np.where(x >= 0, x, alpha * (np.exp(x / alpha) - 1))),
    ("celu", {"alpha": 2.0}, X1, lambda x, alpha: np.where(x >= 0, x, alpha * (np.exp(x / alpha) - 1))),
    ("glu", {}, X2, _glu),
    ("glu", {"axis": 0}, X2, _glu),
    ("hard_shrink", {}, X1, lambda x, threshold=0.5: np.where(np.abs(x) > threshold, x, 0)),
    ("hard_shrink", {"threshold": 1.0}, X1, lambda x, threshold: np.where(np.abs(x) > threshold, x, 0)),
    ("hard_tanh", {}, X1, lambda x: np.clip(x, -1, 1)),
    ("log_sigmoid", {}, X1, lambda x: -_softplus(-x)),
    ("soft_shrink", {}, X1, lambda x, threshold=0.5: np.sign(x) * np.maximum(np.abs(x) - threshold, 0)),
    ("sparse_plus", {}, X1, lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    ("sparse_sigmoid", {}, X1, lambda x: np.clip((x + 1) / 2, 0, 1)),
    ("squareplus", {}, X1, lambda x, b=4: (x + np.sqrt(x * x + b)) / 2),
    ("squareplus", {"b": 1}, X1, lambda x, b: (x + np.sqrt(x * x + b)) / 2),
    ("tanh_shrink", {}, X1, lambda x: x - np.tanh(x)),
    ("threshold", {"threshold": 1.0, "default_value": -7.0}, X1, lambda x, threshold, default_value: np.where(x > threshold, x, default_value)),
    ("sparsemax", {}, X2, _sparsemax),
    ("sparsemax", {"axis": 0}, X2, _sparsemax),
]
CASE_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for name, kw, _, _ in CASES]

# Keras 3.15's torch-backend sparsemax does not project onto the simplex (its
# slices need not sum to 1), so sparsemax is checked against NumPy only.
KERAS_CASES = [case for case in CASES if case[0] != "sparsemax"]
KERAS_CASE_IDS = [case_id for case, case_id in zip(CASES, CASE_IDS) if case[0] != "sparsemax"]


@pytest.mark.parametrize("name, kwargs, x, formula", CASES, ids=CASE_IDS)
def test_matches_numpy_formula(name, kwargs, x, formula):
    out = getattr(activations, name)(torch.from_numpy(x), **kwargs)
    assert out.dtype == torch.float32
    assert out.shape == formula(x.astype(np.float64), **kwargs).shape
    np.testing.assert_allclose(out.numpy(), formula(x.astype(np.float64), **kwargs), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name, kwargs, x, formula", KERAS_CASES, ids=KERAS_CASE_IDS)
def test_matches_keras(keras, name, kwargs, x, formula):
    ours = getattr(activations, name)(torch.from_numpy(x), **kwargs)
    theirs = getattr(keras.activations, name)(torch.from_numpy(x), **kwargs)
    np.testing.assert_allclose(ours.numpy(), np.asarray(theirs.detach().cpu()), rtol=0, atol=1e-6)


def test_sparsemax_is_a_sparse_probability_distribution():
    out = activations.sparsemax(torch.tensor([[1.0, 2.0, 3.0], [0.1, 0.2, 0.15]]))
    np.testing.assert_allclose(out.sum(-1).numpy(), [1.0, 1.0], atol=1e-6)
    assert out[0].tolist() == [0.0, 0.0, 1.0]
    assert bool((out >= 0).all())


def test_softmax_over_a_tuple_of_axes_matches_keras(keras):
    x = torch.from_numpy(np.random.default_rng(1).normal(size=(2, 3, 4)).astype(np.float32))
    ours = activations.softmax(x, axis=(1, 2))
    np.testing.assert_allclose(ours.sum(dim=(1, 2)).numpy(), [1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(ours.numpy(), keras.activations.softmax(x, axis=(1, 2)).numpy(), atol=1e-6)
    flat = _softmax(x.numpy().reshape(2, 12).astype(np.float64)).reshape(2, 3, 4)
    np.testing.assert_allclose(ours.numpy(), flat, atol=1e-6)


def test_softmax_over_a_size_one_axis_warns():
    with pytest.warns(UserWarning, match="size 1.*sigmoid"):
        out = activations.softmax(torch.zeros(3, 1))
    assert out.tolist() == [[1.0], [1.0], [1.0]]


def test_glu_rejects_an_odd_axis():
    with pytest.raises(ValueError, match=r"size must be even; got shape \(2, 3\)"):
        activations.glu(torch.zeros(2, 3))


@pytest.mark.parametrize("name", ["relu", "gelu", "softmax", "sigmoid", "silu", "elu"])
def test_preserves_float64_and_half_precision(name):
    fn = getattr(activations, name)
    for dtype in (torch.float64, torch.bfloat16):
        assert fn(torch.ones(2, 3, dtype=dtype)).dtype == dtype


def test_accepts_lists_and_numpy_like_keras(keras):
    out = activations.relu([-10.0, -5.0, 0.0, 5.0, 10.0], threshold=5.0)
    assert out.dtype == torch.float32
    assert out.tolist() == keras.activations.relu([-10.0, -5.0, 0.0, 5.0, 10.0], threshold=5.0).tolist()
    assert activations.sigmoid(np.zeros(2)).dtype == torch.float64


def test_relu_keeps_integer_inputs_integer(keras):
    x = torch.tensor([-2, 0, 3])
    out = activations.relu(x)
    assert out.dtype == keras.activations.relu(x).dtype == torch.int64
    assert out.tolist() == [0, 0, 3]


def test_uses_autograd():
    x = torch.tensor([-1.0, 2.0], requires_grad=True)
    activations.relu(x, negative_slope=0.5, threshold=0.5).sum().backward()
    assert x.grad.tolist() == [0.5, 1.0]

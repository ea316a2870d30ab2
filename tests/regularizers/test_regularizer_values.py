"""Regularizer values against Keras 3 on identical tensors, and against NumPy formulas."""

import numpy as np
import pytest
import torch

from ember import regularizers


def _tensor(shape, seed=0, dtype=torch.float32):
    return torch.as_tensor(np.random.default_rng(seed).normal(size=shape), dtype=dtype)


def _keras_value(regularizer, x):
    return float(regularizer(x.clone()).detach())


CASES = [
    pytest.param("L1", {}, id="l1-default"),
    pytest.param("L1", {"l1": 0.3}, id="l1"),
    pytest.param("L2", {}, id="l2-default"),
    pytest.param("L2", {"l2": 0.3}, id="l2"),
    pytest.param("L1L2", {}, id="l1l2-default-zero"),
    pytest.param("L1L2", {"l1": 0.2}, id="l1l2-l1-only"),
    pytest.param("L1L2", {"l2": 0.2}, id="l1l2-l2-only"),
    pytest.param("L1L2", {"l1": 0.1, "l2": 0.05}, id="l1l2-both"),
]
SHAPES = [(7,), (5, 3), (3, 3, 2, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, kwargs", CASES)
def test_norm_penalties_match_keras(keras, name, kwargs, shape):
    x = _tensor(shape)
    ours = getattr(regularizers, name)(**kwargs)(x)
    theirs = _keras_value(getattr(keras.regularizers, name)(**kwargs), x)
    assert ours.shape == ()
    assert ours.dtype == torch.float32
    assert float(ours) == pytest.approx(theirs, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 6), (2, 2), (8, 8)], ids=str)
@pytest.mark.parametrize("factor", [0.01, 0.7])
def test_orthogonal_matches_keras(keras, shape, mode, factor):
    x = _tensor(shape, seed=sum(shape))
    ours = regularizers.OrthogonalRegularizer(factor=factor, mode=mode)(x)
    theirs = _keras_value(keras.regularizers.OrthogonalRegularizer(factor=factor, mode=mode), x)
    assert float(ours) == pytest.approx(theirs, abs=1e-6)


def test_orthogonal_matches_keras_with_zero_and_tiny_rows(keras):
    # Rows with norms around Keras's epsilon (1e-7): the clamp decides the value.
    x = torch.tensor([[0.0, 0.0, 0.0], [1e-8, 2e-8, 0.0], [1e-5, 0.0, 1e-5], [0.5, -1.0, 2.0]])
    for mode in ("rows", "columns"):
        ours = regularizers.OrthogonalRegularizer(1.0, mode)(x)
        theirs = _keras_value(keras.regularizers.OrthogonalRegularizer(1.0, mode), x)
        assert float(ours) == pytest.approx(theirs, abs=1e-6)


def test_orthogonal_matches_numpy_formula():
    x = _tensor((5, 4), seed=3, dtype=torch.float64)
    units = x.numpy() / np.linalg.norm(x.numpy(), axis=0, keepdims=True)
    cosines = np.abs(units.T @ units)[~np.eye(4, dtype=bool)]
    expected = 0.2 * cosines.mean()
    value = regularizers.OrthogonalRegularizer(0.2, "columns")(x)
    assert value.dtype == torch.float64
    assert float(value) == pytest.approx(expected, rel=1e-12)


def test_orthogonal_of_orthonormal_matrix_is_zero():
    q, _ = torch.linalg.qr(_tensor((6, 6), seed=4, dtype=torch.float64))
    assert float(regularizers.OrthogonalRegularizer(1.0)(q)) == pytest.approx(0.0, abs=1e-12)
    assert float(regularizers.OrthogonalRegularizer(1.0, "columns")(q * 3)) == pytest.approx(0.0, abs=1e-12)


def test_norm_penalties_match_numpy_in_float64():
    x = _tensor((4, 5), seed=7, dtype=torch.float64)
    a = x.numpy()
    assert float(regularizers.L1(0.3)(x)) == pytest.approx(0.3 * np.abs(a).sum(), rel=1e-12)
    assert float(regularizers.L2(0.3)(x)) == pytest.approx(0.3 * (a**2).sum(), rel=1e-12)
    both = regularizers.L1L2(0.1, 0.2)(x)
    assert both.dtype == torch.float64
    assert float(both) == pytest.approx(0.1 * np.abs(a).sum() + 0.2 * (a**2).sum(), rel=1e-12)


def test_numpy_input_is_accepted():
    a = np.array([[1.0, -2.0], [3.0, 0.5]], dtype="float32")
    assert float(regularizers.L2(1.0)(a)) == pytest.approx((a**2).sum())


def test_gradient_flows_to_the_weight():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    regularizers.L1L2(l1=0.5, l2=0.25)(w).backward()
    # d/dw [0.5 |w| + 0.25 w^2] = 0.5 sign(w) + 0.5 w
    np.testing.assert_allclose(w.grad.numpy(), [0.5 + 0.5, -0.5 - 1.0])


def test_base_regularizer_is_zero_of_input_dtype():
    value = regularizers.Regularizer()(torch.ones(3, dtype=torch.float64))
    assert value.shape == () and value.dtype == torch.float64 and float(value) == 0.0


def test_custom_subclass_contributes():
    class SumOfSquares(regularizers.Regularizer):
        def __call__(self, x):
            return torch.sum(x * x)

    assert float(SumOfSquares()(torch.tensor([1.0, 2.0]))) == 5.0
    assert repr(SumOfSquares()) == "SumOfSquares()"


def test_orthogonal_rejects_non_matrix_inputs():
    reg = regularizers.OrthogonalRegularizer()
    with pytest.raises(ValueError, match=r"needs a 2-D tensor, got shape \(3, 3, 2, 4\)"):
        reg(torch.ones(3, 3, 2, 4))
    with pytest.raises(ValueError, match=r"needs a 2-D tensor, got shape \(5,\)"):
        reg(torch.ones(5))


def test_orthogonal_rejects_a_single_vector():
    # Keras returns NaN here (the mean over zero pairs); ember says why instead.
    with pytest.raises(ValueError, match=r"mode='columns'\) needs at least 2 columns.*\(4, 1\)"):
        regularizers.OrthogonalRegularizer(mode="columns")(torch.ones(4, 1))
    with pytest.raises(ValueError, match=r"mode='rows'\) needs at least 2 rows"):
        regularizers.OrthogonalRegularizer(mode="rows")(torch.ones(1, 4))

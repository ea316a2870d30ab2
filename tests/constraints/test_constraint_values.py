"""Constraint values against Keras 3 on identical weights, and against NumPy formulas."""

import numpy as np
import pytest
import torch

from ember import constraints


def _tensor(shape, seed=0, scale=1.0, dtype=torch.float32):
    return torch.as_tensor(scale * np.random.default_rng(seed).normal(size=shape), dtype=dtype)


CASES = [
    pytest.param("MaxNorm", {}, id="maxnorm-default"),
    pytest.param("MaxNorm", {"max_value": 0.5}, id="maxnorm"),
    pytest.param("MaxNorm", {"max_value": 1.0, "axis": 1}, id="maxnorm-axis1"),
    pytest.param("MaxNorm", {"max_value": 1.0, "axis": -1}, id="maxnorm-axis-neg"),
    pytest.param("NonNeg", {}, id="nonneg"),
    pytest.param("UnitNorm", {}, id="unitnorm-default"),
    pytest.param("UnitNorm", {"axis": 1}, id="unitnorm-axis1"),
    pytest.param("MinMaxNorm", {}, id="minmax-default"),
    pytest.param("MinMaxNorm", {"min_value": 1.0, "max_value": 1.5}, id="minmax"),
    pytest.param("MinMaxNorm", {"min_value": 1.0, "max_value": 1.5, "rate": 0.3}, id="minmax-rate"),
    pytest.param("MinMaxNorm", {"min_value": 0.5, "max_value": 2.0, "rate": 0.0, "axis": 1}, id="minmax-rate0"),
]


@pytest.mark.parametrize("scale", [0.2, 3.0])
@pytest.mark.parametrize("name, kwargs", CASES)
def test_matches_keras_on_a_dense_kernel(keras, name, kwargs, scale):
    w = _tensor((5, 4), seed=1, scale=scale)
    ours = getattr(constraints, name)(**kwargs)(w)
    theirs = getattr(keras.constraints, name)(**kwargs)(w.clone())
    assert ours.shape == w.shape and ours.dtype == w.dtype
    np.testing.assert_allclose(ours.numpy(), np.asarray(theirs), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("axis", [0, [0, 1, 2], [0, 1], 3, -1])
@pytest.mark.parametrize("name", ["MaxNorm", "UnitNorm", "MinMaxNorm"])
def test_matches_keras_on_a_conv_kernel_layout(keras, name, axis):
    w = _tensor((3, 3, 2, 4), seed=2, scale=0.8)
    kwargs = {"axis": axis}
    if name != "UnitNorm":
        kwargs["max_value"] = 1.1
    ours = getattr(constraints, name)(**kwargs)(w)
    theirs = getattr(keras.constraints, name)(**kwargs)(w.clone())
    np.testing.assert_allclose(ours.numpy(), np.asarray(theirs), rtol=1e-6, atol=1e-7)


def test_zero_slices_stay_zero(keras):
    w = torch.zeros(3, 2)
    w[:, 1] = torch.tensor([3.0, 0.0, 4.0])
    for name in ("MaxNorm", "UnitNorm", "MinMaxNorm"):
        ours = getattr(constraints, name)()(w)
        theirs = getattr(keras.constraints, name)()(w.clone())
        np.testing.assert_allclose(ours.numpy(), np.asarray(theirs), rtol=1e-6, atol=1e-7)
        assert torch.all(ours[:, 0] == 0)


def test_max_norm_matches_numpy_formula_in_float64():
    w = _tensor((6, 3), seed=3, scale=2.0, dtype=torch.float64)
    a = w.numpy()
    norms = np.sqrt((a**2).sum(axis=0, keepdims=True))
    expected = a * np.minimum(norms, 1.5) / (1e-7 + norms)
    out = constraints.MaxNorm(1.5)(w)
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def test_min_max_norm_matches_numpy_formula():
    w = _tensor((4, 5), seed=4, dtype=torch.float64)
    a = w.numpy()
    norms = np.sqrt((a**2).sum(axis=0, keepdims=True))
    desired = 0.4 * np.clip(norms, 1.0, 1.2) + 0.6 * norms
    out = constraints.MinMaxNorm(1.0, 1.2, rate=0.4)(w)
    np.testing.assert_allclose(out.numpy(), a * desired / (1e-7 + norms), rtol=1e-12)


def test_unit_norm_gives_unit_columns():
    out = constraints.UnitNorm()(_tensor((7, 3), seed=5, scale=4.0, dtype=torch.float64))
    np.testing.assert_allclose(torch.linalg.norm(out, dim=0).numpy(), np.ones(3), rtol=1e-6)


def test_non_neg_zeroes_negatives_only():
    w = torch.tensor([[-1.5, 0.0], [2.0, -1e-9]])
    np.testing.assert_array_equal(constraints.NonNeg()(w).numpy(), [[0.0, 0.0], [2.0, 0.0]])


def test_numpy_input_is_accepted():
    out = constraints.MaxNorm(1.0)(np.array([[3.0], [4.0]], dtype="float32"))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy().ravel(), [0.6, 0.8], rtol=1e-6)


def test_base_constraint_is_identity():
    w = torch.randn(3)
    assert constraints.Constraint()(w) is w


def test_axis_out_of_range_is_reported():
    with pytest.raises(ValueError, match=r"axis=\[0, 1, 2\] is out of range for a weight of shape \(4, 3\)"):
        constraints.MaxNorm(axis=[0, 1, 2])(torch.ones(4, 3))

"""Initializer values against their formulas: sample statistics, bounds, structure, dtypes, seeding."""

import math

import numpy as np
import pytest
import torch

from ember import initializers

TRUNC_STD_FACTOR = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]
BIG_2D = (300, 200)  # fan_in=300, fan_out=200
BIG_4D = (3, 3, 40, 60)  # receptive 9: fan_in=360, fan_out=540


def _fans(shape):
    if len(shape) == 2:
        return shape
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


# (class, n as a function of (fan_in, fan_out), scale, distribution)
VARIANCE_SCALING_CASES = [
    pytest.param(initializers.GlorotUniform, lambda i, o: (i + o) / 2, 1.0, "uniform", id="GlorotUniform"),
    pytest.param(initializers.GlorotNormal, lambda i, o: (i + o) / 2, 1.0, "truncated_normal", id="GlorotNormal"),
    pytest.param(initializers.HeNormal, lambda i, o: i, 2.0, "truncated_normal", id="HeNormal"),
    pytest.param(initializers.HeUniform, lambda i, o: i, 2.0, "uniform", id="HeUniform"),
    pytest.param(initializers.LecunNormal, lambda i, o: i, 1.0, "truncated_normal", id="LecunNormal"),
    pytest.param(initializers.LecunUniform, lambda i, o: i, 1.0, "uniform", id="LecunUniform"),
]


def _check_distribution(values, std, distribution):
    values = values.double()
    assert abs(values.mean().item()) < 0.02 * std
    assert values.std().item() == pytest.approx(std, rel=0.02)
    if distribution == "uniform":
        limit = math.sqrt(3) * std
        assert values.abs().max().item() <= limit
        assert values.abs().max().item() > 0.99 * limit
    elif distribution == "truncated_normal":
        bound = 2 * std / TRUNC_STD_FACTOR
        assert values.abs().max().item() <= bound * (1 + 1e-6)
        assert values.abs().max().item() > 0.98 * bound
    else:
        assert values.abs().max().item() > 3.5 * std


@pytest.mark.parametrize("shape", [BIG_2D, BIG_4D], ids=["2d", "4d"])
@pytest.mark.parametrize("cls, fan, scale, distribution", VARIANCE_SCALING_CASES)
def test_named_variance_scaling_statistics(cls, fan, scale, distribution, shape):
    values = cls(seed=1)(shape)
    assert values.shape == shape and values.dtype == torch.float32 and values.device.type == "cpu"
    _check_distribution(values, math.sqrt(scale / fan(*_fans(shape))), distribution)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_statistics(mode, distribution):
    fan_in, fan_out = _fans(BIG_4D)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    init = initializers.VarianceScaling(scale=0.5, mode=mode, distribution=distribution, seed=3)
    _check_distribution(init(BIG_4D), math.sqrt(0.5 / n), distribution)


def test_variance_scaling_normal_is_an_alias_of_truncated_normal():
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_variance_scaling_custom_axes_set_the_fans():
    # fan_in from axes (0, 1) = 200, fan_out from axis 2 = 5 (the default rule would give 10*20, 5*10).
    init = initializers.VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform", seed=0, input_axes=[0, 1], output_axes=[2])
    values = init((10, 20, 5))
    assert values.abs().max().item() <= math.sqrt(3 / 200)
    assert values.abs().max().item() > 0.95 * math.sqrt(3 / 200)


def test_small_fans_are_floored_at_one():
    values = initializers.VarianceScaling(scale=1.0, distribution="uniform", seed=0)((0, 4000))
    assert values.shape == (0, 4000)
    values = initializers.HeUniform(seed=0)((4000,))  # rank 1: fan_in = 4000
    assert values.abs().max().item() <= math.sqrt(6 / 4000)
    scalar = initializers.GlorotUniform(seed=0)(())
    assert scalar.shape == () and abs(scalar.item()) <= math.sqrt(3.0)


def test_random_normal_and_uniform_statistics():
    values = initializers.RandomNormal(mean=1.5, stddev=0.3, seed=0)(BIG_2D).double()
    assert values.mean().item() == pytest.approx(1.5, abs=0.005)
    assert values.std().item() == pytest.approx(0.3, rel=0.02)
    values = initializers.RandomUniform(minval=-1.0, maxval=3.0, seed=0)(BIG_2D).double()
    assert values.min().item() >= -1.0 and values.max().item() < 3.0
    assert values.mean().item() == pytest.approx(1.0, abs=0.02)
    assert values.std().item() == pytest.approx(4 / math.sqrt(12), rel=0.02)


def test_truncated_normal_bounds_and_spread():
    values = initializers.TruncatedNormal(mean=1.0, stddev=2.0, seed=0)(BIG_2D).double()
    assert values.min().item() >= 1.0 - 4.0 and values.max().item() <= 1.0 + 4.0
    assert values.min().item() < -2.9 and values.max().item() > 4.9
    assert values.mean().item() == pytest.approx(1.0, abs=0.02)
    assert values.std().item() == pytest.approx(2.0 * TRUNC_STD_FACTOR, rel=0.02)


def test_zero_stddev_gives_the_mean():
    assert initializers.TruncatedNormal(mean=0.5, stddev=0.0)((3,)).tolist() == [0.5, 0.5, 0.5]
    assert initializers.RandomNormal(mean=0.5, stddev=0.0)((2,)).tolist() == [0.5, 0.5]


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (2, 3, 4, 5), (3, 2, 20)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain):
    q = initializers.Orthogonal(gain=gain, seed=0)(shape, dtype="float64")
    assert q.shape == shape and q.dtype == torch.float64
    flat = q.reshape(-1, shape[-1])
    if flat.shape[0] >= flat.shape[1]:
        gram = flat.T @ flat
    else:
        gram = flat @ flat.T
    np.testing.assert_allclose(gram.numpy(), gain**2 * np.eye(gram.shape[0]), atol=1e-10)


def test_orthogonal_rejects_rank_one():
    with pytest.raises(ValueError, match=r"rank >= 2; got shape=\(3,\) of rank 1"):
        initializers.Orthogonal()((3,))


def test_identity():
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)).numpy(), 3.0 * np.eye(2, 3))
    np.testing.assert_array_equal(initializers.Identity()((4, 2), dtype="int32").numpy(), np.eye(4, 2, dtype=np.int32))
    with pytest.raises(ValueError, match=r"only initializes 2-D matrices; got shape=\(2, 2, 2\)"):
        initializers.Identity()((2, 2, 2))


def test_constant_family():
    assert initializers.Zeros()((2, 3)).equal(torch.zeros(2, 3))
    assert initializers.Ones()((2,), dtype="int32").equal(torch.ones(2, dtype=torch.int32))
    assert initializers.Ones()(3, dtype=torch.bool).tolist() == [True, True, True]
    assert initializers.Constant(2.5)((2, 2)).equal(torch.full((2, 2), 2.5))
    assert initializers.Constant(7)((2,), dtype="int64").tolist() == [7, 7]
    assert initializers.Constant([1.0, 2.0])((3, 2)).tolist() == [[1.0, 2.0]] * 3
    assert initializers.Constant(torch.tensor([1.0, 2.0])).get_config() == {"value": [1.0, 2.0]}
    with pytest.raises(ValueError, match=r"shape \(3,\) cannot be broadcast to the requested shape \(2, 2\)"):
        initializers.Constant([1.0, 2.0, 3.0])((2, 2))
    with pytest.raises(TypeError, match="value must be a number"):
        initializers.Constant("one")


@pytest.mark.parametrize("dtype", ["float64", torch.float64, "float16", "bfloat16", torch.float32])
@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal", "random_normal", "random_uniform", "truncated_normal", "orthogonal", "identity", "zeros", "ones", "constant"])
def test_dtypes(name, dtype):
    values = initializers.get(name)((8, 8), dtype=dtype)
    assert values.dtype == initializers.base.resolve_dtype(dtype)
    assert bool(torch.isfinite(values.float()).all())


@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal", "random_normal", "random_uniform", "truncated_normal", "orthogonal", "variance_scaling"])
def test_random_initializers_reject_integer_dtypes(name):
    with pytest.raises(ValueError, match=r"must be a float dtype such as 'float32'; got dtype='int32'"):
        initializers.get(name)((2, 2), dtype="int32")


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform", "lecun_normal", "random_normal", "random_uniform", "truncated_normal", "orthogonal", "variance_scaling"])
def test_seeding(name):
    cls = initializers.ALL_INITIALIZERS[name]
    state = torch.get_rng_state()
    seeded = cls(seed=42)
    first = seeded((16, 8))
    assert torch.equal(first, seeded((16, 8)))  # an int seed repeats itself, as in Keras
    assert torch.equal(first, cls(seed=42)((16, 8)))
    assert torch.equal(torch.get_rng_state(), state)  # a seeded draw leaves the global RNG alone
    assert not torch.equal(first, cls(seed=43)((16, 8)))

    unseeded = cls()
    torch.manual_seed(7)
    a, b = unseeded((16, 8)), unseeded((16, 8))
    assert not torch.equal(a, b)  # the global RNG advances between calls
    torch.manual_seed(7)
    assert torch.equal(a, unseeded((16, 8)))


def test_bad_shapes_and_seeds():
    with pytest.raises(ValueError, match=r"non-negative ints, got \(2, -1\)"):
        initializers.Zeros()((2, -1))
    with pytest.raises(TypeError, match="shape must be a tuple of ints"):
        initializers.Zeros()(None)
    with pytest.raises(TypeError, match="GlorotUniform: seed must be an int or None, got 'abc'"):
        initializers.GlorotUniform(seed="abc")
    with pytest.raises(ValueError, match=r"seed must be in \[0, 2\*\*63 - 1\], got -1"):
        initializers.RandomNormal(seed=-1)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: initializers.VarianceScaling(scale=0), "scale must be a positive float, got scale=0"),
        (lambda: initializers.VarianceScaling(scale=-1.0), "scale must be a positive float"),
        (lambda: initializers.VarianceScaling(mode="FAN_IN"), r"mode must be one of \('fan_in', 'fan_out', 'fan_avg'\), got mode='FAN_IN'"),
        (lambda: initializers.VarianceScaling(distribution="gauss"), "distribution must be one of .*got distribution='gauss'"),
        (lambda: initializers.RandomUniform(1.0, 0.0), "minval must be <= maxval, got minval=1.0, maxval=0.0"),
        (lambda: initializers.RandomNormal(stddev=-0.1), r"RandomNormal: stddev must be >= 0, got stddev=-0.1"),
        (lambda: initializers.TruncatedNormal(stddev=-1), r"TruncatedNormal: stddev must be >= 0"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_custom_axes_out_of_range():
    init = initializers.VarianceScaling(input_axes=[3], output_axes=[0])
    with pytest.raises(ValueError, match=r"do not fit shape=\(2, 2\) of rank 2"):
        init((2, 2))

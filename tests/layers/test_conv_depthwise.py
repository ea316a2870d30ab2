"""DepthwiseConv1D/2D and SeparableConv1D/2D: harness checks, numerics and weight
layouts against Keras 3, config, errors."""

import math

import numpy as np
import pytest
import torch

import ember
from ember.layers.conv_depthwise import DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D

from .harness import run_layer_test

DEPTHWISE2D_CASES = [
    (dict(kernel_size=3), (2, 7, 6, 3)),
    (dict(kernel_size=3, depth_multiplier=2, padding="same"), (2, 7, 6, 3)),
    (dict(kernel_size=(2, 3), depth_multiplier=3, strides=2, padding="same"), (2, 7, 6, 2)),
    (dict(kernel_size=2, dilation_rate=2, depth_multiplier=2), (2, 7, 6, 3)),
    (dict(kernel_size=2, strides=2, dilation_rate=2, padding="same"), (2, 8, 7, 2)),
    (dict(kernel_size=3, depth_multiplier=2, data_format="channels_first"), (2, 3, 7, 6)),
    (dict(kernel_size=2, strides=2, padding="same", use_bias=False, activation="relu"), (2, 5, 5, 4)),
]

DEPTHWISE1D_CASES = [
    (dict(kernel_size=3), (2, 9, 3)),
    (dict(kernel_size=2, depth_multiplier=2, padding="same"), (2, 9, 3)),
    (dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same"), (2, 10, 3)),
    (dict(kernel_size=3, dilation_rate=2, depth_multiplier=3), (2, 10, 2)),
    (dict(kernel_size=3, depth_multiplier=2, data_format="channels_first", activation="tanh"), (2, 3, 9)),
]

SEPARABLE2D_CASES = [
    (dict(filters=4, kernel_size=3), (2, 7, 6, 3)),
    (dict(filters=5, kernel_size=3, depth_multiplier=2, padding="same"), (2, 7, 6, 3)),
    (dict(filters=4, kernel_size=(2, 3), strides=2, padding="same", depth_multiplier=2), (2, 7, 6, 2)),
    (dict(filters=4, kernel_size=2, dilation_rate=2), (2, 7, 6, 3)),
    (dict(filters=4, kernel_size=3, depth_multiplier=2, data_format="channels_first"), (2, 3, 7, 6)),
    (dict(filters=3, kernel_size=2, use_bias=False, activation="relu"), (2, 5, 5, 4)),
]

SEPARABLE1D_CASES = [
    (dict(filters=4, kernel_size=3), (2, 9, 3)),
    (dict(filters=5, kernel_size=2, depth_multiplier=2, padding="same"), (2, 9, 3)),
    (dict(filters=4, kernel_size=3, strides=2, padding="same", depth_multiplier=3), (2, 10, 2)),
    (dict(filters=4, kernel_size=3, dilation_rate=2), (2, 10, 3)),
    (dict(filters=4, kernel_size=3, strides=2, dilation_rate=2, data_format="channels_first"), (2, 3, 11)),
    (dict(filters=4, kernel_size=3, depth_multiplier=2, data_format="channels_first"), (2, 3, 9)),
    (dict(filters=3, kernel_size=2, use_bias=False, activation="sigmoid"), (2, 8, 4)),
]


def _case_id(case):
    kwargs, shape = case
    return "-".join(f"{k}={v}" for k, v in kwargs.items()) + f"-in{shape}"


def _expected_shape(kwargs, shape, rank):
    """Output shape from Keras's documented formulas, written independently of ember."""
    as_tuple = lambda v: (v,) * rank if isinstance(v, int) else tuple(v)  # noqa: E731
    kernel = as_tuple(kwargs["kernel_size"])
    strides = as_tuple(kwargs.get("strides", 1))
    dilation = as_tuple(kwargs.get("dilation_rate", 1))
    channels_last = kwargs.get("data_format", "channels_last") == "channels_last"
    spatial = shape[1:-1] if channels_last else shape[2:]
    in_channels = shape[-1] if channels_last else shape[1]
    out = []
    for n, k, s, d in zip(spatial, kernel, strides, dilation):
        if kwargs.get("padding", "valid") == "valid":
            out.append((n - (k - 1) * d - 1) // s + 1)
        else:
            out.append(math.ceil(n / s))
    channels = kwargs.get("filters", in_channels * kwargs.get("depth_multiplier", 1))
    return (shape[0], *out, channels) if channels_last else (shape[0], channels, *out)


def _num_weights(kwargs):
    return int(kwargs.get("use_bias", True)) + (2 if "filters" in kwargs else 1)


def _compare_with_keras(keras, layer_cls, keras_cls, kwargs, shape):
    x = np.random.randn(*shape).astype("float32")
    ours = layer_cls(**kwargs)
    ours(torch.from_numpy(x))
    # Random non-zero bias so a wrong bias layout could not pass unnoticed.
    weights = ours.get_weights()
    if kwargs.get("use_bias", True):
        weights[-1] = np.random.randn(*weights[-1].shape).astype("float32")
        ours.set_weights(weights)
    theirs = keras_cls(**kwargs)
    theirs.build(shape)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    expected = keras.ops.convert_to_numpy(theirs(x))
    with torch.no_grad():
        got = ours(torch.from_numpy(x)).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)

    # And the other way round: Keras's own random weights loaded into ember.
    fresh = [np.random.randn(*w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(fresh)
    ours.set_weights(theirs.get_weights())
    expected = keras.ops.convert_to_numpy(theirs(x))
    with torch.no_grad():
        got = ours(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
    for a, b in zip(ours.get_weights(), fresh):
        np.testing.assert_array_equal(a, b)


ALL = [
    (DepthwiseConv2D, "DepthwiseConv2D", 2, DEPTHWISE2D_CASES),
    (DepthwiseConv1D, "DepthwiseConv1D", 1, DEPTHWISE1D_CASES),
    (SeparableConv2D, "SeparableConv2D", 2, SEPARABLE2D_CASES),
    (SeparableConv1D, "SeparableConv1D", 1, SEPARABLE1D_CASES),
]
PARAMS = [
    pytest.param(cls, name, rank, case, id=f"{name}-{_case_id(case)}")
    for cls, name, rank, cases in ALL
    for case in cases
]


# ---------------------------------------------------------------------- harness and Keras parity
@pytest.mark.parametrize("cls, name, rank, case", PARAMS)
def test_harness(cls, name, rank, case):
    kwargs, shape = case
    run_layer_test(
        cls,
        kwargs,
        input_shape=shape,
        expected_output_shape=_expected_shape(kwargs, shape, rank),
        expected_num_trainable_weights=_num_weights(kwargs),
    )


@pytest.mark.parametrize("cls, name, rank, case", PARAMS)
def test_matches_keras(keras, cls, name, rank, case):
    _compare_with_keras(keras, cls, getattr(keras.layers, name), *case)


def test_depthwise_matches_numpy_formula():
    """Output channel c * dm + m is input channel c convolved with kernel[..., c, m]."""
    x = np.random.randn(1, 5, 3).astype("float32")
    layer = DepthwiseConv1D(2, depth_multiplier=2, use_bias=False)
    layer(torch.from_numpy(x))
    (kernel,) = layer.get_weights()  # (2, 3, 2)
    expected = np.zeros((1, 4, 6), "float32")
    for c in range(3):
        for m in range(2):
            for t in range(4):
                expected[0, t, c * 2 + m] = x[0, t, c] * kernel[0, c, m] + x[0, t + 1, c] * kernel[1, c, m]
    with torch.no_grad():
        np.testing.assert_allclose(layer(torch.from_numpy(x)).numpy(), expected, atol=1e-5)


# ---------------------------------------------------------------------- config and defaults
@pytest.mark.parametrize(
    "cls, name, args",
    [
        (DepthwiseConv2D, "DepthwiseConv2D", (3,)),
        (DepthwiseConv1D, "DepthwiseConv1D", (3,)),
        (SeparableConv2D, "SeparableConv2D", (4, 3)),
        (SeparableConv1D, "SeparableConv1D", (4, 3)),
    ],
)
def test_config_keys_match_keras(keras, cls, name, args):
    ours = cls(*args, depth_multiplier=2, depthwise_regularizer="l2").get_config()
    theirs = getattr(keras.layers, name)(*args, depth_multiplier=2, depthwise_regularizer="l2").get_config()
    assert sorted(ours) == sorted(theirs)
    for key in ("kernel_size", "strides", "padding", "data_format", "dilation_rate", "depth_multiplier", "use_bias"):
        assert ours[key] == theirs[key], key
    assert ours["depthwise_regularizer"]["class_name"] == theirs["depthwise_regularizer"]["class_name"]
    assert ours["depthwise_initializer"]["class_name"] == theirs["depthwise_initializer"]["class_name"]
    rebuilt = cls.from_config(ours)
    assert rebuilt.get_config() == ours


def test_regularizer_and_constraint_see_keras_layout():
    seen = {}

    def reg(w):
        seen["reg"] = tuple(w.shape)
        return w.sum() * 0

    def con(w):
        seen["con"] = tuple(w.shape)
        return w

    layer = SeparableConv2D(
        4, 3, depth_multiplier=2, depthwise_regularizer=reg, pointwise_constraint=con, pointwise_regularizer="l2"
    )
    layer(torch.ones(1, 5, 5, 3))
    losses = layer.losses
    assert seen["reg"] == (3, 3, 3, 2)
    assert len(losses) == 2
    pw = layer.get_weights()[1]
    np.testing.assert_allclose(sum(v.detach().item() for v in losses), 0.01 * (pw**2).sum(), rtol=1e-5)
    layer.pointwise_kernel.constraint(layer.pointwise_kernel)
    assert seen["con"] == (1, 1, 6, 4)


def test_fit_parity(keras):
    from keras_parity.harness import assert_fit_matches_keras

    def build(lib):
        return lib.Sequential(
            [
                lib.Input(shape=(6, 6, 2)),
                lib.layers.DepthwiseConv2D(3, depth_multiplier=2, activation="relu"),
                lib.layers.SeparableConv2D(3, 2, padding="same"),
                lib.layers.Flatten(),
                lib.layers.Dense(1),
            ]
        )

    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 6, 6, 2)).astype("float32")
    y = rng.standard_normal((16, 1)).astype("float32")
    assert_fit_matches_keras(build, lambda lib: {"optimizer": lib.optimizers.SGD(0.05), "loss": "mse"}, x, y)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "cls, args, shape",
    [
        (DepthwiseConv2D, (3,), (2, 5, 5)),
        (DepthwiseConv1D, (3,), (2, 5, 5, 3)),
        (SeparableConv2D, (4, 3), (2, 5, 5)),
        (SeparableConv1D, (4, 3), (2, 5)),
    ],
)
def test_bad_rank(cls, args, shape):
    with pytest.raises(ValueError, match=rf"{cls.__name__} layer .* expects inputs of rank {cls.rank + 2}"):
        cls(*args)(torch.ones(shape))


@pytest.mark.parametrize("cls, args", [(DepthwiseConv2D, ()), (SeparableConv1D, (4,))])
def test_bad_depth_multiplier(cls, args):
    with pytest.raises(ValueError, match=r"`depth_multiplier` must be a positive integer, got depth_multiplier=0"):
        cls(*args, 3, depth_multiplier=0)


@pytest.mark.parametrize("cls, args", [(DepthwiseConv1D, ()), (SeparableConv1D, (4,))])
def test_causal_padding_rejected(cls, args):
    with pytest.raises(ValueError, match=r"`padding` must be one of \('valid', 'same'\), got padding='causal'"):
        cls(*args, 3, padding="causal")


def test_exported():
    for name in ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"):
        assert getattr(ember.layers, name).__name__ == name

"""Conv1D / Conv2D: harness checks, numerics against Keras 3, layouts, no-copy channels_last, errors."""

import math
import re

import numpy as np
import pytest
import torch

import ember
from ember.layers.conv import Conv1D, Conv2D, conv_output_length, same_padding

from .harness import run_layer_test

# (kwargs, input shape) pairs covering every padding/stride/dilation/groups/layout combination.
CONV2D_CASES = [
    (dict(filters=4, kernel_size=3), (2, 7, 6, 3)),
    (dict(filters=4, kernel_size=3, padding="same"), (2, 7, 6, 3)),
    (dict(filters=4, kernel_size=2, padding="same"), (2, 7, 6, 3)),
    (dict(filters=4, kernel_size=(4, 3), padding="same"), (2, 7, 6, 3)),
    (dict(filters=4, kernel_size=3, strides=2), (2, 7, 6, 3)),
    (dict(filters=4, kernel_size=3, strides=2, padding="same"), (2, 7, 6, 3)),
    (dict(filters=4, kernel_size=2, strides=2, padding="same"), (2, 7, 6, 3)),
    (dict(filters=4, kernel_size=(2, 3), strides=(3, 2), padding="same"), (2, 8, 9, 3)),
    (dict(filters=4, kernel_size=3, dilation_rate=2), (2, 9, 8, 3)),
    (dict(filters=4, kernel_size=2, dilation_rate=(2, 3), padding="same"), (2, 7, 6, 3)),
    (dict(filters=6, kernel_size=3, groups=2), (2, 6, 6, 4)),
    (dict(filters=6, kernel_size=2, groups=3, padding="same", strides=2), (2, 7, 7, 6)),
    (dict(filters=4, kernel_size=3, data_format="channels_first"), (2, 3, 7, 6)),
    (dict(filters=4, kernel_size=2, strides=2, padding="same", data_format="channels_first"), (2, 3, 7, 6)),
    (dict(filters=4, kernel_size=2, padding="same", groups=1, data_format="channels_first"), (2, 2, 5, 5)),
    (dict(filters=4, kernel_size=3, activation="relu", use_bias=False), (2, 6, 6, 3)),
    (dict(filters=4, kernel_size=1, bias_initializer="ones", activation="tanh"), (2, 4, 4, 3)),
]

CONV1D_CASES = [
    (dict(filters=4, kernel_size=3), (2, 9, 3)),
    (dict(filters=4, kernel_size=2, padding="same"), (2, 9, 3)),
    (dict(filters=4, kernel_size=3, strides=2, padding="same"), (2, 9, 3)),
    (dict(filters=4, kernel_size=4, strides=3, padding="same"), (2, 10, 3)),
    (dict(filters=4, kernel_size=3, strides=2), (2, 10, 3)),
    (dict(filters=4, kernel_size=3, padding="causal"), (2, 9, 3)),
    (dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2), (2, 9, 3)),
    (dict(filters=4, kernel_size=2, padding="causal", strides=2), (2, 9, 3)),
    (dict(filters=4, kernel_size=3, dilation_rate=3), (2, 12, 3)),
    (dict(filters=6, kernel_size=3, groups=3, padding="same"), (2, 8, 3)),
    (dict(filters=4, kernel_size=3, data_format="channels_first"), (2, 3, 9)),
    (dict(filters=4, kernel_size=2, padding="same", strides=2, data_format="channels_first"), (2, 3, 9)),
    (dict(filters=4, kernel_size=3, padding="causal", data_format="channels_first"), (2, 3, 9)),
    (dict(filters=4, kernel_size=3, activation="sigmoid", use_bias=False), (2, 9, 3)),
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
    out = []
    for n, k, s, d in zip(spatial, kernel, strides, dilation):
        if kwargs.get("padding", "valid") == "valid":
            out.append((n - (k - 1) * d - 1) // s + 1)
        else:
            out.append(math.ceil(n / s))
    filters = kwargs["filters"]
    return (shape[0], *out, filters) if channels_last else (shape[0], filters, *out)


def _compare_with_keras(keras, layer_cls, keras_cls, kwargs, shape):
    x = np.random.randn(*shape).astype("float32")
    ours = layer_cls(**kwargs)
    ours(torch.from_numpy(x))
    # Random non-zero bias so a wrong bias layout could not pass unnoticed.
    weights = ours.get_weights()
    if len(weights) == 2:
        weights[1] = np.random.randn(*weights[1].shape).astype("float32")
        ours.set_weights(weights)
    theirs = keras_cls(**kwargs)
    theirs.build(shape)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    theirs.set_weights(ours.get_weights())
    expected = keras.ops.convert_to_numpy(theirs(x))
    with torch.no_grad():
        got = ours(torch.from_numpy(x)).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)

    # And the other way round: Keras's own random weights loaded into ember.
    theirs_fresh = keras_cls(**kwargs)
    theirs_fresh.build(shape)
    fresh = [np.random.randn(*w.shape).astype("float32") for w in theirs_fresh.get_weights()]
    theirs_fresh.set_weights(fresh)
    ours.set_weights(theirs_fresh.get_weights())
    expected = keras.ops.convert_to_numpy(theirs_fresh(x))
    with torch.no_grad():
        got = ours(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------------- harness
@pytest.mark.parametrize("case", CONV2D_CASES, ids=_case_id)
def test_conv2d_harness(case):
    kwargs, shape = case
    run_layer_test(
        Conv2D,
        kwargs,
        input_shape=shape,
        expected_output_shape=_expected_shape(kwargs, shape, 2),
        expected_num_trainable_weights=2 if kwargs.get("use_bias", True) else 1,
    )


@pytest.mark.parametrize("case", CONV1D_CASES, ids=_case_id)
def test_conv1d_harness(case):
    kwargs, shape = case
    run_layer_test(
        Conv1D,
        kwargs,
        input_shape=shape,
        expected_output_shape=_expected_shape(kwargs, shape, 1),
        expected_num_trainable_weights=2 if kwargs.get("use_bias", True) else 1,
    )


# ---------------------------------------------------------------------- Keras parity
@pytest.mark.parametrize("case", CONV2D_CASES, ids=_case_id)
def test_conv2d_matches_keras(keras, case):
    _compare_with_keras(keras, Conv2D, keras.layers.Conv2D, *case)


@pytest.mark.parametrize("case", CONV1D_CASES, ids=_case_id)
def test_conv1d_matches_keras(keras, case):
    _compare_with_keras(keras, Conv1D, keras.layers.Conv1D, *case)


@pytest.mark.parametrize("layer_name", ["Conv1D", "Conv2D"])
def test_config_matches_keras(keras, layer_name):
    kwargs = dict(filters=6, kernel_size=3, strides=1, padding="same", dilation_rate=2, groups=2)
    ours = getattr(ember.layers.conv, layer_name)(**kwargs).get_config()
    theirs = getattr(keras.layers, layer_name)(**kwargs).get_config()
    assert set(ours) == set(theirs)
    for key in theirs:
        if key not in ("name", "dtype"):
            assert ours[key] == theirs[key], key


def test_default_names_follow_keras(keras):
    pattern = re.compile(r"([a-z0-9_]+?)(_\d+)?")
    for ours_cls, theirs_cls in [(Conv1D, keras.layers.Conv1D), (Conv2D, keras.layers.Conv2D)]:
        ours = pattern.fullmatch(ours_cls(2, 3).name).group(1)
        assert ours == pattern.fullmatch(theirs_cls(2, 3).name).group(1)
        assert ours == ours_cls.__name__.lower()


# ---------------------------------------------------------------------- layouts and initialization
def test_kernel_is_stored_in_torch_layout_and_exported_in_keras_layout():
    layer = Conv2D(6, (2, 3), groups=2)
    layer(torch.randn(1, 5, 5, 4))
    assert tuple(layer.kernel.shape) == (6, 2, 2, 3)
    assert layer.kernel.is_contiguous()
    kernel = layer.get_weights()[0]
    assert kernel.shape == (2, 3, 2, 6)
    np.testing.assert_array_equal(kernel, layer.kernel.detach().numpy().transpose(2, 3, 1, 0))
    new = np.random.randn(2, 3, 2, 6).astype("float32")
    layer.set_weights([new, np.zeros(6, "float32")])
    np.testing.assert_array_equal(layer.kernel.detach().numpy(), new.transpose(3, 2, 0, 1))

    layer1d = Conv1D(4, 3)
    layer1d(torch.randn(1, 5, 2))
    assert tuple(layer1d.kernel.shape) == (4, 2, 3)
    assert layer1d.get_weights()[0].shape == (3, 2, 4)


@pytest.mark.parametrize(
    "layer, input_shape, fan_in, fan_out",
    [
        (lambda: Conv2D(8, 3), (1, 5, 5, 4), 3 * 3 * 4, 3 * 3 * 8),
        (lambda: Conv2D(8, (3, 2), groups=2), (1, 5, 5, 4), 3 * 2 * 2, 3 * 2 * 8),
        (lambda: Conv1D(16, 5), (1, 9, 6), 5 * 6, 5 * 16),
    ],
)
def test_default_initializer_uses_keras_fans(layer, input_shape, fan_in, fan_out):
    layer = layer()
    layer(torch.randn(*input_shape))
    kernel = layer.get_weights()[0]
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.9 * limit
    np.testing.assert_array_equal(layer.get_weights()[1], 0.0)


def test_same_padding_and_output_length_formulas():
    # Total padding (out - 1) * stride + effective_kernel - size, extra element after.
    for size in range(1, 12):
        for kernel in range(1, 5):
            for stride in range(1, 4):
                out = math.ceil(size / stride)
                total = max((out - 1) * stride + kernel - size, 0)
                assert same_padding(size, kernel, stride, 1) == (total // 2, total - total // 2)
                assert conv_output_length(size, kernel, "same", stride, 1) == out
                assert conv_output_length(size, kernel, "valid", stride, 1) == (size - kernel) // stride + 1
    assert same_padding(7, 3, 1, 2) == (2, 2)
    assert conv_output_length(None, 3, "valid", 1, 1) is None


# ---------------------------------------------------------------------- channels_last without copies
@pytest.mark.parametrize(
    "layer, shape",
    [
        (lambda: Conv2D(4, 3), (2, 8, 8, 3)),
        (lambda: Conv2D(4, 3, padding="same"), (2, 8, 8, 3)),
        (lambda: Conv2D(4, 3, strides=2, padding="same"), (2, 9, 9, 3)),
        (lambda: Conv1D(4, 3), (2, 8, 3)),
        (lambda: Conv1D(4, 3, padding="same"), (2, 8, 3)),
    ],
)
def test_channels_last_input_reaches_conv_without_copy(monkeypatch, layer, shape):
    layer = layer()
    x = torch.randn(*shape)
    layer(x)
    seen = []
    original = torch.nn.functional.conv2d

    def spy(inputs, *args, **kwargs):
        seen.append((inputs.data_ptr(), inputs.is_contiguous(memory_format=torch.channels_last)))
        return original(inputs, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "conv2d", spy)
    out = layer(x)
    assert len(seen) == 1
    data_ptr, channels_last = seen[0]
    assert channels_last, "the input reached conv2d in a layout that forces a copy"
    assert data_ptr == x.data_ptr(), "the input was copied before conv2d"
    assert out.is_contiguous(), "the channels_last output should be a contiguous (N, ..., C) tensor"


def test_even_kernel_stride_two_same_pads_bottom_right():
    # A kernel of ones sums the window; with size 4, kernel 2, stride 2 Keras pads nothing,
    # with size 5 it pads one zero row/column at the bottom/right only.
    layer = Conv2D(1, 2, strides=2, padding="same", kernel_initializer="ones", use_bias=False)
    x = torch.arange(25.0).reshape(1, 5, 5, 1)
    out = layer(x)[0, :, :, 0]
    image = x[0, :, :, 0].numpy()
    padded = np.pad(image, ((0, 1), (0, 1)))
    expected = padded.reshape(3, 2, 3, 2).sum(axis=(1, 3))
    np.testing.assert_allclose(out.detach().numpy(), expected)


def test_causal_conv_does_not_see_the_future():
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = torch.randn(1, 10, 3)
    base = layer(x).detach()
    x2 = x.clone()
    x2[:, 6:] += 1.0
    changed = (layer(x2).detach() - base).abs().sum(dim=(0, 2))
    assert torch.all(changed[:6] == 0)
    assert torch.all(changed[6:] > 0)


# ---------------------------------------------------------------------- symbolic use
def test_symbolic_shapes_with_unknown_dims():
    x = ember.layers.Input(shape=(None, None, 3))
    assert Conv2D(4, 3)(x).shape == (None, None, None, 4)
    y = ember.layers.Input(shape=(None, 8, 3))
    assert Conv2D(4, 3, strides=2, padding="same")(y).shape == (None, None, 4, 4)
    t = ember.layers.Input(shape=(None, 10))
    assert Conv1D(3, 3, padding="causal")(t).shape == (None, None, 3)


def test_model_forward_matches_layer():
    inputs = ember.layers.Input(shape=(6, 6, 2))
    conv = Conv2D(3, 3, padding="same", activation="relu")
    model = ember.Model(inputs, conv(inputs))
    x = torch.randn(2, 6, 6, 2)
    torch.testing.assert_close(model(x), conv(x))


# ---------------------------------------------------------------------- regularizers and constraints
def test_regularizers_and_constraints_see_keras_layout():
    first_row = lambda w: w[0].sum()  # noqa: E731 - depends on the layout it is given
    unit_norm = lambda w: w / torch.linalg.vector_norm(w, dim=(0, 1, 2), keepdim=True)  # noqa: E731
    layer = Conv2D(4, (2, 3), kernel_regularizer=first_row, kernel_constraint=unit_norm)
    layer(torch.randn(1, 5, 5, 3))
    kernel = layer.get_weights()[0]
    assert len(layer.losses) == 1
    np.testing.assert_allclose(layer.losses[0].item(), kernel[0].sum(), rtol=1e-5)
    with torch.no_grad():
        layer.kernel.copy_(layer.kernel.constraint(layer.kernel))
    expected = kernel / np.sqrt((kernel**2).sum(axis=(0, 1, 2), keepdims=True))
    np.testing.assert_allclose(layer.get_weights()[0], expected, rtol=1e-5)


def test_activity_regularizer_matches_keras(keras):
    x = np.random.randn(4, 6, 6, 2).astype("float32")
    kwargs = dict(filters=3, kernel_size=3, activation="relu")
    ours = Conv2D(activity_regularizer=lambda y: 0.1 * y.abs().sum(), **kwargs)
    ours(torch.from_numpy(x))
    theirs = keras.layers.Conv2D(activity_regularizer=keras.regularizers.L1(0.1), **kwargs)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    theirs(x)
    ours(torch.from_numpy(x))
    expected = float(keras.ops.convert_to_numpy(theirs.losses[0]))
    assert len(ours.losses) == 1
    np.testing.assert_allclose(ours.losses[0].item(), expected, rtol=1e-5)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(filters=0, kernel_size=3), "filters` must be a positive integer, got filters=0"),
        (dict(filters="4", kernel_size=3), "filters` must be a positive integer"),
        (dict(filters=4, kernel_size=(3, 3, 3)), "kernel_size` must be a positive integer or a tuple of 2"),
        (dict(filters=4, kernel_size=0), "kernel_size"),
        (dict(filters=4, kernel_size=3, strides=0), "strides"),
        (dict(filters=4, kernel_size=3, dilation_rate=(1, -1)), "dilation_rate"),
        (dict(filters=4, kernel_size=3, padding="full"), r"padding` must be one of \('valid', 'same'\)"),
        (dict(filters=4, kernel_size=3, padding="causal"), "padding` must be one of"),
        (dict(filters=4, kernel_size=3, data_format="nhwc"), "data_format` must be one of"),
        (dict(filters=3, kernel_size=3, groups=2), "filters` must be divisible by `groups`"),
        (dict(filters=4, kernel_size=3, groups=0), "groups` must be a positive integer"),
        (dict(filters=4, kernel_size=3, strides=2, dilation_rate=2), "strides` > 1 together with `dilation_rate`"),
    ],
)
def test_conv2d_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2D(**kwargs)


def test_conv1d_bad_arguments():
    with pytest.raises(ValueError, match="kernel_size` must be a positive integer or a tuple of 1"):
        Conv1D(4, (3, 3))
    with pytest.raises(ValueError, match="padding` must be one of"):
        Conv1D(4, 3, padding="full")


def test_padding_is_case_insensitive():
    assert Conv2D(2, 3, padding="SAME").padding == "same"


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"input channels \(3\) must be divisible by `groups` \(2\)"):
        Conv2D(4, 3, groups=2)(torch.randn(1, 5, 5, 3))
    with pytest.raises(ValueError, match="expects inputs of rank 4"):
        Conv2D(4, 3)(torch.randn(5, 5, 3))
    with pytest.raises(ValueError, match="expects inputs of rank 3"):
        Conv1D(4, 3)(torch.randn(2, 5, 5, 3))
    with pytest.raises(ValueError, match="needs a known number of input channels"):
        Conv2D(4, 3)(ember.layers.Input(shape=(5, 5, None)))
    with pytest.raises(ValueError, match="too small for kernel_size"):
        Conv2D(4, 5)(ember.layers.Input(shape=(3, 3, 2)))

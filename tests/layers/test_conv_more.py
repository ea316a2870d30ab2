"""Conv3D and the transposed convolutions: harness checks, numerics against Keras 3, layouts, errors."""

import math

import numpy as np
import pytest
import torch

from ember.layers import conv_more
from ember.layers.conv_more import Conv1DTranspose, Conv2DTranspose, Conv3D, Conv3DTranspose

from .harness import run_layer_test

CONV3D_CASES = [
    (dict(filters=3, kernel_size=2), (2, 4, 5, 4, 2)),
    (dict(filters=3, kernel_size=(2, 3, 2), strides=2, padding="same"), (2, 5, 6, 5, 2)),
    (dict(filters=4, kernel_size=3, padding="same", groups=2, dilation_rate=2), (1, 5, 5, 4, 4)),
    (dict(filters=2, kernel_size=2, strides=(1, 2, 3), data_format="channels_first"), (2, 2, 4, 5, 6)),
    (dict(filters=2, kernel_size=2, padding="same", activation="relu", use_bias=False), (1, 3, 4, 5, 2)),
]

# (layer class, kwargs, input shape); the output shape comes from Keras's formulas below.
TRANSPOSE_CASES = [
    (Conv1DTranspose, dict(filters=3, kernel_size=3), (2, 5, 2)),
    (Conv1DTranspose, dict(filters=3, kernel_size=3, strides=2), (2, 5, 2)),
    (Conv1DTranspose, dict(filters=3, kernel_size=4, strides=2, padding="same"), (2, 5, 2)),
    (Conv1DTranspose, dict(filters=3, kernel_size=1, strides=3), (2, 4, 2)),
    (Conv1DTranspose, dict(filters=3, kernel_size=3, strides=3, output_padding=2), (2, 4, 2)),
    (Conv1DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same", output_padding=0), (2, 5, 2)),
    (Conv1DTranspose, dict(filters=3, kernel_size=3, dilation_rate=2, padding="same"), (2, 5, 2)),
    (Conv1DTranspose, dict(filters=3, kernel_size=2, strides=2, data_format="channels_first"), (2, 2, 5)),
    (Conv2DTranspose, dict(filters=3, kernel_size=3), (2, 4, 5, 2)),
    (Conv2DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 4, 5, 2)),
    (Conv2DTranspose, dict(filters=3, kernel_size=(2, 3), strides=(2, 3), output_padding=1), (2, 4, 5, 2)),
    (Conv2DTranspose, dict(filters=3, kernel_size=4, strides=3, padding="same", output_padding=(2, 0)), (2, 3, 4, 2)),
    (Conv2DTranspose, dict(filters=3, kernel_size=2, dilation_rate=2, activation="tanh"), (2, 4, 4, 2)),
    (Conv2DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same", data_format="channels_first"),
     (2, 2, 4, 5)),
    (Conv2DTranspose, dict(filters=3, kernel_size=1, strides=2, use_bias=False), (2, 3, 3, 2)),
    (Conv3DTranspose, dict(filters=2, kernel_size=2, strides=2), (1, 3, 2, 3, 2)),
    (Conv3DTranspose, dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=1), (1, 3, 2, 3, 2)),
    (Conv3DTranspose, dict(filters=2, kernel_size=(1, 2, 3), data_format="channels_first"), (1, 2, 3, 2, 3)),
]


def _case_id(case):
    *cls, kwargs, shape = case
    name = cls[0].__name__ + "-" if cls else ""
    return name + "-".join(f"{k}={v}" for k, v in kwargs.items()) + f"-in{shape}"


def _as_tuple(value, rank):
    return (value,) * rank if isinstance(value, int) else tuple(value)


def _expected_shape(kwargs, shape, rank, transpose):
    """Output shape from Keras's documented formulas, written independently of ember."""
    kernel = _as_tuple(kwargs["kernel_size"], rank)
    strides = _as_tuple(kwargs.get("strides", 1), rank)
    dilation = _as_tuple(kwargs.get("dilation_rate", 1), rank)
    output_padding = kwargs.get("output_padding")
    output_padding = (None,) * rank if output_padding is None else _as_tuple(output_padding, rank)
    same = kwargs.get("padding", "valid") == "same"
    channels_last = kwargs.get("data_format", "channels_last") == "channels_last"
    spatial = shape[1:-1] if channels_last else shape[2:]
    out = []
    for n, k, s, d, p in zip(spatial, kernel, strides, dilation, output_padding):
        k = (k - 1) * d + 1
        if not transpose:
            out.append(math.ceil(n / s) if same else (n - k) // s + 1)
        elif p is None:
            out.append(n * s if same else n * s + max(k - s, 0))
        else:
            out.append((n - 1) * s + k - 2 * (k // 2 if same else 0) + p)
    filters = kwargs["filters"]
    return (shape[0], *out, filters) if channels_last else (shape[0], filters, *out)


def _compare_with_keras(keras, layer_cls, kwargs, shape):
    x = np.random.randn(*shape).astype("float32")
    ours = layer_cls(**kwargs)
    ours(torch.from_numpy(x))
    theirs = getattr(keras.layers, layer_cls.__name__)(**kwargs)
    theirs.build(shape)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    # Random weights (non-zero bias too) so a wrong kernel or bias layout cannot pass.
    weights = [np.random.randn(*w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    expected = keras.ops.convert_to_numpy(theirs(x))
    with torch.no_grad():
        got = ours(torch.from_numpy(x)).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
    # And back: ember's weights exported in Keras's layout give Keras the same output.
    ours_weights = ours.get_weights()
    ours_weights[0] = np.random.randn(*ours_weights[0].shape).astype("float32")
    ours.set_weights(ours_weights)
    theirs.set_weights(ours.get_weights())
    with torch.no_grad():
        got = ours(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(theirs(x)), atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------------- harness
@pytest.mark.parametrize("case", CONV3D_CASES, ids=_case_id)
def test_conv3d_harness(case):
    kwargs, shape = case
    run_layer_test(
        Conv3D,
        kwargs,
        input_shape=shape,
        expected_output_shape=_expected_shape(kwargs, shape, 3, transpose=False),
        expected_num_trainable_weights=2 if kwargs.get("use_bias", True) else 1,
    )


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=_case_id)
def test_transpose_harness(case):
    layer_cls, kwargs, shape = case
    run_layer_test(
        layer_cls,
        kwargs,
        input_shape=shape,
        expected_output_shape=_expected_shape(kwargs, shape, layer_cls.rank, transpose=True),
        expected_num_trainable_weights=2 if kwargs.get("use_bias", True) else 1,
    )


# ---------------------------------------------------------------------- Keras parity
@pytest.mark.parametrize("case", CONV3D_CASES, ids=_case_id)
def test_conv3d_matches_keras(keras, case):
    _compare_with_keras(keras, Conv3D, *case)


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=_case_id)
def test_transpose_matches_keras(keras, case):
    _compare_with_keras(keras, *case)


@pytest.mark.parametrize("name", ["Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"])
def test_config_matches_keras(keras, name):
    kwargs = dict(filters=4, kernel_size=3, strides=2, padding="same")
    if "Transpose" in name:
        kwargs["output_padding"] = 1
    ours = getattr(conv_more, name)(**kwargs).get_config()
    theirs = getattr(keras.layers, name)(**kwargs).get_config()
    assert set(ours) == set(theirs)
    for key in theirs:
        if key not in ("name", "dtype"):
            assert ours[key] == theirs[key], key


def test_transpose_fit_matches_keras(keras):
    from keras_parity.harness import assert_fit_matches_keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3, 3, 2)).astype("float32")
    y = rng.normal(size=(16, 6, 6, 2)).astype("float32")

    def build(lib):
        inputs = lib.Input(shape=(3, 3, 2))
        outputs = lib.layers.Conv2DTranspose(2, 3, strides=2, padding="same")(inputs)
        return lib.Model(inputs, outputs)

    assert_fit_matches_keras(build, lambda lib: dict(loss="mse", optimizer="sgd"), x, y, epochs=2, batch_size=8)


# ---------------------------------------------------------------------- layouts and initialization
def test_kernel_layouts():
    layer = Conv3D(6, (1, 2, 3), groups=2)
    layer(torch.randn(1, 4, 4, 4, 4))
    assert tuple(layer.kernel.shape) == (6, 2, 1, 2, 3)
    np.testing.assert_array_equal(layer.get_weights()[0], layer.kernel.detach().numpy().transpose(2, 3, 4, 1, 0))

    layer = Conv2DTranspose(5, (2, 3))
    layer(torch.randn(1, 4, 4, 3))
    assert tuple(layer.kernel.shape) == (3, 5, 2, 3)  # PyTorch's (in, out, kh, kw)
    kernel = layer.get_weights()[0]
    assert kernel.shape == (2, 3, 5, 3)  # Keras's (kh, kw, out, in)
    np.testing.assert_array_equal(kernel, layer.kernel.detach().numpy().transpose(2, 3, 1, 0))


def test_transpose_initializer_uses_keras_fans():
    layer = Conv2DTranspose(8, 3)
    layer(torch.randn(1, 4, 4, 4))
    # Keras's fans for a (3, 3, 8, 4) kernel: fan_in = 9 * 8, fan_out = 9 * 4.
    limit = math.sqrt(6.0 / (9 * 8 + 9 * 4))
    kernel = layer.get_weights()[0]
    assert limit * 0.9 < np.abs(kernel).max() <= limit


def test_channels_last_2d_transpose_output_is_contiguous():
    # The permuted input is in channels_last memory format, so the result comes back without a copy.
    out = Conv2DTranspose(3, 2, strides=2)(torch.randn(1, 4, 4, 2))
    assert out.is_contiguous()


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "layer_cls, shape",
    [(Conv3D, (2, 4, 4, 3)), (Conv1DTranspose, (2, 4, 4, 3)), (Conv2DTranspose, (2, 4, 3)), (Conv3DTranspose, (4, 3))],
)
def test_bad_rank_is_rejected(layer_cls, shape):
    with pytest.raises(ValueError, match=rf"{layer_cls.__name__} layer .* expects inputs of rank {layer_cls.rank + 2}"):
        layer_cls(2, 2)(torch.randn(*shape))


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match=r"`output_padding` must be strictly less than `strides`.*output_padding=\(2, 2\)"):
        Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"`output_padding` must be None, a non-negative integer or a tuple of 1"):
        Conv1DTranspose(2, 3, strides=2, output_padding=(1, 1))
    with pytest.raises(ValueError, match="Conv3DTranspose `padding` must be one of"):
        Conv3DTranspose(2, 3, padding="causal")
    with pytest.raises(ValueError, match="Conv3D `kernel_size` must be a positive integer or a tuple of 3"):
        Conv3D(2, (3, 3))
    with pytest.raises(ValueError, match=r"`strides` > 1 together with `dilation_rate` > 1"):
        Conv2DTranspose(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"Conv3D layer .* too small"):
        Conv3D(2, 3).compute_output_shape((None, 2, 4, 4, 1))

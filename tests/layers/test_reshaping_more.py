"""Identity, Lambda, Permute, RepeatVector, Cropping/ZeroPadding/UpSampling 1D-3D: harness, Keras numerics, errors."""

import numpy as np
import pytest
import torch

import ember
from ember import layers
from ember.saving import register_serializable

from .harness import run_layer_test

# (class name, constructor kwargs, input shape): compared against Keras's output on the same input.
CASES = [
    ("Identity", {}, (2, 3, 4)),
    ("Permute", dict(dims=(2, 1)), (2, 3, 4)),
    ("Permute", dict(dims=(3, 1, 2)), (2, 3, 4, 5)),
    ("RepeatVector", dict(n=3), (2, 4)),
    ("Cropping1D", {}, (2, 6, 3)),
    ("Cropping1D", dict(cropping=(0, 2)), (2, 6, 3)),
    ("Cropping1D", dict(cropping=2), (2, 6, 3)),
    ("Cropping2D", dict(cropping=1), (2, 5, 6, 3)),
    ("Cropping2D", dict(cropping=(1, 2)), (2, 5, 6, 3)),
    ("Cropping2D", dict(cropping=((1, 0), (2, 1)), data_format="channels_first"), (2, 3, 5, 6)),
    ("Cropping3D", {}, (2, 4, 5, 6, 2)),
    ("Cropping3D", dict(cropping=((0, 1), (2, 0), (1, 1)), data_format="channels_first"), (2, 2, 4, 5, 6)),
    ("ZeroPadding1D", {}, (2, 4, 3)),
    ("ZeroPadding1D", dict(padding=(0, 2)), (2, 4, 3)),
    ("ZeroPadding1D", dict(padding=(2, 1), data_format="channels_first"), (2, 3, 4)),
    ("ZeroPadding2D", dict(padding=2), (2, 3, 4, 2)),
    ("ZeroPadding2D", dict(padding=((1, 0), (2, 3)), data_format="channels_first"), (2, 2, 3, 4)),
    ("ZeroPadding3D", {}, (2, 2, 3, 2, 2)),
    ("ZeroPadding3D", dict(padding=(1, 0, 2), data_format="channels_first"), (2, 2, 2, 3, 2)),
    ("UpSampling1D", {}, (2, 4, 3)),
    ("UpSampling1D", dict(size=3), (2, 4, 3)),
    ("UpSampling2D", dict(size=(2, 3)), (2, 3, 4, 2)),
    ("UpSampling2D", dict(size=2, data_format="channels_first"), (2, 2, 3, 4)),
    ("UpSampling2D", dict(size=(2, 3), interpolation="bilinear"), (2, 3, 4, 2)),
    ("UpSampling2D", dict(size=(3, 1), interpolation="bilinear", data_format="channels_first"), (2, 2, 3, 4)),
    ("UpSampling3D", {}, (2, 2, 3, 2, 2)),
    ("UpSampling3D", dict(size=(1, 2, 3), data_format="channels_first"), (2, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name, kwargs, shape", CASES)
def test_harness_and_matches_keras(keras, name, kwargs, shape):
    theirs = getattr(keras.layers, name)(**kwargs)
    x = np.random.randn(*shape).astype("float32")
    expected = keras.ops.convert_to_numpy(theirs(x))
    cls = getattr(layers, name)
    run_layer_test(
        cls, kwargs, input_shape=shape, expected_output_shape=expected.shape, expected_num_trainable_weights=0
    )
    np.testing.assert_allclose(cls(**kwargs)(torch.from_numpy(x)).numpy(), expected, atol=1e-5)
    ours_config = {k: v for k, v in cls(**kwargs).get_config().items() if k not in ("name", "trainable", "dtype")}
    theirs_config = {k: v for k, v in theirs.get_config().items() if k not in ("name", "trainable", "dtype")}
    assert ours_config == theirs_config


def test_numpy_references():
    x = np.random.randn(2, 3, 4).astype("float32")
    t = torch.from_numpy(x)
    np.testing.assert_array_equal(layers.ZeroPadding1D((1, 2))(t).numpy(), np.pad(x, ((0, 0), (1, 2), (0, 0))))
    np.testing.assert_array_equal(layers.Cropping1D((1, 0))(t).numpy(), x[:, 1:])
    np.testing.assert_array_equal(layers.UpSampling1D(2)(t).numpy(), np.repeat(x, 2, axis=1))
    np.testing.assert_array_equal(layers.Permute((2, 1))(t).numpy(), x.transpose(0, 2, 1))
    np.testing.assert_array_equal(layers.RepeatVector(2)(t[:, 0]).numpy(), np.stack([x[:, 0]] * 2, axis=1))


def _times_three(x):
    return x * 3


register_serializable()(_times_three)


def test_lambda_matches_keras_and_infers_shape(keras):
    x = np.random.randn(2, 3, 4).astype("float32")
    ours = layers.Lambda(lambda t, k: t[:, :, :k] * 2, arguments={"k": 2})
    theirs = keras.layers.Lambda(lambda t, k: t[:, :, :k] * 2, arguments={"k": 2})
    np.testing.assert_allclose(ours(torch.from_numpy(x)).numpy(), keras.ops.convert_to_numpy(theirs(x)))
    assert tuple(ours(layers.Input(shape=(3, 4))).shape) == (None, 3, 2)
    assert tuple(layers.Lambda(_times_three, output_shape=(5,))(layers.Input(shape=(3,))).shape) == (None, 5)
    shape_fn = layers.Lambda(_times_three, output_shape=lambda s: (s[0], 7))
    assert tuple(shape_fn(layers.Input(shape=(3,))).shape) == (None, 7)


def test_lambda_saving(tmp_path):
    inputs = layers.Input(shape=(3,))
    model = ember.Model(inputs, layers.Lambda(_times_three)(layers.Identity()(inputs)))
    model.save(tmp_path / "named.ember")
    loaded = ember.models.load_model(tmp_path / "named.ember")
    x = np.random.randn(2, 3).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), x * 3)

    inputs = layers.Input(shape=(3,))
    model = ember.Model(inputs, layers.Lambda(lambda t: t + 1)(inputs))
    with pytest.raises(ValueError, match=r"lambdas and functions defined inside other.*register_serializable"):
        model.save(tmp_path / "lambda.ember")


def test_argument_errors():
    with pytest.raises(ValueError, match=r"Lambda `function` must be callable, got function=3"):
        layers.Lambda(3)
    with pytest.raises(ValueError, match=r"Lambda `arguments` must be a dict"):
        layers.Lambda(_times_three, arguments=[1])
    with pytest.raises(ValueError, match=r"Permute `dims` must be a permutation of 1..2 .*got dims=\(0, 1\)"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match=r"RepeatVector `n` must be a positive integer, got n=0"):
        layers.RepeatVector(0)
    with pytest.raises(ValueError, match=r"Cropping2D `cropping` must be .*got cropping=\(1, 2, 3\)"):
        layers.Cropping2D((1, 2, 3))
    with pytest.raises(ValueError, match=r"ZeroPadding1D `padding` must be an integer or a pair.*>= 0.*padding=-1"):
        layers.ZeroPadding1D(-1)
    with pytest.raises(ValueError, match=r"UpSampling3D `size` must be a positive integer or a tuple of 3"):
        layers.UpSampling3D((2, 2))
    with pytest.raises(ValueError, match=r"UpSampling2D `interpolation` must be one of \('nearest', 'bilinear'\)"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match=r"`data_format` must be one of"):
        layers.ZeroPadding2D(data_format="NHWC")
    with pytest.raises(TypeError, match=r"Cropping1D takes no `data_format`"):
        layers.Cropping1D(data_format="channels_first")
    with pytest.raises(TypeError, match=r"UpSampling1D takes only `size`"):
        layers.UpSampling1D(interpolation="bilinear")


def test_wrong_rank_and_shape_errors():
    with pytest.raises(ValueError, match=r"Permute layer .p. with dims=\(2, 1\) expects .*rank 3, got shape \(2, 3\)"):
        layers.Permute((2, 1), name="p")(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"RepeatVector layer .*rank 2 \(batch, features\), got shape \(None, 3, 4\)"):
        layers.RepeatVector(2)(layers.Input(shape=(3, 4)))
    with pytest.raises(ValueError, match=r"Cropping1D layer .*cropping=\(3, 3\) must leave at least one.*\(2, 5, 1\)"):
        layers.Cropping1D((3, 3))(torch.ones(2, 5, 1))
    with pytest.raises(ValueError, match=r"ZeroPadding3D layer .*expects inputs of rank 5 .*got shape \(2, 3, 3, 1\)"):
        layers.ZeroPadding3D()(torch.ones(2, 3, 3, 1))
    with pytest.raises(ValueError, match=r"UpSampling2D layer .*expects inputs of rank 4"):
        layers.UpSampling2D()(layers.Input(shape=(3, 1)))


@pytest.mark.parametrize("kwargs", [dict(), dict(output_shape=(3, 4)), dict(arguments={})])
def test_lambda_harness(kwargs):
    layer = run_layer_test(
        layers.Lambda, dict(function=_times_three, **kwargs), input_shape=(2, 3, 4), expected_output_shape=(2, 3, 4)
    )
    assert layer.get_config()["function"] is _times_three

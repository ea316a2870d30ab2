"""Regularization layers: identity at inference, the documented noise in training, Keras's formulas."""

import numpy as np
import pytest
import torch

import ember
from ember import layers

from .harness import run_layer_test

ALPHA_P = -1.6732632423543772 * 1.0507009873554805


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        (layers.SpatialDropout1D, {"rate": 0.5}, (2, 3, 4)),
        (layers.SpatialDropout2D, {"rate": 0.5, "data_format": "channels_first"}, (2, 3, 4, 4)),
        (layers.SpatialDropout3D, {"rate": 0.5, "seed": 1}, (2, 2, 2, 2, 3)),
        (layers.GaussianNoise, {"stddev": 0.3, "seed": 2}, (2, 5)),
        (layers.GaussianDropout, {"rate": 0.3}, (2, 5)),
        (layers.AlphaDropout, {"rate": 0.2, "noise_shape": [None, 1]}, (2, 5)),
        (layers.ActivityRegularization, {"l1": 0.1, "l2": 0.2}, (2, 5)),
    ],
)
def test_layer_harness(cls, kwargs, shape):
    run_layer_test(cls, kwargs, shape, shape, 0, 0)


@pytest.mark.parametrize(
    "layer",
    [
        layers.SpatialDropout2D(0.5),
        layers.GaussianNoise(1.0),
        layers.GaussianDropout(0.5),
        layers.AlphaDropout(0.5),
    ],
)
def test_identity_at_inference(layer):
    x = torch.tensor(_rand(2, 3, 3, 4))
    assert layer(x) is x
    assert layer(x, training=False) is x
    assert not torch.equal(layer(x, training=True), x)


@pytest.mark.parametrize(
    "cls, data_format, shape, kept_axes",
    [
        (layers.SpatialDropout1D, None, (64, 5, 16), (0, 2)),
        (layers.SpatialDropout2D, "channels_last", (64, 3, 4, 16), (0, 3)),
        (layers.SpatialDropout2D, "channels_first", (64, 16, 3, 4), (0, 1)),
        (layers.SpatialDropout3D, "channels_last", (64, 2, 3, 2, 16), (0, 4)),
    ],
)
def test_spatial_dropout_drops_whole_channels(cls, data_format, shape, kept_axes):
    kwargs = {} if data_format is None else {"data_format": data_format}
    layer = cls(0.25, seed=3, **kwargs)
    out = layer(torch.ones(shape), training=True).numpy()
    assert set(np.unique(out).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    reduce = tuple(a for a in range(len(shape)) if a not in kept_axes)
    # Every channel map is either entirely dropped or entirely kept.
    np.testing.assert_array_equal(out.min(axis=reduce), out.max(axis=reduce))
    assert 0.15 < (out == 0).mean() < 0.35


def test_gaussian_noise_and_dropout_statistics():
    x = torch.full((20000,), 2.0)
    noise = layers.GaussianNoise(0.5, seed=0)(x, training=True) - x
    assert abs(float(noise.mean())) < 0.02 and abs(float(noise.std()) - 0.5) < 0.02
    out = layers.GaussianDropout(0.2, seed=0)(x, training=True) / x
    assert abs(float(out.mean()) - 1.0) < 0.02 and abs(float(out.std()) - np.sqrt(0.2 / 0.8)) < 0.02


def test_alpha_dropout_formula_and_selu_statistics():
    rate = 0.3
    x = torch.tensor(_rand(20000))
    out = layers.AlphaDropout(rate, seed=4)(x, training=True).numpy()
    a = ((1 - rate) * (1 + rate * ALPHA_P**2)) ** -0.5
    b = -a * ALPHA_P * rate
    dropped = np.isclose(out, a * ALPHA_P + b)
    assert 0.27 < dropped.mean() < 0.33
    np.testing.assert_allclose(out[~dropped], a * x.numpy()[~dropped] + b, rtol=1e-5, atol=1e-6)
    assert abs(out.mean()) < 0.03 and abs(out.std() - 1.0) < 0.03  # zero mean, unit variance kept


def test_seeded_layers_are_reproducible():
    x = torch.ones(4, 6)
    for make in (lambda: layers.GaussianNoise(0.5, seed=7), lambda: layers.AlphaDropout(0.5, seed=7),
                 lambda: layers.SpatialDropout1D(0.5, seed=7)):
        a = make()(x.reshape(2, 2, 6), training=True)
        b = make()(x.reshape(2, 2, 6), training=True)
        torch.testing.assert_close(a, b)


def test_activity_regularization_matches_keras(keras):
    x = _rand(4, 3)
    ours = layers.ActivityRegularization(l1=0.1, l2=0.2)
    theirs = keras.layers.ActivityRegularization(l1=0.1, l2=0.2)
    out = ours(torch.tensor(x))
    np.testing.assert_array_equal(out.numpy(), x)
    theirs(x)
    assert len(ours.losses) == len(theirs.losses) == 1
    np.testing.assert_allclose(float(ours.losses[0]), float(theirs.losses[0]), rtol=1e-6)
    np.testing.assert_allclose(float(ours.losses[0]), (0.1 * np.abs(x).sum() + 0.2 * (x**2).sum()) / 4, rtol=1e-6)


def test_activity_regularization_is_added_to_the_training_loss():
    inputs = ember.Input(shape=(3,))
    model = ember.Model(inputs, layers.ActivityRegularization(l2=1.0)(layers.Dense(2)(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    x, y = _rand(8, 3), np.zeros((8, 2), np.float32)
    pred = model.predict(x, verbose=0)
    loss = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(loss, (pred**2).mean() + (pred**2).sum() / 8, rtol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"GaussianDropout `rate` must be a number in \[0, 1\), got 1.0"):
        layers.GaussianDropout(1.0)
    with pytest.raises(ValueError, match=r"AlphaDropout `rate` must be a number in \[0, 1\), got -0.1"):
        layers.AlphaDropout(-0.1)
    with pytest.raises(ValueError, match=r"SpatialDropout2D `rate` must be a number in \[0, 1\], got 2"):
        layers.SpatialDropout2D(2)
    with pytest.raises(ValueError, match="`stddev` must be a non-negative number, got -1"):
        layers.GaussianNoise(-1)
    with pytest.raises(ValueError, match="`l1` must be a non-negative number, got -1"):
        layers.ActivityRegularization(l1=-1)
    with pytest.raises(ValueError, match="`data_format` must be 'channels_last' or 'channels_first'"):
        layers.SpatialDropout2D(0.5, data_format="NHWC")
    with pytest.raises(TypeError, match="`seed` must be an integer or None"):
        layers.GaussianNoise(0.1, seed="x")
    with pytest.raises(ValueError, match=r"SpatialDropout2D .* expects inputs of rank 4, got shape \(2, 3, 3\)"):
        layers.SpatialDropout2D(0.5)(torch.ones(2, 3, 3), training=True)
    with pytest.raises(ValueError, match=r"`noise_shape` \(1,\) must have one entry per input axis"):
        layers.AlphaDropout(0.5, noise_shape=(1,))(torch.ones(2, 3), training=True)


def test_regularization_layers_round_trip_through_saving(tmp_path):
    inputs = ember.Input(shape=(3, 4))
    h = layers.SpatialDropout1D(0.2, seed=1)(inputs)
    h = layers.GaussianNoise(0.1)(h)
    h = layers.GaussianDropout(0.1)(h)
    h = layers.AlphaDropout(0.1, noise_shape=[None, 1, 4])(h)
    h = layers.ActivityRegularization(l1=0.01)(h)
    model = ember.Model(inputs, h)
    path = tmp_path / "reg.ember"
    model.save(path)
    loaded = ember.models.load_model(path)
    assert [layer.get_config() for layer in loaded.layers] == [layer.get_config() for layer in model.layers]
    x = _rand(2, 3, 4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))

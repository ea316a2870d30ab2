"""Normalization layers against Keras 3 with identical weights and inputs."""

import numpy as np
import pytest
import torch

import ember
from ember import layers

from .harness import run_layer_test

# Keras warns that rms_scaling=True is deprecated but computes the same formula, which ember follows.
pytestmark = pytest.mark.filterwarnings("ignore:.*rms_scaling=True.*:UserWarning")


def _rand(*shape, seed=0):
    return (np.random.default_rng(seed).normal(size=shape) * 2 + 1).astype(np.float32)


def _to_numpy(t):
    return t.detach().cpu().numpy()


def _random_weights(keras_layer, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for w in keras_layer.weights:
        value = rng.normal(size=tuple(w.shape)).astype(np.float32)
        if "variance" in w.path:
            value = np.abs(value) + 0.5
        out.append(value)
    return out


def _paired(keras, name, kwargs, shape):
    ours = getattr(layers, name)(**kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    x = _rand(*shape)
    ours(torch.tensor(x))
    theirs(x)
    weights = _random_weights(theirs)
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs


# ---------------------------------------------------------------- harness
@pytest.mark.parametrize(
    "cls, kwargs, shape, trainable, non_trainable",
    [
        (layers.BatchNormalization, {}, (4, 3), 2, 2),
        (layers.BatchNormalization, {"axis": 1, "center": False}, (4, 3, 5), 1, 2),
        (layers.BatchNormalization, {"scale": False, "momentum": 0.5}, (2, 4, 4, 3), 1, 2),
        (layers.LayerNormalization, {}, (4, 6), 2, 0),
        (layers.LayerNormalization, {"axis": [1, 2], "rms_scaling": True}, (2, 3, 4), 1, 0),
        (layers.LayerNormalization, {"axis": 1}, (2, 3, 4), 2, 0),
        (layers.GroupNormalization, {"groups": 2}, (2, 3, 3, 4), 2, 0),
        (layers.GroupNormalization, {"groups": -1, "axis": 1, "scale": False}, (2, 4, 5), 1, 0),
        (layers.UnitNormalization, {"axis": [1, 2]}, (2, 3, 4), 0, 0),
    ],
)
def test_layer_harness(cls, kwargs, shape, trainable, non_trainable):
    run_layer_test(cls, kwargs, shape, shape, trainable, non_trainable)


# ---------------------------------------------------------------- BatchNormalization
@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({}, (8, 3)),
        ({"momentum": 0.5, "epsilon": 1e-2}, (4, 5, 5, 3)),
        ({"axis": 1, "center": False}, (4, 3, 5)),
        ({"axis": 0, "scale": False}, (4, 3)),
    ],
)
def test_batch_norm_training_and_moving_stats_match_keras(keras, kwargs, shape):
    ours, theirs = _paired(keras, "BatchNormalization", kwargs, shape)
    for step in range(4):
        x = _rand(*shape, seed=10 + step)
        np.testing.assert_allclose(_to_numpy(ours(torch.tensor(x), training=True)),
                                   _to_numpy(theirs(x, training=True)), rtol=1e-5, atol=1e-5)
    # Moving mean and (biased) moving variance after several updates.
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    x = _rand(*shape, seed=99)
    np.testing.assert_allclose(_to_numpy(ours(torch.tensor(x))), _to_numpy(theirs(x, training=False)),
                               rtol=1e-5, atol=1e-5)


def test_batch_norm_moving_stats_formula():
    bn = layers.BatchNormalization(momentum=0.9)
    x = _rand(6, 2)
    bn(torch.tensor(x), training=True)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.1 * x.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 + 0.1 * x.var(0), rtol=1e-5)  # biased var


def test_batch_norm_single_sample_in_training():
    bn = layers.BatchNormalization(momentum=0.5)
    x = _rand(1, 3)
    out = bn(torch.tensor(x), training=True)
    np.testing.assert_allclose(_to_numpy(out), np.zeros((1, 3)), atol=1e-6)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * x[0], rtol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), np.full(3, 0.5), rtol=1e-6)


def test_batch_norm_weight_order_and_inference_leaves_stats():
    bn = layers.BatchNormalization()
    bn(torch.tensor(_rand(4, 3)))
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    before = [w.copy() for w in bn.get_weights()]
    bn(torch.tensor(_rand(4, 3)), training=False)
    for a, b in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_frozen_batch_norm_runs_in_inference_mode(keras):
    ours, theirs = _paired(keras, "BatchNormalization", {}, (8, 3))
    ours.trainable = False
    theirs.trainable = False
    before = ours.get_weights()
    x = _rand(8, 3, seed=5)
    out = ours(torch.tensor(x), training=True)
    np.testing.assert_allclose(_to_numpy(out), _to_numpy(theirs(x, training=True)), rtol=1e-5, atol=1e-5)
    for a, b in zip(before, ours.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_frozen_batch_norm_in_fit_keeps_moving_stats():
    inputs = ember.Input(shape=(3,))
    bn = layers.BatchNormalization()
    model = ember.Model(inputs, layers.Dense(1)(bn(inputs)))
    bn.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    stats = [w.copy() for w in bn.get_weights()]
    x, y = _rand(16, 3), _rand(16, 1)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(stats, bn.get_weights()):
        np.testing.assert_array_equal(a, b)
    # An unfrozen layer does move in fit.
    bn.trainable = True
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not np.allclose(stats[2], bn.get_weights()[2])


def test_batch_norm_regularizer_and_constraint():
    bn = layers.BatchNormalization(gamma_regularizer="l2", beta_constraint="non_neg")
    bn(torch.tensor(_rand(4, 3)))
    bn.set_weights([np.full(3, 2.0, np.float32), np.zeros(3, np.float32), np.zeros(3, np.float32),
                    np.ones(3, np.float32)])
    np.testing.assert_allclose(float(bn.losses[0].detach()), 0.01 * 12.0, rtol=1e-6)
    assert bn.beta.constraint is not None
    clone = layers.BatchNormalization.from_config(bn.get_config())
    assert clone.get_config()["gamma_regularizer"] == bn.get_config()["gamma_regularizer"]


def test_batch_norm_bad_arguments():
    with pytest.raises(ValueError, match=r"axis`=3 is out of range for inputs of rank 2"):
        layers.BatchNormalization(axis=3)(torch.ones(2, 3))
    with pytest.raises(TypeError, match="`axis` must be an integer, got 'x'"):
        layers.BatchNormalization(axis="x")
    with pytest.raises(ValueError, match=r"`momentum` must be a number in \[0, 1\], got 1.5"):
        layers.BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match=r"rank >= 2"):
        layers.BatchNormalization()(torch.ones(3))
    bn = layers.BatchNormalization()
    bn(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"built for rank-2 inputs with 3 features on axis -1, got shape \(2, 4\)"):
        bn(torch.ones(2, 4))


# ---------------------------------------------------------------- other normalizations
@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("LayerNormalization", {}, (4, 6)),
        ("LayerNormalization", {"axis": [1, 2], "epsilon": 0.1}, (4, 3, 6)),
        ("LayerNormalization", {"rms_scaling": True}, (4, 6)),
        ("LayerNormalization", {"scale": False}, (2, 3, 6)),
        ("GroupNormalization", {"groups": 2}, (4, 3, 3, 4)),
        ("GroupNormalization", {"groups": -1, "axis": 1}, (4, 4, 5)),
        ("GroupNormalization", {"groups": 1, "center": False}, (4, 5, 6)),
        ("UnitNormalization", {}, (4, 6)),
        ("UnitNormalization", {"axis": [1, 2]}, (4, 3, 5)),
    ],
)
def test_normalization_matches_keras(keras, name, kwargs, shape):
    ours, theirs = _paired(keras, name, kwargs, shape)
    x = _rand(*shape, seed=3)
    for training in (False, True):
        np.testing.assert_allclose(_to_numpy(ours(torch.tensor(x), training=training)),
                                   _to_numpy(theirs(x, training=training)), rtol=1e-5, atol=1e-5)


def test_layer_normalization_on_a_leading_axis_matches_numpy():
    # Keras's torch backend cannot normalize over a non-trailing axis; NumPy is the oracle here.
    layer = layers.LayerNormalization(axis=1, epsilon=1e-2)
    x = _rand(2, 3, 4)
    layer(torch.tensor(x))
    gamma, beta = _rand(3, seed=4), _rand(3, seed=5)
    layer.set_weights([gamma, beta])
    mean, var = x.mean(1, keepdims=True), x.var(1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-2) * gamma[:, None] + beta[:, None]
    np.testing.assert_allclose(_to_numpy(layer(torch.tensor(x))), expected, rtol=1e-5, atol=1e-5)


def test_group_normalization_bad_groups():
    with pytest.raises(ValueError, match=r"`groups`=3 must divide the number of channels \(4\)"):
        layers.GroupNormalization(groups=3)(torch.ones(2, 5, 4))
    with pytest.raises(ValueError, match=r"`groups`=8 is more than the 4 channels"):
        layers.GroupNormalization(groups=8)(torch.ones(2, 5, 4))
    with pytest.raises(ValueError, match=r"`groups` must be a positive integer or -1, got 0"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="cannot be the batch axis"):
        layers.GroupNormalization(groups=1, axis=0)(torch.ones(2, 4))


def test_layer_and_unit_normalization_bad_axis():
    with pytest.raises(ValueError, match=r"LayerNormalization .*`axis`=2 is out of range for inputs of rank 2"):
        layers.LayerNormalization(axis=2)(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"UnitNormalization .*`axis`=-3 is out of range"):
        layers.UnitNormalization(axis=-3)(torch.ones(2, 3))
    with pytest.raises(ValueError, match="at least one axis"):
        layers.LayerNormalization(axis=[])


def test_normalization_layers_round_trip_through_saving(tmp_path):
    inputs = ember.Input(shape=(4, 4, 4))
    h = layers.BatchNormalization(momentum=0.8)(inputs)
    h = layers.GroupNormalization(groups=2)(h)
    h = layers.LayerNormalization(rms_scaling=True)(h)
    h = layers.UnitNormalization(axis=[1, 2])(h)
    model = ember.Model(inputs, h)
    x = _rand(3, 4, 4, 4)
    model(torch.tensor(x), training=True)  # move the statistics away from their initial values
    path = tmp_path / "norm.ember"
    model.save(path)
    loaded = ember.models.load_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


# ---------------------------------------------------------------- SpectralNormalization
@pytest.mark.parametrize(
    "make, shape, iterations",
    [
        (lambda lib: lib.layers.Dense(3), (4, 5), 1),
        (lambda lib: lib.layers.Conv2D(3, 2), (2, 4, 4, 2), 2),
    ],
)
def test_spectral_normalization_matches_keras(keras, make, shape, iterations):
    ours = layers.SpectralNormalization(make(ember), power_iterations=iterations)
    theirs = keras.layers.SpectralNormalization(make(keras), power_iterations=iterations)
    x = _rand(*shape)
    ours(torch.tensor(x))
    theirs(x)
    # Keras lists vector_u right after the kernel: copy the weights by name.
    by_name = {w.path.split("/")[-1]: w for w in theirs.weights}
    rng = np.random.default_rng(3)
    values = [rng.normal(size=tuple(by_name[w.name].shape)).astype(np.float32) for w in ours.weights]
    ours.set_weights(values)
    for w, value in zip(ours.weights, values):
        by_name[w.name].assign(value)
    for _ in range(3):
        np.testing.assert_allclose(_to_numpy(ours(torch.tensor(x), training=True)),
                                   _to_numpy(theirs(x, training=True)), rtol=1e-5, atol=1e-5)
    for w, value in zip(ours.weights, ours.get_weights()):
        np.testing.assert_allclose(value, by_name[w.name].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_to_numpy(ours(torch.tensor(x))), _to_numpy(theirs(x)), rtol=1e-5, atol=1e-5)


def test_spectral_normalization_kernel_has_unit_spectral_norm():
    layer = layers.SpectralNormalization(layers.Dense(4), power_iterations=1)
    x = torch.tensor(_rand(3, 6))
    for _ in range(30):
        layer(x, training=True)
    np.testing.assert_allclose(np.linalg.norm(layer.layer.kernel.detach().numpy(), 2), 1.0, rtol=1e-4)


def test_spectral_normalization_harness_and_saving(tmp_path):
    run_layer_test(layers.SpectralNormalization, {"layer": layers.Dense(3), "power_iterations": 2}, (4, 5), (4, 3),
                   2, 1)
    inputs = ember.Input(shape=(4, 4, 2))
    h = layers.SpectralNormalization(layers.Conv2D(3, 2))(inputs)
    model = ember.Model(inputs, h)
    model(torch.tensor(_rand(2, 4, 4, 2)), training=True)
    path = tmp_path / "sn.ember"
    model.save(path)
    loaded = ember.models.load_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = _rand(2, 4, 4, 2)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_spectral_normalization_bad_arguments():
    with pytest.raises(ValueError, match="`power_iterations` must be an integer >= 1, got 0"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(TypeError, match="`layer` must be an ember Layer instance"):
        layers.SpectralNormalization("dense")
    with pytest.raises(ValueError, match="with a `kernel` or `embeddings` weight; Activation"):
        layers.SpectralNormalization(layers.Activation("relu"))(torch.ones(2, 3))

"""Initializers against Keras 3: same scale for the same shape, same configs, same names.

The random values themselves differ (the two libraries use different RNG
streams), so draws are compared through their spread and bounds.
"""

import json

import numpy as np
import pytest
import torch

from ember import initializers

SHAPES = [pytest.param((256, 128), id="dense"), pytest.param((3, 3, 32, 64), id="conv2d")]
SCALED = ["GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform"]


def _keras_draw(keras, name, shape, **kwargs):
    return np.asarray(getattr(keras.initializers, name)(**kwargs)(shape)).astype(np.float64)


def _assert_same_spread(ours, theirs):
    ours = ours.numpy().astype(np.float64)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.03)
    assert abs(ours.mean() - theirs.mean()) < 0.03 * theirs.std()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", SCALED)
def test_variance_scaling_family_matches_keras_scale(keras, name, shape):
    ours = getattr(initializers, name)(seed=3)(shape)
    _assert_same_spread(ours, _keras_draw(keras, name, shape, seed=3))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_matches_keras_scale(keras, shape, mode, distribution):
    kwargs = {"scale": 0.7, "mode": mode, "distribution": distribution, "seed": 5}
    ours = initializers.VarianceScaling(**kwargs)(shape)
    theirs = _keras_draw(keras, "VarianceScaling", shape, **kwargs)
    assert ours.numpy().std() == pytest.approx(theirs.std(), rel=0.03)
    if distribution != "untruncated_normal":  # the max of an unbounded draw is too noisy to compare
        assert np.abs(ours.numpy()).max() == pytest.approx(np.abs(theirs).max(), rel=0.03)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RandomNormal", {"mean": 0.5, "stddev": 0.2}),
        ("RandomUniform", {"minval": -0.3, "maxval": 0.7}),
        ("TruncatedNormal", {"mean": -1.0, "stddev": 0.4}),
    ],
)
def test_plain_distributions_match_keras(keras, name, kwargs):
    ours = getattr(initializers, name)(seed=1, **kwargs)((256, 128)).numpy().astype(np.float64)
    theirs = _keras_draw(keras, name, (256, 128), seed=1, **kwargs)
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.01)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    assert ours.min() == pytest.approx(theirs.min(), abs=0.03)
    assert ours.max() == pytest.approx(theirs.max(), abs=0.03)


@pytest.mark.parametrize("shape", [(8, 5), (5, 8), (3, 3, 4, 6)])
def test_orthogonal_has_keras_gram_matrix(keras, shape):
    def gram(q):
        flat = np.asarray(q, dtype=np.float64).reshape(-1, shape[-1])
        return flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T

    ours = gram(initializers.Orthogonal(gain=1.5, seed=0)(shape))
    theirs = gram(keras.initializers.Orthogonal(gain=1.5, seed=0)(shape))
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("Zeros", {}, (3, 4)),
        ("Ones", {}, (2, 2, 3)),
        ("Constant", {"value": -1.25}, (4,)),
        ("Identity", {"gain": 2.0}, (3, 5)),
        ("Identity", {}, (4, 2)),
    ],
)
def test_deterministic_initializers_equal_keras(keras, name, kwargs, shape):
    ours = getattr(initializers, name)(**kwargs)(shape)
    theirs = getattr(keras.initializers, name)(**kwargs)(shape)
    np.testing.assert_array_equal(ours.numpy(), np.asarray(theirs))


CONFIG_CASES = [
    ("GlorotUniform", {"seed": 4}),
    ("GlorotNormal", {}),
    ("HeNormal", {"seed": 1}),
    ("HeUniform", {"input_axes": [0], "output_axes": [1]}),
    ("LecunNormal", {}),
    ("LecunUniform", {"seed": 9}),
    ("Zeros", {}),
    ("Ones", {}),
    ("Constant", {"value": 3.5}),
    ("RandomNormal", {"mean": 1.0, "stddev": 0.1, "seed": 2}),
    ("RandomUniform", {"minval": -2.0, "maxval": 2.0}),
    ("TruncatedNormal", {"stddev": 0.3, "seed": 0}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 7}),
    ("Orthogonal", {"gain": 0.5, "seed": 3}),
]


@pytest.mark.parametrize("name, kwargs", CONFIG_CASES)
def test_config_and_serialization_match_keras(keras, name, kwargs):
    ours = getattr(initializers, name)(**kwargs)
    theirs = getattr(keras.initializers, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert initializers.serialize(ours) == keras.initializers.serialize(theirs)
    # A config written by Keras loads in ember and back.
    loaded = initializers.deserialize(json.loads(json.dumps(keras.initializers.serialize(theirs))))
    assert type(loaded) is type(ours) and loaded.get_config() == ours.get_config()
    back = keras.initializers.deserialize(json.loads(json.dumps(initializers.serialize(ours))))
    assert back.get_config() == theirs.get_config()


def test_identity_config_keeps_gain_and_loads_in_keras(keras):
    # Keras 3.15's Identity.get_config() leaves out `gain`; ember records it so a
    # round trip keeps the value. Keras still reads it.
    config = initializers.serialize(initializers.Identity(gain=3.0))
    assert config["config"] == {"gain": 3.0}
    restored = keras.initializers.deserialize(config)
    np.testing.assert_array_equal(np.asarray(restored((2, 2))), 3.0 * np.eye(2))


def test_every_keras_name_resolves_to_the_same_class(keras):
    keras_only = {"STFT", "STFTInitializer", "stft", "Initializer", "get", "serialize", "deserialize"}
    keras_names = {n for n in dir(keras.initializers) if not n.startswith("_")} - keras_only
    assert keras_names <= set(initializers.ALL_INITIALIZERS)
    for name in initializers.ALL_INITIALIZERS:
        # Keras exports most names as the class itself; the legacy aliases
        # ("one", "uniform", ...) exist only in its lookup table.
        keras_class = getattr(keras.initializers, name, None) or type(keras.initializers.get(name))
        assert type(initializers.get(name)).__name__ == keras_class.__name__, name


def test_default_float32_on_cpu_like_keras(keras):
    ours = initializers.GlorotUniform()((2, 3))
    theirs = keras.initializers.GlorotUniform()((2, 3))
    assert ours.dtype == torch.float32 == theirs.dtype
    assert ours.device.type == "cpu"

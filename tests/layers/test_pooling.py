"""Global pooling layers: harness checks, numerics against Keras 3 and NumPy, names, errors."""

import re

import numpy as np
import pytest
import torch

import ember
from ember.layers.pooling import (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
)

from .harness import run_layer_test

LAYERS = {
    "GlobalMaxPooling1D": (GlobalMaxPooling1D, np.max, 1),
    "GlobalMaxPooling2D": (GlobalMaxPooling2D, np.max, 2),
    "GlobalAveragePooling1D": (GlobalAveragePooling1D, np.mean, 1),
    "GlobalAveragePooling2D": (GlobalAveragePooling2D, np.mean, 2),
}
SHAPES = {1: (2, 5, 3), 2: (2, 4, 5, 3)}


def _cases():
    for name in LAYERS:
        for data_format in ("channels_last", "channels_first"):
            for keepdims in (False, True):
                yield name, data_format, keepdims


def _numpy_reference(reduce, x, rank, data_format, keepdims):
    axes = tuple(range(1, rank + 1)) if data_format == "channels_last" else tuple(range(2, rank + 2))
    return reduce(x, axis=axes, keepdims=keepdims)


@pytest.mark.parametrize("name, data_format, keepdims", list(_cases()))
def test_harness(name, data_format, keepdims):
    cls, reduce, rank = LAYERS[name]
    shape = SHAPES[rank]
    expected = _numpy_reference(reduce, np.zeros(shape), rank, data_format, keepdims).shape
    run_layer_test(
        cls,
        dict(data_format=data_format, keepdims=keepdims),
        input_shape=shape,
        expected_output_shape=expected,
        expected_num_trainable_weights=0,
    )


@pytest.mark.parametrize("name, data_format, keepdims", list(_cases()))
def test_matches_keras_and_numpy(keras, name, data_format, keepdims):
    cls, reduce, rank = LAYERS[name]
    x = np.random.randn(*SHAPES[rank]).astype("float32")
    got = cls(data_format=data_format, keepdims=keepdims)(torch.from_numpy(x)).numpy()
    theirs = getattr(keras.layers, name)(data_format=data_format, keepdims=keepdims)
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(theirs(x)), atol=1e-6)
    np.testing.assert_allclose(got, _numpy_reference(reduce, x, rank, data_format, keepdims), atol=1e-6)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_average_1d_mask_matches_keras(keras, data_format, keepdims):
    x = np.random.randn(3, 6, 4).astype("float32")  # 6 steps, 4 channels
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 2, 1))
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 1, 0, 1, 0]], dtype=bool)
    ours = GlobalAveragePooling1D(data_format=data_format, keepdims=keepdims)
    got = ours(torch.from_numpy(x), mask=torch.from_numpy(mask)).numpy()
    theirs = keras.layers.GlobalAveragePooling1D(data_format=data_format, keepdims=keepdims)
    expected = keras.ops.convert_to_numpy(theirs(x, mask=mask))
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_average_1d_bad_mask():
    with pytest.raises(ValueError, match=r"`mask` must have shape \(batch, steps\) = \(2, 5\), got \(2, 4\)"):
        GlobalAveragePooling1D()(torch.randn(2, 5, 3), mask=torch.ones(2, 4, dtype=torch.bool))


@pytest.mark.parametrize("name", list(LAYERS))
def test_names_and_config_follow_keras(keras, name):
    cls = LAYERS[name][0]
    pattern = re.compile(r"([a-z0-9_]+?)(_\d+)?")
    ours = cls(keepdims=True)
    theirs = getattr(keras.layers, name)(keepdims=True)
    assert pattern.fullmatch(ours.name).group(1) == pattern.fullmatch(theirs.name).group(1)
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert set(ours_config) == set(theirs_config)
    for key in ("data_format", "keepdims", "trainable"):
        assert ours_config[key] == theirs_config[key]


def test_symbolic_unknown_dims():
    x = ember.layers.Input(shape=(None, None, 3))
    assert GlobalMaxPooling2D()(x).shape == (None, 3)
    assert GlobalAveragePooling2D(keepdims=True)(x).shape == (None, 1, 1, 3)
    t = ember.layers.Input(shape=(None, 10))
    assert GlobalAveragePooling1D()(t).shape == (None, 10)
    assert GlobalMaxPooling1D(data_format="channels_first")(t).shape == (None, None)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="data_format` must be one of"):
        GlobalMaxPooling2D(data_format="NHWC")
    with pytest.raises(ValueError, match="keepdims` must be True or False"):
        GlobalAveragePooling1D(keepdims="yes")
    with pytest.raises(ValueError, match=r"expects inputs of rank 4 \(batch, spatial..., channels\), got shape"):
        GlobalMaxPooling2D()(torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match="expects inputs of rank 3"):
        GlobalAveragePooling1D()(ember.layers.Input(shape=(4, 4, 3)))

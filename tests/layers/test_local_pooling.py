"""Local pooling layers (Max/AveragePooling 1D/2D/3D) and the 3-D global poolings: harness, Keras numerics, errors."""

import numpy as np
import pytest
import torch

import ember
from ember.layers.local_pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from ember.layers.pooling import GlobalAveragePooling3D, GlobalMaxPooling3D

from .harness import run_layer_test

CLASSES = {
    ("max", 1): MaxPooling1D,
    ("max", 2): MaxPooling2D,
    ("max", 3): MaxPooling3D,
    ("average", 1): AveragePooling1D,
    ("average", 2): AveragePooling2D,
    ("average", 3): AveragePooling3D,
}
SPATIAL = {1: (7,), 2: (5, 6), 3: (5, 4, 3)}
# (pool_size, strides, padding): even/uneven "same" padding, strides None, strides > pool.
CONFIGS = [
    (2, None, "valid"),
    (3, 2, "valid"),
    (2, 1, "same"),
    (3, 2, "same"),
    (2, 3, "same"),
]


def _shape(rank, data_format, channels=2, batch=2):
    spatial = SPATIAL[rank]
    return (batch, *spatial, channels) if data_format == "channels_last" else (batch, channels, *spatial)


def _cases():
    for (mode, rank), cls in CLASSES.items():
        for data_format in ("channels_last", "channels_first"):
            for pool_size, strides, padding in CONFIGS:
                yield cls, rank, data_format, pool_size, strides, padding


def _same_padding(size, pool, stride):
    total = max((-(-size // stride) - 1) * stride + pool - size, 0)
    return total // 2, total - total // 2


def _numpy_pool(x, mode, pool_size, strides, padding, data_format):
    """Reference pooling: NaN padding, left out by nanmax / nanmean."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    rank = x.ndim - 2
    pool_size = (pool_size,) * rank
    strides = pool_size if strides is None else (strides,) * rank
    if padding == "same":
        pads = [(0, 0)] + [_same_padding(d, k, s) for d, k, s in zip(x.shape[1:-1], pool_size, strides)] + [(0, 0)]
        x = np.pad(x.astype("float64"), pads, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(x, pool_size, axis=tuple(range(1, rank + 1)))
    windows = windows[(slice(None),) + tuple(slice(None, None, s) for s in strides)]
    axes = tuple(range(-rank, 0))
    out = np.nanmax(windows, axis=axes) if mode == "max" else np.nanmean(windows, axis=axes)
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


def _uneven_same_padding(rank, pool_size, strides, padding):
    strides = pool_size if strides is None else strides
    return padding == "same" and any(sum(_same_padding(d, pool_size, strides)) % 2 for d in SPATIAL[rank])


@pytest.mark.parametrize("cls, rank, data_format, pool_size, strides, padding", list(_cases()))
def test_matches_keras_and_numpy(keras, cls, rank, data_format, pool_size, strides, padding):
    x = np.random.randn(*_shape(rank, data_format)).astype("float32")
    kwargs = dict(pool_size=pool_size, strides=strides, padding=padding, data_format=data_format)
    got = cls(**kwargs)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, _numpy_pool(x, cls.mode, pool_size, strides, padding, data_format), atol=1e-5)
    if cls.mode == "average" and _uneven_same_padding(rank, pool_size, strides, padding):
        # Keras's torch backend replicates edge values for uneven "same" padding and counts them in
        # the mean; ember leaves padding out as in Keras's other backends (checked against NumPy above).
        return
    expected = keras.ops.convert_to_numpy(getattr(keras.layers, cls.__name__)(**kwargs)(x))
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("cls", list(CLASSES.values()))
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_harness(keras, cls, padding):
    rank = cls.rank
    kwargs = dict(pool_size=2, strides=2, padding=padding)
    shape = _shape(rank, "channels_last")
    expected = tuple(getattr(keras.layers, cls.__name__)(**kwargs).compute_output_shape(shape))
    run_layer_test(cls, kwargs, input_shape=shape, expected_output_shape=expected, expected_num_trainable_weights=0)


def test_average_same_excludes_padding_numpy():
    # 5 positions, pool 3, stride 2, "same": pads (1, 1); windows [0:2], [1:4], [3:5].
    x = np.arange(5, dtype="float32").reshape(1, 5, 1) ** 2
    got = AveragePooling1D(3, 2, padding="same")(torch.from_numpy(x)).numpy()[0, :, 0]
    np.testing.assert_allclose(got, [x[0, 0:2].mean(), x[0, 1:4].mean(), x[0, 3:5].mean()], rtol=1e-6)


def test_defaults_and_config():
    layer = MaxPooling2D()
    assert layer.pool_size == (2, 2) and layer.strides == (2, 2) and layer.padding == "valid"
    assert AveragePooling1D(padding="SAME").padding == "same"
    config = MaxPooling3D(pool_size=(1, 2, 3), strides=1, data_format="channels_first").get_config()
    assert config["pool_size"] == (1, 2, 3) and config["strides"] == (1, 1, 1)
    assert config["data_format"] == "channels_first"


def test_in_sequential_model_round_trip(tmp_path):
    model = ember.Sequential(
        [ember.Input(shape=(6, 6, 2)), MaxPooling2D(), AveragePooling2D(padding="same"), ember.layers.Flatten()]
    )
    x = np.random.rand(2, 6, 6, 2).astype("float32")
    path = tmp_path / "pool.ember"
    model.save(path)
    loaded = ember.models.load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"MaxPooling2D `pool_size` must be a positive integer or a tuple of 2"):
        MaxPooling2D(pool_size=(2, 2, 2))
    with pytest.raises(ValueError, match=r"AveragePooling1D `strides` must be a positive integer"):
        AveragePooling1D(strides=0)
    with pytest.raises(ValueError, match=r"`padding` must be 'valid' or 'same', got padding='causal'"):
        MaxPooling1D(padding="causal")
    with pytest.raises(ValueError, match=r"`data_format` must be one of"):
        MaxPooling1D(data_format="NCW")


def test_wrong_rank_and_too_small_input():
    with pytest.raises(ValueError, match=r"MaxPooling2D layer 'mp' expects inputs of rank 4 .*got shape \(2, 5, 3\)"):
        MaxPooling2D(name="mp")(torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match=r"AveragePooling1D layer .*padding='valid'.*pool_size=\(3,\).*\(2, 2, 4\)"):
        AveragePooling1D(3)(torch.randn(2, 2, 4))
    with pytest.raises(ValueError, match=r"expects inputs of rank 5"):
        MaxPooling3D()(ember.Input(shape=(4, 4, 2)))


@pytest.mark.parametrize("cls", [GlobalMaxPooling3D, GlobalAveragePooling3D])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_3d(keras, cls, data_format, keepdims):
    shape = _shape(3, data_format)
    kwargs = dict(data_format=data_format, keepdims=keepdims)
    theirs = getattr(keras.layers, cls.__name__)(**kwargs)
    x = np.random.randn(*shape).astype("float32")
    expected = keras.ops.convert_to_numpy(theirs(x))
    run_layer_test(cls, kwargs, input_shape=shape, expected_output_shape=expected.shape)
    np.testing.assert_allclose(cls(**kwargs)(torch.from_numpy(x)).numpy(), expected, atol=1e-6)


def test_global_3d_wrong_rank():
    with pytest.raises(ValueError, match=r"GlobalMaxPooling3D .* rank 5.*got shape \(2, 4, 4, 3\)"):
        GlobalMaxPooling3D()(torch.randn(2, 4, 4, 3))

"""Preprocessing layers against Keras 3 (same inputs, same statistics) and NumPy formulas."""

import numpy as np
import pytest
import torch

import ember
from ember import layers

from .harness import run_layer_test

RNG = np.random.default_rng(0)


def _rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _close(ours, theirs, atol=1e-5):
    np.testing.assert_allclose(np.asarray(torch.as_tensor(ours).detach()), np.asarray(theirs), atol=atol, rtol=1e-5)


# ---------------------------------------------------------------- harness
@pytest.mark.parametrize(
    "cls, kwargs, shape, out_shape, non_trainable, dtype",
    [
        (layers.Rescaling, {"scale": 0.5, "offset": 1.0}, (2, 3), (2, 3), 0, "float32"),
        (layers.Masking, {"mask_value": 0.0}, (2, 4, 3), (2, 4, 3), 0, "float32"),
        (layers.CenterCrop, {"height": 2, "width": 3}, (2, 5, 6, 2), (2, 2, 3, 2), 0, "float32"),
        (layers.Resizing, {"height": 3, "width": 8}, (2, 5, 6, 2), (2, 3, 8, 2), 0, "float32"),
        (layers.Resizing, {"height": 4, "width": 4, "interpolation": "bicubic", "crop_to_aspect_ratio": True},
         (2, 5, 7, 1), (2, 4, 4, 1), 0, "float32"),
        (layers.Normalization, {}, (2, 3), (2, 3), 3, "float32"),
        (layers.Normalization, {"axis": None, "mean": 1.0, "variance": 4.0}, (2, 3), (2, 3), 0, "float32"),
        (layers.Discretization, {"bin_boundaries": [-1.0, 0.0, 1.0]}, (2, 3), (2, 3), 0, "float32"),
        (layers.CategoryEncoding, {"num_tokens": 6, "output_mode": "count"}, (2, 3), (2, 6), 0, "int64"),
    ],
)
def test_layer_harness(cls, kwargs, shape, out_shape, non_trainable, dtype):
    layer = run_layer_test(cls, kwargs, shape, out_shape, expected_num_trainable_weights=0,
                           expected_num_non_trainable_weights=non_trainable, input_dtype=dtype)
    assert not layer.trainable_weights


# ---------------------------------------------------------------- Rescaling / Masking
def test_rescaling_matches_keras(keras):
    x = (RNG.random((3, 4)) * 255).astype("uint8")
    ours = layers.Rescaling(1 / 255.0, offset=-0.5)(torch.as_tensor(x))
    assert ours.dtype == torch.float32
    _close(ours, keras.layers.Rescaling(1 / 255.0, offset=-0.5)(x))


def test_masking_matches_keras_and_attaches_mask(keras):
    x = _rand(2, 4, 3)
    x[0, 1] = 2.0
    x[1, 3] = 2.0
    x[1, 0, 0] = 2.0  # only one feature equals the mask value: not masked
    ours = layers.Masking(2.0)(torch.as_tensor(x))
    theirs = keras.layers.Masking(2.0)(x)
    _close(ours, theirs)
    np.testing.assert_array_equal(ours._keras_mask.numpy(), theirs._keras_mask.cpu().numpy())
    np.testing.assert_array_equal(ours._keras_mask.numpy(), (x != 2.0).any(-1))


def test_masking_feeds_recurrent_layer():
    x = _rand(2, 4, 3)
    x[:, 2:] = 0.0
    inputs = ember.Input(shape=(None, 3))
    outputs = layers.SimpleRNN(2)(layers.Masking()(inputs))
    model = ember.Model(inputs, outputs)
    short = model.predict(x[:, :2], verbose=0)  # the masked steps are skipped, as if absent
    np.testing.assert_allclose(model.predict(x, verbose=0), short, atol=1e-6)


def test_masking_rejects_rank_one():
    with pytest.raises(ValueError, match=r"rank >= 2.*\(3,\)"):
        layers.Masking()(torch.zeros(3))


# ---------------------------------------------------------------- images
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("size, crop", [((3, 4), False), ((8, 10), False), ((4, 4), True), ((2, 6), True)])
def test_resizing_matches_keras(keras, interpolation, size, crop):
    x = _rand(2, 5, 7, 3)
    kwargs = dict(interpolation=interpolation, crop_to_aspect_ratio=crop)
    _close(layers.Resizing(*size, **kwargs)(torch.as_tensor(x)), keras.layers.Resizing(*size, **kwargs)(x))


def test_resizing_channels_first_unbatched_and_antialias(keras):
    x = _rand(3, 6, 5)
    kwargs = dict(data_format="channels_first", antialias=True)
    ours = layers.Resizing(3, 2, **kwargs)(torch.as_tensor(x))
    assert ours.shape == (3, 3, 2)
    _close(ours, keras.layers.Resizing(3, 2, **kwargs)(x))


@pytest.mark.parametrize("dtype", ["uint8", "int32"])
def test_resizing_integer_images_round_and_keep_dtype_like_keras(keras, dtype):
    x = (RNG.random((2, 5, 7, 3)) * 255).astype(dtype)
    ours = layers.Resizing(3, 4, interpolation="bicubic")(torch.as_tensor(x))
    theirs = keras.layers.Resizing(3, 4, interpolation="bicubic")(x)
    assert ours.dtype == getattr(torch, dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.cpu().numpy())
    assert layers.CenterCrop(3, 4)(torch.as_tensor(x)).dtype == torch.float32


@pytest.mark.parametrize("size", [(3, 4), (2, 2), (5, 7), (6, 4), (8, 9)])
def test_center_crop_matches_keras(keras, size):
    x = _rand(2, 5, 7, 3)
    _close(layers.CenterCrop(*size)(torch.as_tensor(x)), keras.layers.CenterCrop(*size)(x))
    _close(layers.CenterCrop(*size)(torch.as_tensor(x[0])), keras.layers.CenterCrop(*size)(x[0]))


def test_image_layer_errors():
    with pytest.raises(ValueError, match="Resizing `interpolation` must be one of.*'area'"):
        layers.Resizing(2, 2, interpolation="area")
    with pytest.raises(ValueError, match=r"CenterCrop `height` must be a positive integer, got height=0"):
        layers.CenterCrop(0, 2)
    with pytest.raises(ValueError, match=r"rank 4 .*got shape \(2, 3\)"):
        layers.Resizing(2, 2)(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="data_format"):
        layers.CenterCrop(2, 2, data_format="nhwc")


# ---------------------------------------------------------------- Normalization
@pytest.mark.parametrize("axis, shape", [(-1, (6, 3)), (None, (6, 3)), ((1, 2), (6, 2, 3)), (1, (6, 2, 3))])
def test_normalization_adapt_matches_keras(keras, axis, shape):
    data = _rand(*shape) * 3 + 1
    ours, theirs = layers.Normalization(axis=axis), keras.layers.Normalization(axis=axis)
    ours.adapt(data)
    theirs.adapt(data)
    for a, b in zip(ours.get_weights()[:2], theirs.get_weights()[:2]):
        _close(a, b)
    x = _rand(*shape)
    _close(ours(torch.as_tensor(x)), theirs(x))
    reduce = tuple(i for i in range(len(shape)) if axis is None or i not in np.atleast_1d(axis) % len(shape))
    expected = (x - data.mean(reduce, keepdims=True)) / data.std(reduce, keepdims=True)
    _close(ours(torch.as_tensor(x)), expected, atol=1e-4)


def test_normalization_adapt_on_batches_equals_whole_array():
    data = _rand(10, 3) * 2 + 5
    whole, batched = layers.Normalization(), layers.Normalization()
    whole.adapt(data)
    batched.adapt([data[:3], data[3:4], data[4:]])
    _close(batched.mean.detach(), data.mean(0))
    _close(batched.variance.detach(), data.var(0))
    _close(batched.variance.detach(), whole.variance.detach())


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_given_statistics_and_invert_match_keras(keras, invert):
    mean, variance = np.array([1.0, -2.0, 0.5], "float32"), np.array([4.0, 0.25, 0.0], "float32")
    x = _rand(4, 3)
    ours = layers.Normalization(mean=mean, variance=variance, invert=invert)
    theirs = keras.layers.Normalization(mean=mean, variance=variance, invert=invert)
    _close(ours(torch.as_tensor(x)), theirs(x), atol=1e-3 if not invert else 1e-5)


def test_normalization_saved_statistics_survive_round_trip(tmp_path):
    data = _rand(8, 3) * 4
    inputs = ember.Input(shape=(3,))
    norm = layers.Normalization()
    norm.adapt(data)
    model = ember.Model(inputs, norm(inputs))
    model.save(tmp_path / "m.ember")
    loaded = ember.models.load_model(tmp_path / "m.ember")
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0), atol=1e-6)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="cannot be adapted"):
        layers.Normalization(mean=1.0, variance=1.0).adapt(_rand(3, 2))
    with pytest.raises(ValueError, match="axis=3 but its input has rank 2"):
        layers.Normalization(axis=3)(torch.zeros(2, 2))
    with pytest.raises(TypeError, match="axis"):
        layers.Normalization(axis="last")


# ---------------------------------------------------------------- Discretization / CategoryEncoding
@pytest.mark.parametrize("output_mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_matches_keras(keras, output_mode):
    boundaries = [-1.0, 0.0, 0.5, 2.0]
    x = np.array([[-3.0, -1.0, 0.0, 0.2], [0.5, 1.9, 2.0, 5.0]], "float32")
    if output_mode == "one_hot":
        x = x[0]
    ours = layers.Discretization(boundaries, output_mode=output_mode)(torch.as_tensor(x))
    theirs = keras.layers.Discretization(bin_boundaries=boundaries, output_mode=output_mode)(x)
    np.testing.assert_array_equal(ours.numpy(), np.asarray(theirs.cpu()))
    if output_mode == "int":
        np.testing.assert_array_equal(ours.numpy(), np.digitize(x, boundaries))


def test_discretization_errors():
    with pytest.raises(ValueError, match="either `bin_boundaries` or `num_bins`.*not both"):
        layers.Discretization([0.0], num_bins=4)
    with pytest.raises(ValueError, match="got neither"):
        layers.Discretization()
    with pytest.raises(ValueError, match="`num_bins` must be a positive integer, got num_bins=0"):
        layers.Discretization(num_bins=0)
    with pytest.raises(ValueError, match=r"`epsilon` must be a number in \(0, 1\], got epsilon=0"):
        layers.Discretization(num_bins=3, epsilon=0)
    with pytest.raises(ValueError, match="created with `bin_boundaries`; it cannot be adapted"):
        layers.Discretization([0.0]).adapt(np.arange(3.0))
    with pytest.raises(ValueError, match=r"no `bin_boundaries` yet: call `adapt\(data\)` first"):
        layers.Discretization(num_bins=3)(torch.zeros(2))
    with pytest.raises(ValueError, match="got no data"):
        layers.Discretization(num_bins=3).adapt(np.zeros((0,)))
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer, got 0"):
        layers.Discretization(num_bins=3).adapt(np.arange(3.0), batch_size=0)
    with pytest.raises(ValueError, match="sorted ascending"):
        layers.Discretization([1.0, 0.0])
    with pytest.raises(ValueError, match="output_mode"):
        layers.Discretization([0.0], output_mode="tf_idf")


def _keras_adapt_without_tensorflow(keras, monkeypatch):
    """Keras's ``Discretization.adapt`` only asks TensorFlow whether ``data`` is a tf.data/tf tensor."""
    import types

    from keras.src.layers.preprocessing import discretization

    stub = types.SimpleNamespace(data=types.SimpleNamespace(Dataset=type("Dataset", (), {})), is_tensor=lambda x: False)
    monkeypatch.setattr(discretization, "tf", stub)


def _cumulative_count_quantiles(data, num_bins):
    """NumPy oracle: values of the sorted data at cumulative counts ``k * n / num_bins`` (interpolated)."""
    values = np.sort(np.asarray(data, "float32").ravel())
    targets = np.arange(1, num_bins) * values.size / num_bins
    return np.interp(targets, np.arange(1, values.size + 1), values)


_ADAPT_CASES = [  # (n, num_bins, epsilon, kind): small, compressed, duplicates, coarse epsilon
    (10, 4, 0.01, "arange"),
    (6, 3, 0.01, "normal"),
    (90, 7, 0.01, "normal"),
    (300, 5, 0.1, "normal"),
    (1642, 5, 0.001, "normal"),
    (2500, 12, 0.01, "normal"),
    (400, 6, 0.3, "normal"),
    (200, 8, 0.05, "integers"),
]


def _adapt_data(n, kind, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "arange":
        return np.arange(float(n))
    if kind == "integers":
        return rng.integers(0, 5, size=(n // 2, 2)).astype("float32")
    return rng.normal(size=n) * 10.0


@pytest.mark.parametrize("n,num_bins,epsilon,kind", _ADAPT_CASES)
def test_discretization_adapt_matches_keras(keras, monkeypatch, n, num_bins, epsilon, kind):
    _keras_adapt_without_tensorflow(keras, monkeypatch)
    data = _adapt_data(n, kind)
    ours = layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    ours.adapt(data)
    theirs = keras.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    theirs.adapt(data)
    # A coarse epsilon can leave fewer summary values than bins, hence fewer boundaries: in both libraries.
    assert len(ours.bin_boundaries) == len(theirs.bin_boundaries) <= num_bins - 1
    # float32 summaries: equal to float32 rounding (the data spans about +-30)
    np.testing.assert_allclose(ours.bin_boundaries, theirs.bin_boundaries, rtol=1e-5, atol=2e-5)
    x = torch.as_tensor(data.astype("float32"))
    np.testing.assert_array_equal(ours(x).numpy(), keras.ops.convert_to_numpy(theirs(x.numpy())))


@pytest.mark.parametrize("n,num_bins", [(10, 4), (37, 5), (99, 2), (64, 9)])
def test_discretization_adapt_is_exact_below_one_over_epsilon(n, num_bins):
    data = np.random.default_rng(n).normal(size=n)
    layer = layers.Discretization(num_bins=num_bins, epsilon=0.01)  # n * epsilon < 1: no compression
    layer.adapt(data)
    np.testing.assert_allclose(layer.bin_boundaries, _cumulative_count_quantiles(data, num_bins), rtol=1e-6)


def test_discretization_adapt_approximation_stays_within_epsilon():
    data = np.random.default_rng(7).normal(size=5000)
    layer = layers.Discretization(num_bins=4, epsilon=0.01)
    layer.adapt(data)
    # Each boundary's empirical rank is within epsilon of its target quantile (np.quantile for reference).
    ranks = np.searchsorted(np.sort(data.astype("float32")), layer.bin_boundaries) / data.size
    np.testing.assert_allclose(ranks, [0.25, 0.5, 0.75], atol=0.01)
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(data, [0.25, 0.5, 0.75]), atol=0.05)


def test_discretization_adapt_batches_merge_and_readapt_resets():
    data = np.random.default_rng(3).normal(size=(48, 1))
    whole = layers.Discretization(num_bins=4)
    whole.adapt(data)
    batched = layers.Discretization(num_bins=4)
    batched.adapt(data, batch_size=16)  # 16 values per batch: each summary is exact, so merging is too
    np.testing.assert_allclose(batched.bin_boundaries, whole.bin_boundaries, rtol=1e-6)
    listed = layers.Discretization(num_bins=4)
    listed.adapt([torch.as_tensor(data[:20]), torch.as_tensor(data[20:])])
    np.testing.assert_allclose(listed.bin_boundaries, whole.bin_boundaries, rtol=1e-6)
    first_two = layers.Discretization(num_bins=4)
    first_two.adapt(data, batch_size=16, steps=2)
    np.testing.assert_allclose(first_two.bin_boundaries, _cumulative_count_quantiles(data[:32], 4), rtol=1e-6)
    whole.adapt(data + 100.0)  # a second adapt starts afresh
    np.testing.assert_allclose(whole.bin_boundaries, _cumulative_count_quantiles(data + 100.0, 4), rtol=1e-6)


def test_discretization_adapted_config_round_trip(keras):
    layer = layers.Discretization(num_bins=4, epsilon=0.05, output_mode="one_hot")
    layer.adapt(np.arange(10.0))
    config = layer.get_config()
    assert config["num_bins"] == 4 and config["epsilon"] == 0.05
    np.testing.assert_allclose(config["bin_boundaries"], [1.5, 4.0, 6.5], rtol=1e-6)
    restored = layers.Discretization.from_config(config)
    assert restored.bin_boundaries == config["bin_boundaries"]
    x = torch.tensor([0.0, 2.0, 5.0, 9.0])
    np.testing.assert_array_equal(restored(x).numpy(), layer(x).numpy())
    restored.adapt(np.arange(100.0, 110.0))  # restored from an adapted config, it can be adapted again
    np.testing.assert_allclose(restored.bin_boundaries, [101.5, 104.0, 106.5], rtol=1e-6)
    theirs = keras.layers.Discretization.from_config({k: config[k] for k in ("bin_boundaries", "num_bins", "epsilon")})
    np.testing.assert_allclose(theirs.bin_boundaries, config["bin_boundaries"])


@pytest.mark.parametrize("output_mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("x", [[1, 2, 3, 3], [[1], [0]], [[1, 2, 2], [0, 3, 3]]])
def test_category_encoding_matches_keras(keras, output_mode, x):
    x = np.array(x)
    if output_mode == "one_hot" and x.ndim == 2 and x.shape[-1] != 1:
        x = x[:, :1]
    ours = layers.CategoryEncoding(4, output_mode=output_mode)(torch.as_tensor(x))
    _close(ours, keras.layers.CategoryEncoding(4, output_mode=output_mode)(x))


def test_category_encoding_count_weights_match_keras(keras):
    x, w = np.array([[1, 2, 2], [0, 3, 3]]), np.array([[0.5, 1.0, 2.0], [3.0, 0.25, 0.25]], "float32")
    ours = layers.CategoryEncoding(4, output_mode="count")(torch.as_tensor(x), count_weights=torch.as_tensor(w))
    _close(ours, keras.layers.CategoryEncoding(4, output_mode="count")(x, count_weights=w))


def test_category_encoding_errors():
    with pytest.raises(ValueError, match=r"values in \[0, 4\).*got values from 1 to 5"):
        layers.CategoryEncoding(4)(torch.tensor([[1, 5]]))
    with pytest.raises(ValueError, match="num_tokens must be|`num_tokens` must be a positive integer"):
        layers.CategoryEncoding(None)
    with pytest.raises(ValueError, match="output_mode"):
        layers.CategoryEncoding(3, output_mode="int")
    with pytest.raises(ValueError, match="count_weights"):
        layers.CategoryEncoding(3)(torch.tensor([[1]]), count_weights=torch.ones(1, 1))
    with pytest.raises(ValueError, match=r"rank 1 or 2"):
        layers.CategoryEncoding(3)(torch.zeros(1, 2, 2, dtype=torch.long))

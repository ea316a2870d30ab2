"""Masks flow through layers that support masking (Dense, Activation, Dropout), as in Keras."""

import numpy as np
import pytest
import torch

import ember
from ember import layers


def _build(lib):
    inputs = lib.Input(shape=(None,), dtype="int64")
    x = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
    x = lib.layers.Dense(5, activation="tanh")(x)
    x = lib.layers.Activation("relu")(x)
    x = lib.layers.Dropout(0.3)(x)
    return lib.Model(inputs, lib.layers.LSTM(3)(x))


def test_mask_from_embedding_reaches_lstm_through_dense_like_keras(keras):
    ours, theirs = _build(ember), _build(keras)
    theirs.set_weights(ours.get_weights())
    x = np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6], [7, 0, 0, 0, 0, 0]])
    expected = keras.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    # With the padding masked, trailing zeros change nothing: same as the unpadded first sequence.
    short = ours(torch.as_tensor([[3, 4, 5]])).detach().numpy()
    np.testing.assert_allclose(ours(torch.as_tensor(x[:1])).detach().numpy(), short, rtol=1e-5, atol=1e-6)


def test_layers_without_mask_support_do_not_pass_it_on():
    x = torch.ones(2, 3, 4)
    x._keras_mask = torch.tensor([[True, True, False], [True, False, False]])
    assert getattr(layers.Dense(2)(x), "_keras_mask", None) is x._keras_mask
    assert getattr(layers.Flatten()(x), "_keras_mask", None) is None


def test_merge_layers_combine_masks_like_keras(keras):
    def build(lib):
        inputs = lib.Input(shape=(None,), dtype="int64")
        a = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
        b = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
        added = lib.layers.Add()([a, b])
        joined = lib.layers.Concatenate()([a, b])
        return lib.Model(inputs, [lib.layers.GRU(2)(added), lib.layers.GRU(2)(joined)])

    ours, theirs = build(ember), build(keras)
    theirs.set_weights(ours.get_weights())
    x = np.array([[1, 2, 0, 0], [3, 4, 5, 6]])
    for a, b in zip(ours(torch.as_tensor(x)), theirs(x)):
        np.testing.assert_allclose(a.detach().numpy(), keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6)
    left = torch.ones(2, 3, 4)
    left._keras_mask = torch.tensor([[True, True, False], [True, False, False]])
    right = torch.ones(2, 2, 4)
    out = layers.Concatenate(axis=1)([left, right])
    assert out._keras_mask.tolist() == [[True, True, False, True, True], [True, False, False, True, True]]


# ---------------------------------------------------------------- layers that carry, drop or set masks
_PADDED = np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6], [7, 0, 0, 0, 0, 0]])

# (name, factory(lib), training): each sits between Embedding(mask_zero=True) and an LSTM.
_CARRIERS = [
    ("LayerNormalization", lambda lib: lib.layers.LayerNormalization(), False),
    ("GroupNormalization", lambda lib: lib.layers.GroupNormalization(groups=2), False),
    ("UnitNormalization", lambda lib: lib.layers.UnitNormalization(), False),
    ("BatchNormalization", lambda lib: lib.layers.BatchNormalization(), False),
    ("BatchNormalization_training", lambda lib: lib.layers.BatchNormalization(momentum=0.5), True),
    ("Rescaling", lambda lib: lib.layers.Rescaling(0.5, offset=0.1), False),
    ("Normalization", lambda lib: lib.layers.Normalization(mean=0.1, variance=4.0), False),
    ("GaussianNoise", lambda lib: lib.layers.GaussianNoise(0.3), False),
    ("GaussianDropout", lambda lib: lib.layers.GaussianDropout(0.3), False),
    ("AlphaDropout", lambda lib: lib.layers.AlphaDropout(0.3), False),
    ("SpatialDropout1D", lambda lib: lib.layers.SpatialDropout1D(0.3), False),
    ("ActivityRegularization", lambda lib: lib.layers.ActivityRegularization(l1=0.01), False),
    ("Identity", lambda lib: lib.layers.Identity(), False),
    ("TimeDistributed", lambda lib: lib.layers.TimeDistributed(lib.layers.Dense(4)), False),
]


def _embedding_then(lib, middle):
    inputs = lib.Input(shape=(None,), dtype="int64")
    x = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
    return lib.Model(inputs, lib.layers.LSTM(3)(middle(lib)(x)))


@pytest.mark.parametrize("name,factory,training", _CARRIERS, ids=[c[0] for c in _CARRIERS])
def test_mask_passes_through_to_lstm_like_keras(keras, name, factory, training):
    ours, theirs = _embedding_then(ember, factory), _embedding_then(keras, factory)
    weights = ours.get_weights()
    rng = np.random.default_rng(0)
    weights = [w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in weights]  # non-trivial gamma/beta/stats
    if name.startswith("BatchNormalization"):
        for i in (-5, -4):  # moving mean / variance stay valid (the LSTM's 3 weights come last)
            weights[i] = np.abs(weights[i]) + 0.5
    ours.set_weights(weights)
    theirs.set_weights(weights)
    expected = keras.ops.convert_to_numpy(theirs(_PADDED, training=training))
    got = ours(torch.as_tensor(_PADDED), training=training).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    if training:  # the moving statistics were updated from the unmasked steps only, as in Keras
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _masked(shape, mask_rows):
    x = torch.as_tensor(np.random.default_rng(1).normal(size=shape).astype("float32"))
    x._keras_mask = torch.tensor(mask_rows)
    return x


@pytest.mark.parametrize(
    "layer",
    [
        layers.Reshape((12,)),
        layers.Flatten(),
        layers.Permute((2, 1)),
        layers.Cropping1D(1),
        layers.ZeroPadding1D(1),
        layers.UpSampling1D(2),
        layers.Lambda(lambda t: t * 2.0),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_layers_that_do_not_support_masking_drop_it(layer):
    x = _masked((2, 3, 4), [[True, True, False], [True, False, False]])
    assert getattr(layer(x), "_keras_mask", None) is None


def test_supports_masking_flags_match_keras(keras):
    pairs = [
        ("LayerNormalization", {}), ("BatchNormalization", {}), ("GroupNormalization", {"groups": 2}),
        ("UnitNormalization", {}), ("Rescaling", {"scale": 2.0}), ("GaussianNoise", {"stddev": 0.1}),
        ("GaussianDropout", {"rate": 0.1}), ("AlphaDropout", {"rate": 0.1}), ("SpatialDropout1D", {"rate": 0.1}),
        ("SpatialDropout2D", {"rate": 0.1}), ("SpatialDropout3D", {"rate": 0.1}), ("ActivityRegularization", {}),
        ("Identity", {}), ("Normalization", {}), ("Reshape", {"target_shape": (4,)}), ("Flatten", {}),
        ("Permute", {"dims": (2, 1)}), ("RepeatVector", {"n": 2}), ("Cropping1D", {}), ("Cropping2D", {}),
        ("Cropping3D", {}), ("ZeroPadding1D", {}), ("ZeroPadding2D", {}), ("ZeroPadding3D", {}),
        ("UpSampling1D", {}), ("CategoryEncoding", {"num_tokens": 3}),
        ("Discretization", {"bin_boundaries": [0.0]}),
    ]
    for name, kwargs in pairs:
        ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
        assert ours.supports_masking == theirs.supports_masking, name


def test_lambda_mask_argument_like_keras(keras):
    def build(lib, mask):
        inputs = lib.Input(shape=(None,), dtype="int64")
        x = lib.layers.Embedding(10, 4, mask_zero=True)(inputs)
        x = lib.layers.Lambda(lambda t: t * 2.0, mask=mask)(x)
        return lib.Model(inputs, lib.layers.GRU(3)(x))

    def positive_first_feature(inputs, mask):  # a mask computed from the values, ignoring the input's
        return inputs[..., 0] > 0

    for mask in (positive_first_feature, lambda inputs, mask: mask):
        ours, theirs = build(ember, mask), build(keras, mask)
        theirs.set_weights(ours.get_weights())
        np.testing.assert_allclose(
            ours(torch.as_tensor(_PADDED)).detach().numpy(),
            keras.ops.convert_to_numpy(theirs(_PADDED)),
            rtol=1e-5, atol=1e-6,
        )
    x = _masked((2, 3, 4), [[True, True, False], [True, False, False]])
    out = layers.Lambda(lambda t: t + 1.0, mask=positive_first_feature)(x)
    np.testing.assert_array_equal(out._keras_mask.numpy(), (x[..., 0] > 0).numpy())  # computed from the input
    fixed = layers.Lambda(lambda t: t, mask=[True, False, True])(x)
    assert fixed._keras_mask.tolist() == [True, False, True]
    assert x._keras_mask.tolist() == [[True, True, False], [True, False, False]]  # the input keeps its own


def test_lambda_callable_mask_gets_none_without_input_mask():
    seen = []
    layer = layers.Lambda(lambda t: t * 2.0, mask=lambda inputs, mask: seen.append(mask))
    out = layer(torch.ones(2, 3))
    assert seen == [None] and getattr(out, "_keras_mask", None) is None


def test_lambda_mask_round_trips_through_config():
    layer = layers.Lambda(lambda t: t, mask=[True, False])
    config = layer.get_config()
    assert config["mask"] == [True, False]
    restored = layers.Lambda.from_config(config)
    assert restored.mask.tolist() == [True, False]
    assert "mask" not in layers.Lambda(lambda t: t).get_config()


def _moments_oracle(x, mask):
    weights = np.broadcast_to(mask.reshape(mask.shape + (1,) * (x.ndim - mask.ndim)), x.shape)
    axes = tuple(range(x.ndim - 1))
    count = weights.sum(axes)
    mean = (x * weights).sum(axes) / np.maximum(count, 1e-30)
    variance = ((x - mean) ** 2 * weights).sum(axes) / np.maximum(count, 1e-30)
    return mean, variance


@pytest.mark.parametrize("shape,mask_shape", [((2, 4, 3), (2, 4)), ((5, 3), (5,)), ((2, 3, 3, 2), (2, 3, 3))])
def test_batch_normalization_training_moments_use_the_mask(keras, shape, mask_shape):
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape).astype("float32")
    mask = rng.random(mask_shape) > 0.4
    mask.reshape(-1)[0] = True
    mean, variance = _moments_oracle(x, mask)
    ours = layers.BatchNormalization(momentum=0.25)
    out = ours(_masked_array(x, mask), training=True).detach().numpy()
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(variance + 1e-3), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.moving_mean.numpy(), 0.75 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.moving_variance.numpy(), 0.25 + 0.75 * variance, rtol=1e-5, atol=1e-6)
    theirs = keras.layers.BatchNormalization(momentum=0.25)
    tx = torch.as_tensor(x)
    tx._keras_mask = torch.as_tensor(mask)
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(theirs(tx, training=True)), rtol=1e-5, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _masked_array(x, mask):
    t = torch.as_tensor(x)
    t._keras_mask = torch.as_tensor(mask)
    return t


def test_batch_normalization_mask_argument_and_fully_masked_batch(keras):
    x = np.random.default_rng(3).normal(size=(2, 3, 2)).astype("float32")
    none = np.zeros((2, 3), bool)
    ours = layers.BatchNormalization(momentum=0.0)
    out = ours(torch.as_tensor(x), training=True, mask=torch.as_tensor(none))
    theirs = keras.layers.BatchNormalization(momentum=0.0)
    expected = theirs(_masked_array(x, none), training=True)
    np.testing.assert_allclose(out.detach().numpy(), keras.ops.convert_to_numpy(expected), rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(ours.moving_mean.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(ours.moving_variance.numpy(), [0.0, 0.0])
    # Inference ignores the mask: the moving statistics normalize every position.
    bn = layers.BatchNormalization()
    np.testing.assert_allclose(bn(_masked_array(x, none)).detach().numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-6)


def test_batch_normalization_rejects_a_mask_that_does_not_fit():
    bn = layers.BatchNormalization()
    with pytest.raises(ValueError, match=r"mask of shape \(2, 5\).*input of shape \(2, 3, 4\)"):
        bn(torch.ones(2, 3, 4), training=True, mask=torch.ones(2, 5, dtype=torch.bool))


# ---------------------------------------------------------------- training through masked sequences
@pytest.mark.parametrize("normalization", ["LayerNormalization", "BatchNormalization"])
def test_fit_with_masked_normalization_matches_keras(normalization):
    from keras_parity.harness import assert_fit_matches_keras

    def make_model(lib):
        inputs = lib.Input(shape=(6,), dtype="int64")
        x = lib.layers.Embedding(12, 4, mask_zero=True)(inputs)
        x = getattr(lib.layers, normalization)()(x)
        x = lib.layers.GRU(5)(x)
        return lib.Model(inputs, lib.layers.Dense(1)(x))

    def compile_kwargs(lib):
        return {"optimizer": lib.optimizers.Adam(0.01), "loss": "mse", "metrics": ["mae"]}

    rng = np.random.default_rng(4)
    lengths = rng.integers(1, 7, size=32)
    x = np.where(np.arange(6) < lengths[:, None], rng.integers(1, 12, size=(32, 6)), 0)
    y = (lengths / 6.0).astype("float32")[:, None]
    assert_fit_matches_keras(make_model, compile_kwargs, x, y, epochs=2, batch_size=8)

"""Masks flow through layers that support masking (Dense, Activation, Dropout), as in Keras."""

import numpy as np
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

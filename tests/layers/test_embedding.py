"""Embedding: harness checks, lookups against Keras 3 (same table), mask_zero masks, index errors."""

import numpy as np
import pytest
import torch

import ember
from ember import layers

from .harness import run_layer_test


def _tokens(*shape, high=6, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape)


@pytest.mark.parametrize("mask_zero", [False, True])
def test_harness(mask_zero):
    run_layer_test(
        layers.Embedding,
        {"input_dim": 5, "output_dim": 3, "mask_zero": mask_zero},
        (2, 4),
        (2, 4, 3),
        1,
        input_dtype="int64",
    )


@pytest.mark.parametrize("shape", [(3,), (3, 4), (2, 3, 4)])
def test_lookup_matches_keras(keras, shape):
    theirs = keras.layers.Embedding(6, 3, embeddings_initializer="random_normal")
    ours = layers.Embedding(6, 3)
    tokens = _tokens(*shape)
    theirs(tokens)
    ours(torch.from_numpy(tokens))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(torch.from_numpy(tokens)).detach().numpy(), theirs(tokens).detach().cpu().numpy())
    # Also equal to a NumPy table lookup.
    np.testing.assert_array_equal(ours(torch.from_numpy(tokens)).detach().numpy(), ours.get_weights()[0][tokens])


def test_default_initializer_is_uniform_005():
    layer = layers.Embedding(200, 50)
    layer(torch.zeros(1, dtype=torch.long))
    weights = layer.get_weights()[0]
    assert weights.shape == (200, 50)
    assert -0.05 <= weights.min() < -0.04 and 0.04 < weights.max() <= 0.05


def test_mask_zero_attaches_mask(keras):
    tokens = np.array([[1, 2, 0, 0], [0, 3, 3, 0]])
    layer = layers.Embedding(4, 2, mask_zero=True)
    output = layer(torch.from_numpy(tokens))
    np.testing.assert_array_equal(output._keras_mask.numpy(), tokens != 0)
    np.testing.assert_array_equal(layer.compute_mask(torch.from_numpy(tokens)).numpy(), tokens != 0)
    expected = keras.layers.Embedding(4, 2, mask_zero=True).compute_mask(tokens)
    np.testing.assert_array_equal(layer.compute_mask(torch.from_numpy(tokens)).numpy(), np.asarray(expected))
    plain = layers.Embedding(4, 2)
    assert not hasattr(plain(torch.from_numpy(tokens)), "_keras_mask")
    assert plain.compute_mask(torch.from_numpy(tokens)) is None


def test_mask_reaches_the_loss(keras):
    """A masked sequence output makes the loss ignore padded timesteps, as in Keras."""
    tokens = torch.tensor([[1, 2, 0, 0], [2, 2, 1, 0]])
    embedding = layers.Embedding(3, 2, mask_zero=True)
    outputs = embedding(tokens).detach()
    outputs._keras_mask = tokens != 0
    targets = torch.zeros_like(outputs)
    loss = ember.losses.MeanSquaredError()(targets, outputs)
    theirs = outputs.clone()
    theirs._keras_mask = tokens != 0
    expected = keras.losses.MeanSquaredError()(targets, theirs)
    unmasked = ember.losses.MeanSquaredError()(targets, outputs.clone())
    np.testing.assert_allclose(float(loss), float(expected), rtol=1e-6)
    assert abs(float(unmasked) - float(expected)) > 1e-6


def test_float_indices_are_cast_and_weights_argument():
    table = np.arange(12, dtype="float32").reshape(4, 3)
    layer = layers.Embedding(4, 3, weights=[table])
    np.testing.assert_array_equal(layer(torch.tensor([[1.0, 3.0]])).detach().numpy(), table[[[1, 3]]])


def test_config_round_trip_keeps_arguments():
    layer = layers.Embedding(7, 2, mask_zero=True, embeddings_regularizer="l2", input_length=5)
    clone = layers.Embedding.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.mask_zero and clone.input_dim == 7 and clone.output_dim == 2


@pytest.mark.parametrize("bad, value", [(9, 9), (-1, -1)])
def test_index_out_of_range_names_layer_and_bounds(bad, value):
    layer = layers.Embedding(5, 2, name="words")
    layer(torch.tensor([[1, 2]]))
    with pytest.raises(IndexError, match=rf"'words' got index {value} .* 0 to 4 \(input_dim=5\)"):
        layer(torch.tensor([[1, bad, 2]]))


def test_bad_arguments():
    with pytest.raises(ValueError, match="`input_dim` must be a positive integer, got input_dim=0"):
        layers.Embedding(0, 3)
    with pytest.raises(ValueError, match="`output_dim` must be a positive integer, got output_dim=2.5"):
        layers.Embedding(3, 2.5)

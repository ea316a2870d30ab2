"""Concatenate / Add and their functions: harness checks, numerics against Keras 3, graphs, errors."""

import re

import numpy as np
import pytest
import torch

import ember
from ember.layers.conv import Conv1D, Conv2D
from ember.layers.merge import Add, Concatenate, add, concatenate
from ember.layers.pooling import GlobalMaxPooling1D, GlobalMaxPooling2D

from .harness import run_layer_test

Input = ember.layers.Input

CONCATENATE_CASES = [
    (dict(), [(2, 3), (2, 4)], (2, 7)),
    (dict(axis=-1), [(2, 3, 1), (2, 3, 2), (2, 3, 3)], (2, 3, 6)),
    (dict(axis=1), [(2, 3, 4), (2, 1, 4)], (2, 4, 4)),
    (dict(axis=-2), [(2, 2, 4), (2, 5, 4)], (2, 7, 4)),
    (dict(axis=0), [(2, 3), (1, 3)], (3, 3)),
]
ADD_CASES = [
    ([(2, 3), (2, 3)], (2, 3)),
    ([(2, 3, 4), (2, 3, 4), (2, 3, 4)], (2, 3, 4)),
    ([(2, 1, 4), (2, 3, 4)], (2, 3, 4)),
    ([(2, 4), (2, 3, 4)], (2, 3, 4)),
    ([(2, 3, 1), (2, 1, 4), (2, 3, 4)], (2, 3, 4)),
]


# ---------------------------------------------------------------------- harness
@pytest.mark.parametrize("kwargs, shapes, expected", CONCATENATE_CASES)
def test_concatenate_harness(kwargs, shapes, expected):
    run_layer_test(
        Concatenate, kwargs, input_shape=shapes, expected_output_shape=expected, expected_num_trainable_weights=0
    )


@pytest.mark.parametrize("shapes, expected", ADD_CASES)
def test_add_harness(shapes, expected):
    run_layer_test(Add, {}, input_shape=shapes, expected_output_shape=expected, expected_num_trainable_weights=0)


# ---------------------------------------------------------------------- Keras parity
@pytest.mark.parametrize("kwargs, shapes, expected", CONCATENATE_CASES)
def test_concatenate_matches_keras(keras, kwargs, shapes, expected):
    xs = [np.random.randn(*s).astype("float32") for s in shapes]
    got = Concatenate(**kwargs)([torch.from_numpy(x) for x in xs]).numpy()
    np.testing.assert_array_equal(got, keras.ops.convert_to_numpy(keras.layers.Concatenate(**kwargs)(xs)))
    np.testing.assert_array_equal(got, np.concatenate(xs, axis=kwargs.get("axis", -1)))


@pytest.mark.parametrize("shapes, expected", ADD_CASES)
def test_add_matches_keras(keras, shapes, expected):
    xs = [np.random.randn(*s).astype("float32") for s in shapes]
    got = Add()([torch.from_numpy(x) for x in xs]).numpy()
    assert got.shape == expected
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(keras.layers.Add()(xs)), atol=1e-6)


def test_add_lower_rank_input_is_expanded_after_the_batch_axis():
    # (2, 3) + (2, 2, 3): the first input broadcasts over axis 1, not over the batch axis.
    a = torch.arange(6.0).reshape(2, 3)
    b = torch.arange(12.0).reshape(2, 2, 3)
    np.testing.assert_array_equal(Add()([a, b]).numpy(), (a.numpy()[:, None, :] + b.numpy()))


@pytest.mark.parametrize(
    "shapes, kwargs",
    [
        ([(None, 3), (None, 4)], dict()),
        ([(None, None, 3), (None, None, 5)], dict()),
        ([(None, 2, 3), (None, 4, 3)], dict(axis=1)),
        ([(None, None, 3), (None, 4, 3)], dict(axis=1)),
        ([(4, 3), (None, 5)], dict()),
    ],
)
def test_concatenate_symbolic_shapes_match_keras(keras, shapes, kwargs):
    ours = Concatenate(**kwargs)([Input(batch_shape=s) for s in shapes]).shape
    theirs = keras.layers.Concatenate(**kwargs)([keras.Input(batch_shape=s) for s in shapes]).shape
    assert ours == tuple(theirs)


@pytest.mark.parametrize(
    "shapes",
    [
        [(None, 3), (None, 3)],
        [(None, 1, 3), (None, 4, 3)],
        [(None, 3), (None, 4, 3)],
        [(3, 2), (None, 2)],
        [(None, None, 3), (None, 1, 3)],
    ],
)
def test_add_symbolic_shapes_match_keras(keras, shapes):
    ours = Add()([Input(batch_shape=s) for s in shapes]).shape
    theirs = keras.layers.Add()([keras.Input(batch_shape=s) for s in shapes]).shape
    assert ours == tuple(theirs)


def test_symbolic_shapes_keep_dims_known_from_any_input():
    # Keras reports None here; a known size in one input fixes the output size whenever the call succeeds.
    assert concatenate([Input(shape=(None, 3)), Input(shape=(4, 5))]).shape == (None, 4, 8)
    assert add([Input(shape=(None, 3)), Input(shape=(4, 3))]).shape == (None, 4, 3)


def test_guide_multi_input_graph():
    image_input = Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = Input(shape=(None, 10), name="ts_input")
    x1 = Conv2D(3, 3)(image_input)
    x1 = GlobalMaxPooling2D()(x1)
    x2 = Conv1D(3, 3)(timeseries_input)
    x2 = GlobalMaxPooling1D()(x2)
    x = concatenate([x1, x2])
    assert x1.shape == (None, 3)
    assert x2.shape == (None, 3)
    assert x.shape == (None, 6)
    score = ember.layers.Dense(1, name="score_output")(x)
    model = ember.Model(inputs=[image_input, timeseries_input], outputs=score)
    images, series = torch.randn(2, 32, 32, 3), torch.randn(2, 7, 10)
    out = model([images, series])
    assert tuple(out.shape) == (2, 1)
    # The model applies the same layers as calling them by hand.
    layers = {type(layer).__name__: layer for layer in model._flatten_layers()}
    by_hand = torch.cat(
        [
            layers["GlobalMaxPooling2D"](layers["Conv2D"](images)),
            layers["GlobalMaxPooling1D"](layers["Conv1D"](series)),
        ],
        dim=-1,
    )
    torch.testing.assert_close(out, layers["Dense"](by_hand))


def test_functions_pass_kwargs_and_return_layer_outputs():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    out = add([a, b], name="my_add")
    assert out.history[0].name == "my_add" and isinstance(out.history[0], Add)
    out = concatenate([a, b], axis=1, name="my_concat")
    assert out.history[0].name == "my_concat" and out.history[0].axis == 1
    assert out.shape == (None, 6)
    x = [torch.ones(2, 3), 2 * torch.ones(2, 3)]
    np.testing.assert_array_equal(add(x).numpy(), np.full((2, 3), 3.0))


def test_names_and_configs_follow_keras(keras):
    pattern = re.compile(r"([a-z0-9_]+?)(_\d+)?")
    for ours, theirs in [(Add(), keras.layers.Add()), (Concatenate(axis=1), keras.layers.Concatenate(axis=1))]:
        assert pattern.fullmatch(ours.name).group(1) == pattern.fullmatch(theirs.name).group(1)
        assert set(ours.get_config()) == set(theirs.get_config())
    assert Concatenate(axis=1).get_config()["axis"] == 1


# ---------------------------------------------------------------------- errors
def test_add_errors():
    with pytest.raises(ValueError, match="must be called on a list of at least 2 tensors, got 1"):
        Add()([torch.ones(2, 3)])
    with pytest.raises(ValueError, match=r"must be called on a list of tensors, e.g. Add\(\)\(\[x1, x2\]\)"):
        Add()(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"broadcast-compatible shapes .* got shapes \[\(2, 3\), \(2, 4\)\]"):
        Add()([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(ValueError, match="different batch sizes"):
        Add()([torch.ones(2, 3), torch.ones(1, 3)])
    with pytest.raises(ValueError, match="broadcast-compatible shapes"):
        add([Input(shape=(5, 3)), Input(shape=(4, 3))])
    with pytest.raises(ValueError, match="at least 2 tensors"):
        add([Input(shape=(3,))])
    layer = Add()
    layer([torch.ones(2, 3), torch.ones(2, 3)])
    with pytest.raises(ValueError, match="broadcast-compatible shapes"):
        layer([torch.ones(2, 3), torch.ones(2, 5)])


def test_concatenate_errors():
    with pytest.raises(ValueError, match="must be called on a list of tensors"):
        Concatenate()(torch.ones(2, 3))
    with pytest.raises(ValueError, match="must be called on a list of tensors"):
        Concatenate()([])
    with pytest.raises(ValueError, match=r"match except on the concatenation axis \(axis=-1\)"):
        Concatenate()([torch.ones(2, 3), torch.ones(3, 3)])
    with pytest.raises(ValueError, match="same rank"):
        concatenate([Input(shape=(3,)), Input(shape=(2, 3))])
    with pytest.raises(ValueError, match=r"axis` must be in \[-2, 2\) for inputs of rank 2, got axis=2"):
        concatenate([Input(shape=(3,)), Input(shape=(3,))], axis=2)
    with pytest.raises(ValueError, match="axis` must be an integer"):
        Concatenate(axis="last")
    layer = Concatenate()
    layer([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(ValueError, match="match except on the concatenation axis"):
        layer([torch.ones(2, 3), torch.ones(3, 4)])

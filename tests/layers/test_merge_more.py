"""Subtract / Multiply / Average / Maximum / Minimum / Dot and their functions: harness, Keras numerics, errors."""

import numpy as np
import pytest
import torch

import ember
from ember.layers import merge
from ember.layers.merge import Average, Dot, Maximum, Minimum, Multiply, Subtract

from .harness import run_layer_test

Input = ember.layers.Input

ELEMENTWISE = {
    "Subtract": (Subtract, "subtract", lambda xs: xs[0] - xs[1]),
    "Multiply": (Multiply, "multiply", lambda xs: np.prod(np.broadcast_arrays(*xs), axis=0)),
    "Average": (Average, "average", lambda xs: np.mean(np.broadcast_arrays(*xs), axis=0)),
    "Maximum": (Maximum, "maximum", lambda xs: np.max(np.broadcast_arrays(*xs), axis=0)),
    "Minimum": (Minimum, "minimum", lambda xs: np.min(np.broadcast_arrays(*xs), axis=0)),
}
SHAPES = [
    ([(2, 3), (2, 3)], (2, 3)),
    ([(2, 3, 4), (2, 3, 4), (2, 3, 4)], (2, 3, 4)),
    ([(2, 1, 4), (2, 3, 4)], (2, 3, 4)),
    ([(2, 3, 1), (2, 1, 4), (2, 3, 4)], (2, 3, 4)),
]


def _cases():
    for name in ELEMENTWISE:
        for shapes, expected in SHAPES:
            if name == "Subtract" and len(shapes) != 2:
                continue
            yield name, shapes, expected


def _random(shapes):
    return [np.random.randn(*s).astype("float32") for s in shapes]


@pytest.mark.parametrize("name, shapes, expected", list(_cases()))
def test_elementwise_harness_keras_and_numpy(keras, name, shapes, expected):
    cls, function, reference = ELEMENTWISE[name]
    run_layer_test(cls, {}, input_shape=shapes, expected_output_shape=expected, expected_num_trainable_weights=0)
    xs = _random(shapes)
    got = cls()([torch.from_numpy(x) for x in xs]).numpy()
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(getattr(keras.layers, name)()(xs)), atol=1e-5)
    np.testing.assert_allclose(got, reference(xs), atol=1e-5)
    np.testing.assert_allclose(getattr(merge, function)([torch.from_numpy(x) for x in xs]).numpy(), got)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_symbolic_shape_matches_keras(keras, name):
    cls = ELEMENTWISE[name][0]
    ours = cls()([Input(shape=(1, 4)), Input(shape=(3, 1))])
    theirs = getattr(keras.layers, name)()([keras.Input(shape=(1, 4)), keras.Input(shape=(3, 1))])
    assert tuple(ours.shape) == tuple(theirs.shape) == (None, 3, 4)


def test_elementwise_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Subtract layer 'sub' must be called on exactly 2 tensors, got 3"):
        Subtract(name="sub")([torch.ones(2, 3)] * 3)
    with pytest.raises(ValueError, match=r"Subtract layer .* exactly 2 tensors, got 3"):
        Subtract()([Input(shape=(3,))] * 3)
    with pytest.raises(ValueError, match=r"Multiply layer 'mul': .*broadcast-compatible.*\(2, 3\), \(2, 4\)"):
        Multiply(name="mul")([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(ValueError, match=r"Maximum layer .*broadcast-compatible.*\(None, 3\), \(None, 4\)"):
        Maximum()([Input(shape=(3,)), Input(shape=(4,))])
    with pytest.raises(ValueError, match=r"Average layer 'avg' must be called on a list of at least 2 tensors, got 1"):
        Average(name="avg")([torch.ones(2, 3)])
    with pytest.raises(ValueError, match=r"Minimum layer .* called on a list of tensors.*got input shape \(2, 3\)"):
        Minimum()(torch.ones(2, 3))


DOT_CASES = [
    (dict(axes=1), [(2, 5), (2, 5)], (2, 1)),
    (dict(axes=-1), [(2, 3), (2, 4, 3)], (2, 4)),
    (dict(axes=(2, 1)), [(2, 3, 4), (2, 4, 5)], (2, 3, 5)),
    (dict(axes=(1, 2)), [(2, 3, 4), (2, 4, 3)], (2, 4, 4)),
    (dict(axes=[1, 1], normalize=True), [(2, 3, 4), (2, 3, 2)], (2, 4, 2)),
    (dict(axes=-1, normalize=True), [(2, 6), (2, 6)], (2, 1)),
]


@pytest.mark.parametrize("kwargs, shapes, expected", DOT_CASES)
def test_dot_harness_and_keras(keras, kwargs, shapes, expected):
    run_layer_test(Dot, kwargs, input_shape=shapes, expected_output_shape=expected, expected_num_trainable_weights=0)
    xs = _random(shapes)
    got = Dot(**kwargs)([torch.from_numpy(x) for x in xs]).numpy()
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(keras.layers.Dot(**kwargs)(xs)), atol=1e-5)
    functional = merge.dot([torch.from_numpy(x) for x in xs], **kwargs).numpy()
    np.testing.assert_allclose(functional, got)
    symbolic = keras.layers.Dot(**kwargs)([keras.Input(batch_shape=(None, *s[1:])) for s in shapes])
    assert tuple(Dot(**kwargs)([Input(shape=s[1:]) for s in shapes]).shape) == tuple(symbolic.shape)


def test_dot_numpy_cosine():
    a, b = np.random.randn(4, 3).astype("float32"), np.random.randn(4, 3).astype("float32")
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    got = Dot(axes=1, normalize=True)([torch.from_numpy(a), torch.from_numpy(b)]).numpy()
    np.testing.assert_allclose(got[:, 0], cosine, rtol=1e-5)


def test_dot_config_and_save_round_trip(keras, tmp_path):
    assert Dot(axes=(1, 2)).get_config()["axes"] == keras.layers.Dot(axes=(1, 2)).get_config()["axes"]
    a, b = Input(shape=(3, 4)), Input(shape=(4, 2))
    product = Dot(axes=(2, 1))([a, b])
    out = merge.subtract([product, merge.average([product, merge.maximum([a[:, :, :2], b[:, :3]])])])
    model = ember.Model([a, b], out)
    path = tmp_path / "dot.ember"
    model.save(path)
    loaded = ember.models.load_model(path)
    xs = _random([(2, 3, 4), (2, 4, 2)])
    np.testing.assert_array_equal(model.predict(xs, verbose=0), loaded.predict(xs, verbose=0))


def test_dot_errors():
    with pytest.raises(ValueError, match=r"Dot `axes` must be an integer or a pair of integers, got axes=\(1, 2, 3\)"):
        Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match=r"Dot layer 'd' must be called on a list of exactly 2 tensors, got 3"):
        Dot(1, name="d")([torch.ones(2, 3)] * 3)
    with pytest.raises(ValueError, match=r"Dot layer .*incompatible input shapes \(2, 3\) and \(2, 4\).*size 3.*4"):
        Dot(1)([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(ValueError, match=r"Dot layer .*axes=0 must name a non-batch axis.*\(None, 3\)"):
        Dot(0)([Input(shape=(3,)), Input(shape=(3,))])
    with pytest.raises(ValueError, match=r"Dot layer .*axes=\(1, 3\) must name a non-batch axis"):
        Dot((1, 3))([torch.ones(2, 3), torch.ones(2, 3)])

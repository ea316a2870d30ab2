"""StringLookup / IntegerLookup against a plain-Python oracle of Keras 3's documented semantics.

Keras 3's lookup layers do not run on its torch backend alone, so the oracle
below is written from the documented behaviour: vocabulary sorted by frequency
(ties: larger token first), special tokens first, masked inputs dropped outside
``int`` mode, idf = log(1 + N / (1 + df)) with the OOV weight the mean of the
learned ones.
"""

import collections
import math

import numpy as np
import pytest
import torch

import ember
from ember import layers
from ember.data.array_adapter import ArrayAdapter

from .harness import run_layer_test

DATA = np.array([["a", "b", "b", "c"], ["c", "c", "d", "a"], ["e", "", "b", "b"], ["f", "a", "g", "b"]])
CALLS = np.array([["a", "zz", "", "g"], ["b", "b", "q", "f"]])


def oracle_tokens(rows, specials, max_tokens):
    counts = collections.Counter(t for row in rows for t in row if t not in specials)
    ordered = sorted(sorted(counts, reverse=True), key=lambda t: -counts[t])  # stable: ties keep larger first
    if max_tokens is not None:
        ordered = ordered[: max_tokens - len(specials)]
    return ordered


def oracle_lookup(rows, vocab, mask, num_oov, int_mode):
    """Index of every token (mask -> 0 in int mode, None = dropped otherwise)."""
    start = (1 if mask is not None and int_mode else 0) + num_oov
    index = {t: start + i for i, t in enumerate(vocab)}
    out = []
    for row in rows:
        out.append([
            (0 if int_mode else None) if mask is not None and t == mask
            else index.get(t, start - num_oov + (t % num_oov if num_oov > 1 else 0))
            for t in row
        ])
    return out


def oracle_encode(indices, depth, mode, idf=None):
    out = np.zeros((len(indices), depth), dtype=np.float64)
    for r, row in enumerate(indices):
        for i in row:
            if i is not None:
                out[r, i] += 1
    if mode in ("multi_hot", "one_hot"):
        out = (out > 0).astype(np.float64)
    if mode == "tf_idf":
        out = out * idf
    return out


@pytest.mark.parametrize("mask", [None, ""])
@pytest.mark.parametrize("max_tokens", [None, 5])
def test_string_adapt_orders_by_frequency_and_maps_to_int(mask, max_tokens):
    layer = layers.StringLookup(mask_token=mask, max_tokens=max_tokens)
    layer.adapt(DATA)
    specials = ([mask] if mask is not None else []) + ["[UNK]"]
    expected_vocab = specials + oracle_tokens(DATA.tolist(), specials, max_tokens)
    assert layer.get_vocabulary() == expected_vocab
    assert layer.vocabulary_size() == len(expected_vocab)
    assert layer.get_vocabulary(include_special_tokens=False) == expected_vocab[len(specials):]
    out = layer(CALLS)
    assert out.dtype == torch.int64
    expected = oracle_lookup(CALLS.tolist(), expected_vocab[len(specials):], mask, 1, True)
    np.testing.assert_array_equal(out.numpy(), np.array(expected))


@pytest.mark.parametrize("mode", ["multi_hot", "count", "tf_idf"])
@pytest.mark.parametrize("pad", [False, True])
def test_string_encoded_modes_drop_the_mask(mode, pad):
    layer = layers.StringLookup(mask_token="", output_mode=mode, max_tokens=9, pad_to_max_tokens=pad)
    layer.adapt(DATA)
    vocab = oracle_tokens(DATA.tolist(), ["", "[UNK]"], 9)  # in these modes the mask has no index
    assert layer.get_vocabulary() == ["[UNK]"] + vocab
    depth = 9 if pad else 1 + len(vocab)
    idf = None
    if mode == "tf_idf":
        df = [sum(t in set(row) for row in DATA.tolist()) for t in vocab]
        learned = [math.log(1 + len(DATA) / (1 + d)) for d in df]
        idf = np.array([np.mean(learned)] + learned + [0.0] * (depth - 1 - len(vocab)))
        np.testing.assert_allclose(layer.idf_weights, idf, rtol=1e-6)
    expected = oracle_encode(oracle_lookup(CALLS.tolist(), vocab, "", 1, False), depth, mode, idf)
    out = layer(CALLS)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_string_one_hot_in_a_model_trains_and_predicts():
    inputs = ember.Input(shape=(1,), dtype="string")
    encoded = layers.StringLookup(vocabulary=["a", "b", "c"], output_mode="one_hot")(inputs)
    assert encoded.shape == (None, 4) and encoded.dtype == "float32"
    model = ember.Model(inputs, layers.Dense(1)(encoded))
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([["a"], ["c"], ["zz"]])
    history = model.fit(x, np.array([1.0, 2.0, 3.0]), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    kernel, bias = model.layers[-1].get_weights()
    expected = np.eye(4)[[1, 3, 0, 2]] @ kernel + bias  # "a", "c", "zz" (OOV), "b"
    np.testing.assert_allclose(model.predict(np.array(["a", "c", "zz", "b"]), verbose=0), expected, rtol=1e-5)


def test_string_given_vocabulary_with_special_tokens_and_idf_weights():
    layer = layers.StringLookup(vocabulary=["[UNK]", "x", "y"], idf_weights=[0.3, 1.0, 2.0], output_mode="tf_idf")
    np.testing.assert_allclose(layer.idf_weights, [0.3, 1.0, 2.0])  # given special tokens keep their weight
    np.testing.assert_allclose(layer(np.array([["x", "y", "y", "w"]])).numpy(), [[0.3, 1.0, 4.0]], rtol=1e-6)
    plain = layers.StringLookup(vocabulary=["x", "y"], idf_weights=[1.0, 2.0], output_mode="tf_idf")
    np.testing.assert_allclose(plain.idf_weights, [1.5, 1.0, 2.0])  # OOV: the mean of the given weights


def test_string_vocabulary_file_and_invert(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("red\ngreen\nblue\n", encoding="utf-8")
    layer = layers.StringLookup(vocabulary=str(path), mask_token="[MASK]")
    assert layer.get_vocabulary() == ["[MASK]", "[UNK]", "red", "green", "blue"]
    np.testing.assert_array_equal(layer(["blue", "[MASK]", "pink"]).numpy(), [4, 0, 1])
    inverse = layers.StringLookup(vocabulary=str(path), mask_token="[MASK]", invert=True)
    out = inverse(torch.tensor([[4, 0, 1, 2, 9, -1]]))
    assert out.tolist() == [["blue", "[MASK]", "[UNK]", "red", "[UNK]", "[UNK]"]]


def test_string_bytes_inputs_are_decoded():
    layer = layers.StringLookup(vocabulary=["é", "b"])
    np.testing.assert_array_equal(layer(np.array(["é".encode(), b"b", b"z"])).numpy(), [1, 2, 0])


@pytest.mark.parametrize("num_oov", [1, 2, 3])
@pytest.mark.parametrize("mask", [None, 0])
def test_integer_adapt_and_oov_buckets(num_oov, mask):
    data = np.array([[5, 5, 7, 9, 0, 11], [7, 7, 7, 2, 2, 0]])
    layer = layers.IntegerLookup(num_oov_indices=num_oov, mask_token=mask)
    layer.adapt(data)
    specials = ([mask] if mask is not None else []) + [-1] * num_oov
    vocab = oracle_tokens(data.tolist(), set(specials), None)
    assert layer.get_vocabulary() == specials + vocab
    calls = torch.tensor([[5, 0, 12, 13, 14, -1, 2]])
    expected = oracle_lookup(calls.tolist(), vocab, mask, num_oov, True)
    np.testing.assert_array_equal(layer(calls).numpy(), expected)


def test_integer_count_mode_and_invert():
    layer = layers.IntegerLookup(vocabulary=[30, 10, 20], output_mode="count", mask_token=0)
    calls = torch.tensor([[10, 10, 0, 99], [20, 30, 30, 30]])
    expected = oracle_encode(oracle_lookup(calls.tolist(), [30, 10, 20], 0, 1, False), 4, "count")
    np.testing.assert_array_equal(layer(calls).numpy(), expected)
    inverse = layers.IntegerLookup(vocabulary=[30, 10, 20], invert=True, mask_token=0)
    assert inverse(torch.tensor([[0, 1, 2, 3, 4, 7]])).tolist() == [[0, -1, 30, 10, 20, -1]]


def test_integer_layer_harness():
    run_layer_test(layers.IntegerLookup, {"vocabulary": [1, 2, 3], "output_mode": "multi_hot"}, (4, 3), (4, 4),
                   expected_num_trainable_weights=0, input_dtype="int64")
    run_layer_test(layers.IntegerLookup, {"vocabulary": [4, 1]}, (4, 3), (4, 3), input_dtype="int64")


@pytest.mark.parametrize("kwargs", [
    {"output_mode": "tf_idf", "mask_token": ""},
    {"output_mode": "int", "num_oov_indices": 2, "max_tokens": 6},
    {"output_mode": "count", "max_tokens": 8, "pad_to_max_tokens": True},
])
def test_string_config_round_trip_keeps_the_vocabulary(kwargs):
    layer = layers.StringLookup(**kwargs)
    layer.adapt(DATA)
    clone = layers.StringLookup.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(clone(CALLS).numpy(), layer(CALLS).numpy())


def test_string_arrays_are_batched_with_the_same_order_as_targets():
    x = np.array([[f"t{i}"] for i in range(10)])
    y = np.arange(10, dtype=np.float32)
    adapter = ArrayAdapter(x, y, batch_size=4, shuffle=True).to("cpu")
    seen = []
    for bx, by in adapter:
        assert isinstance(bx, np.ndarray) and bx.dtype == object
        assert [s[0] for s in bx.tolist()] == [f"t{int(v)}" for v in by]
        seen.extend(by.tolist())
    assert sorted(seen) == list(range(10))


@pytest.mark.parametrize("make, call, error, match", [
    (lambda: layers.StringLookup(vocabulary=["a"]), lambda l: l(torch.tensor([[1.5]])), TypeError, "must hold strings"),
    (lambda: layers.StringLookup(vocabulary=["a"]), lambda l: l(np.array([1.0, 2.0])), TypeError, "IntegerLookup"),
    (lambda: layers.StringLookup(vocabulary=["a"]), lambda l: l(np.array(["a", 3], dtype=object)), TypeError,
     "expects string inputs"),
    (lambda: layers.IntegerLookup(vocabulary=[1]), lambda l: l(torch.tensor([1.0])), TypeError, "integer inputs"),
    (lambda: layers.IntegerLookup(vocabulary=[1]), lambda l: l(np.array(["a"])), TypeError, "StringLookup"),
    (lambda: layers.StringLookup(vocabulary=["a"], num_oov_indices=0), lambda l: l(np.array(["a", "zz"])),
     ValueError, "num_oov_indices=0.*zz"),
])
def test_bad_inputs(make, call, error, match):
    with pytest.raises(error, match=match):
        call(make())


@pytest.mark.parametrize("kwargs, match", [
    ({"vocabulary": ["a", "b", "a"]}, "repeated tokens \\['a'\\]"),
    ({"pad_to_max_tokens": True}, "pad_to_max_tokens=True needs `max_tokens`"),
    ({"output_mode": "one_hot", "invert": True}, "invert=True needs output_mode='int'"),
    ({"output_mode": "onehot"}, "output_mode` must be one of"),
    ({"max_tokens": 3, "vocabulary": ["a", "b", "c"]}, "more than max_tokens=3"),
    ({"max_tokens": 1}, "greater than 1"),
    ({"sparse": True}, "sparse=False only"),
    ({"idf_weights": [1.0], "vocabulary": ["a"]}, "only applies to output_mode='tf_idf'"),
    ({"output_mode": "tf_idf", "vocabulary": ["a"]}, "also needs `idf_weights`"),
    ({"output_mode": "tf_idf", "vocabulary": ["a"], "idf_weights": [1.0, 2.0]}, "one weight per vocabulary entry"),
    ({"mask_token": "m", "vocabulary": ["a", "m"]}, "mask token 'm'"),
    ({"num_oov_indices": -1}, "num_oov_indices"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.StringLookup(**kwargs)


def test_integer_bad_vocabulary_and_tokens():
    with pytest.raises(TypeError, match="must hold integers"):
        layers.IntegerLookup(vocabulary=[1.5, 2.5])
    with pytest.raises(ValueError, match="mask_token` must be an integer"):
        layers.IntegerLookup(mask_token="x")
    with pytest.raises(ValueError, match="vocabulary_dtype"):
        layers.IntegerLookup(vocabulary_dtype="float32")

"""TextVectorization against a plain-Python oracle of Keras 3's documented semantics.

Keras 3's TextVectorization does not run on its torch backend alone. The oracle: ASCII lower-casing, removal of the punctuation
characters ``!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~``, splitting on ASCII whitespace,
n-grams joined by spaces (all widths in order), a vocabulary with ``""`` (mask,
index 0 in int mode) and ``"[UNK]"`` first, sorted by frequency.
"""

import collections
import math
import re

import numpy as np
import pytest
import torch

import ember
from ember import layers

TEXTS = ["The quick, brown fox!", "the LAZY dog... jumps", "Fox & dog: friends?", "a  b\tc\nd", "",
         "Über café déjà-vu", "the dog and the fox"]
CALLS = ["brown dog jumps over the fox", "unknown words here", "CAFÉ über!", ""]
PUNCTUATION = re.compile(r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]""")


def oracle_standardize(text, mode="lower_and_strip_punctuation"):
    if mode in ("lower", "lower_and_strip_punctuation"):
        text = "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)
    if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
        text = PUNCTUATION.sub("", text)
    return text


def oracle_tokens(text, standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None):
    text = oracle_standardize(text, standardize) if standardize else text
    tokens = [t for t in re.split(r"[ \t\n\r\v\f]", text) if t] if split == "whitespace" else list(text)
    if ngrams:
        widths = range(1, ngrams + 1) if isinstance(ngrams, int) else ngrams
        tokens = [" ".join(tokens[i: i + n]) for n in widths for i in range(len(tokens) - n + 1)]
    return tokens


def oracle_vocab(rows, specials, max_tokens=None):
    counts = collections.Counter(t for row in rows for t in row if t not in ("", "[UNK]"))
    ordered = sorted(sorted(counts, reverse=True), key=lambda t: -counts[t])
    if max_tokens is not None:
        ordered = ordered[: max_tokens - len(specials)]
    return specials + ordered


@pytest.mark.parametrize("standardize", ["lower_and_strip_punctuation", "lower", "strip_punctuation", None])
@pytest.mark.parametrize("split, ngrams", [("whitespace", None), ("whitespace", 2), ("character", (1, 3))])
@pytest.mark.parametrize("length", [None, 3, 9])
def test_int_mode_matches_oracle(standardize, split, ngrams, length):
    layer = layers.TextVectorization(standardize=standardize, split=split, ngrams=ngrams,
                                     output_sequence_length=length, max_tokens=40)
    layer.adapt(TEXTS)
    rows = [oracle_tokens(t, standardize, split, ngrams) for t in TEXTS]
    vocab = oracle_vocab(rows, ["", "[UNK]"], 40)
    assert layer.get_vocabulary() == vocab
    index = {t: i for i, t in enumerate(vocab)}
    sequences = [[index.get(t, 1) for t in oracle_tokens(c, standardize, split, ngrams)] for c in CALLS]
    width = length if length is not None else max(len(s) for s in sequences)
    expected = np.array([(s + [0] * width)[:width] for s in sequences])
    out = layer(np.array(CALLS))
    assert out.dtype == torch.int64
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(layer(np.array(CALLS)[:, None]).numpy(), expected)  # (batch, 1) input


@pytest.mark.parametrize("mode", ["multi_hot", "count", "tf_idf"])
@pytest.mark.parametrize("pad", [False, True])
def test_vector_modes_match_oracle(mode, pad):
    layer = layers.TextVectorization(output_mode=mode, max_tokens=30, pad_to_max_tokens=pad, ngrams=2)
    layer.adapt(TEXTS)
    rows = [oracle_tokens(t, ngrams=2) for t in TEXTS]
    vocab = oracle_vocab(rows, ["[UNK]"], 30)
    assert layer.get_vocabulary() == vocab
    depth = 30 if pad else len(vocab)
    expected = np.zeros((len(CALLS), depth))
    for r, text in enumerate(CALLS):
        for token in oracle_tokens(text, ngrams=2):
            expected[r, vocab.index(token) if token in vocab else 0] += 1
    if mode == "multi_hot":
        expected = (expected > 0).astype(float)
    if mode == "tf_idf":
        learned = [math.log(1 + len(rows) / (1 + sum(t in row for row in rows))) for t in vocab[1:]]
        idf = np.array([np.mean(learned)] + learned + [0.0] * (depth - len(vocab)))
        np.testing.assert_allclose(layer.idf_weights, idf, rtol=1e-6)
        expected = expected * idf
    np.testing.assert_allclose(layer(CALLS).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_split_none_and_callables():
    whole = layers.TextVectorization(split=None, standardize="lower")
    whole.adapt(np.array([["New York"], ["Paris"], ["new york"]]))
    assert whole.get_vocabulary() == ["", "[UNK]", "new york", "paris"]
    np.testing.assert_array_equal(whole(np.array([["PARIS"], ["Rome"]])).numpy(), [[3], [1]])
    custom = layers.TextVectorization(standardize=lambda s: np.char.upper(s.astype(str)),
                                      split=lambda s: [text.split("-") for text in s])
    custom.adapt(["a-b", "b-c-b"])
    assert custom.get_vocabulary() == ["", "[UNK]", "B", "C", "A"]
    np.testing.assert_array_equal(custom(["c-a", "b"]).numpy(), [[3, 4], [2, 0]])


def test_given_vocabulary_and_config_round_trip():
    layer = layers.TextVectorization(vocabulary=["dog", "cat"], output_sequence_length=4)
    assert layer.get_vocabulary() == ["", "[UNK]", "dog", "cat"] and layer.vocabulary_size() == 4
    np.testing.assert_array_equal(layer(["Cat, dog! bird"]).numpy(), [[3, 2, 1, 0]])
    clone = layers.TextVectorization.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(clone(["cat cat"]).numpy(), [[3, 3, 0, 0]])
    layer.set_vocabulary(["", "[UNK]", "bird"])
    np.testing.assert_array_equal(layer(["bird dog"]).numpy(), [[2, 1, 0, 0]])


def _sentiment_data():
    positive = ["good great fine", "great movie", "fine good film", "loved it great"]
    negative = ["bad awful movie", "awful terrible", "bad film bad", "hated it awful"]
    texts = np.array([positive[i % 4] if i % 2 == 0 else negative[i % 4] for i in range(32)])
    return texts, (np.arange(32) % 2 == 0).astype(np.float32)


def test_end_to_end_fit_save_load_predict_raw_strings(tmp_path):
    texts, labels = _sentiment_data()
    vectorize = layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(texts)
    model = ember.Sequential([
        vectorize, layers.Embedding(20, 8), layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(texts, labels, epochs=4, batch_size=8, shuffle=True, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "m.ember")
    loaded = ember.models.load_model(tmp_path / "m.ember")
    raw = ["good movie", "awful film", "never seen words"]
    np.testing.assert_array_equal(model.predict(raw, verbose=0), loaded.predict(np.array(raw), verbose=0))
    assert loaded.layers[0].get_vocabulary() == vectorize.get_vocabulary()


def test_functional_string_input_with_validation_split():
    texts, labels = _sentiment_data()
    inputs = ember.Input(shape=(1,), dtype="string")
    vectorize = layers.TextVectorization(output_mode="multi_hot")
    vectorize.adapt(texts)
    encoded = vectorize(inputs)
    assert encoded.shape == (None, vectorize.vocabulary_size())
    model = ember.Model(inputs, layers.Dense(1, activation="sigmoid")(encoded))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(texts[:, None], labels, validation_split=0.25, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    kernel, bias = model.layers[-1].get_weights()
    logits = vectorize(texts[:2]).numpy() @ kernel + bias
    np.testing.assert_allclose(model.predict(texts[:2, None], verbose=0), 1 / (1 + np.exp(-logits)), rtol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    ({"standardize": "upper"}, "`standardize` must be one of"),
    ({"split": "comma"}, "`split` must be one of"),
    ({"output_mode": "one_hot"}, "`output_mode` must be one of"),
    ({"output_mode": "multi_hot", "output_sequence_length": 4}, "only applies to output_mode='int'"),
    ({"ngrams": 0}, "`ngrams` must be None"),
    ({"split": None, "ngrams": 2}, "needs a `split`"),
    ({"pad_to_max_tokens": True}, "pad_to_max_tokens=True needs `max_tokens`"),
    ({"ragged": True}, "ragged=False only"),
    ({"output_sequence_length": 0}, "positive integer"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.TextVectorization(**kwargs)


def test_bad_inputs():
    layer = layers.TextVectorization(vocabulary=["a"])
    with pytest.raises(ValueError, match=r"shape \(batch,\) or \(batch, 1\); got shape \(2, 2\)"):
        layer(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(TypeError, match="must hold strings"):
        layer(torch.tensor([1.0, 2.0]))


def test_predict_on_batch_and_generator_batches_of_strings():
    texts = ["the cat", "a dog", "the dog barks", "cat"]
    vectorize = layers.TextVectorization(vocabulary=["the", "cat", "dog"], output_sequence_length=3)
    model = ember.Sequential([vectorize, layers.Embedding(5, 2), layers.GlobalAveragePooling1D()])
    model.predict(texts[:1], verbose=0)  # builds the model on raw text
    table = model.layers[1].get_weights()[0]
    expected = table[vectorize(texts).numpy()].mean(axis=1)
    np.testing.assert_allclose(model.predict(np.array(texts), batch_size=3, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(np.array(texts)), expected, rtol=1e-6)
    batches = ((np.array(texts[i: i + 2]),) for i in range(0, 4, 2))
    np.testing.assert_allclose(model.predict(batches, verbose=0), expected, rtol=1e-6)

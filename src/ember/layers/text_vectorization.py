"""``TextVectorization``: raw text to token indices or bag-of-words vectors (Keras 3 semantics).

Each string is standardized (lower-cased, punctuation stripped), split into
tokens (whitespace or characters), optionally turned into n-grams, and looked up
in a vocabulary held by an inner ``StringLookup`` whose mask token is ``""``
(index 0 in ``int`` mode, used for padding) and OOV token ``"[UNK]"``.
"""

import re
import string

import numpy as np
import torch

from ember.backend.strings import to_string_array
from ember.layers.layer import Layer
from ember.layers.lookup import StringLookup, adapt_batches

__all__ = ["TextVectorization", "split_text", "standardize_text"]

STANDARDIZE_MODES = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT_MODES = ("whitespace", "character")
OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf")

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # Keras lower-cases ASCII only
_WHITESPACE_TOKEN = re.compile(r"[^ \t\n\v\f\r]+")  # ASCII whitespace separates tokens


def standardize_text(text, mode):
    """One string standardized by ``mode`` (one of ``STANDARDIZE_MODES``) (a pure function)."""
    if mode in ("lower_and_strip_punctuation", "lower"):
        text = text.translate(_ASCII_LOWER)
    if mode in ("lower_and_strip_punctuation", "strip_punctuation"):
        text = text.translate(_PUNCTUATION)
    return text


def split_text(text, mode):
    """The tokens of one string: ``"whitespace"`` or ``"character"`` splitting (a pure function)."""
    return _WHITESPACE_TOKEN.findall(text) if mode == "whitespace" else list(text)


def make_ngrams(tokens, widths):
    """Every n-gram of each width in ``widths`` (in that order), tokens joined by spaces."""
    out = []
    for width in widths:
        out.extend(" ".join(tokens[i: i + width]) for i in range(len(tokens) - width + 1))
    return out


class TextVectorization(Layer):
    """Maps text to integer sequences or to multi-hot / count / tf-idf vectors.

    Args:
        max_tokens: Optional cap on the vocabulary size, including the mask
            (``int`` mode) and OOV tokens.
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, ``None``, or a callable taking and returning a
            NumPy object array of strings.
        split: ``"whitespace"`` (default), ``"character"``, ``None`` (each string is
            one token), or a callable taking a 1-D object array of strings and
            returning one list of tokens per string.
        ngrams: ``None``, an integer ``n`` (n-grams of widths 1..n) or a tuple of widths.
        output_mode: ``"int"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: ``int`` mode: pad with 0 or truncate every
            sequence to this length (default: pad to the longest in the batch).
        pad_to_max_tokens: Encode to ``max_tokens`` columns in the vector modes.
        vocabulary: Optional list of strings or path to a one-token-per-line file.
        idf_weights: ``tf_idf`` weights for a given ``vocabulary``.
        sparse, ragged: Only ``False``.
        encoding: Encoding of ``bytes`` inputs.

    Shape:
        Input ``(batch,)`` or ``(batch, 1)`` strings (a NumPy array or a list).
        Output ``(batch, sequence_length)`` int64 in ``int`` mode, else
        ``(batch, vocabulary_size)`` float32.

    Example:
        >>> layer = TextVectorization(output_mode="int")
        >>> layer.adapt(["the cat", "the dog"])
        >>> layer(["The cat!", "a dog"]).tolist()
        [[2, 4], [1, 3]]
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None,
                 output_mode="int", output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None, **kwargs):
        kwargs.pop("vocabulary_size", None)
        if not (standardize is None or standardize in STANDARDIZE_MODES or callable(standardize)):
            raise ValueError(
                f"TextVectorization `standardize` must be one of {STANDARDIZE_MODES}, None or a callable, got "
                f"standardize={standardize!r}."
            )
        if not (split is None or split in SPLIT_MODES or callable(split)):
            raise ValueError(
                f"TextVectorization `split` must be one of {SPLIT_MODES}, None or a callable, got split={split!r}."
            )
        if output_mode not in OUTPUT_MODES:
            raise ValueError(
                f"TextVectorization `output_mode` must be one of {OUTPUT_MODES}, got output_mode={output_mode!r}."
            )
        if isinstance(ngrams, int) and not isinstance(ngrams, bool) and ngrams >= 1:
            widths = tuple(range(1, ngrams + 1))
        elif ngrams is None:
            widths = None
        elif isinstance(ngrams, (tuple, list)) and ngrams and all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in ngrams):
            widths = tuple(ngrams)
        else:
            raise ValueError(
                f"TextVectorization `ngrams` must be None, a positive integer or a tuple of positive integers, got "
                f"ngrams={ngrams!r}."
            )
        if widths is not None and split is None:
            raise ValueError("TextVectorization `ngrams` needs a `split`; got split=None with ngrams set.")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(
                    "TextVectorization `output_sequence_length` only applies to output_mode='int', got "
                    f"output_mode={output_mode!r}."
                )
            if not isinstance(output_sequence_length, int) or output_sequence_length < 1:
                raise ValueError(
                    "TextVectorization `output_sequence_length` must be a positive integer, got "
                    f"{output_sequence_length!r}."
                )
        if ragged:
            raise ValueError("TextVectorization supports ragged=False only; use output_sequence_length to fix lengths.")
        super().__init__(name=name, dtype=kwargs.pop("dtype", None) or ("int64" if output_mode == "int" else None),
                         **kwargs)
        self.max_tokens = max_tokens
        self.standardize = standardize
        self.split = split
        self.ngrams = ngrams
        self._ngram_widths = widths
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.sparse = bool(sparse)
        self.ragged = False
        self.encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, mask_token="", vocabulary=vocabulary, idf_weights=idf_weights,
            output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, encoding=encoding,
            name=f"{self.name}_lookup",
        )
        self.built = True

    # ------------------------------------------------------------------ vocabulary
    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary in index order (``""`` and ``"[UNK]"`` first in ``int`` mode)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """Number of indices, special tokens included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Replace the vocabulary (and the ``tf_idf`` weights); see ``StringLookup.set_vocabulary``."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights)

    @property
    def idf_weights(self):
        return self._lookup_layer.idf_weights

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary from texts: a list/array of strings, or an iterable of such batches."""
        self._lookup_layer.adapt_rows(self._rows(batch) for batch in adapt_batches(data))

    # ------------------------------------------------------------------ preprocessing
    def _standardized(self, inputs):
        strings = to_string_array(inputs, f"TextVectorization layer {self.name!r} inputs", self.encoding)
        bad = [s for s in strings.reshape(-1)[:1] if not isinstance(s, str)]
        if bad:
            raise TypeError(
                f"TextVectorization layer {self.name!r} expects strings, got {type(bad[0]).__name__} values such as "
                f"{bad[0]!r}."
            )
        if self.split is not None:
            if strings.ndim > 1:
                if strings.shape[-1] != 1:
                    raise ValueError(
                        f"TextVectorization layer {self.name!r} splits strings, so its input must have shape (batch,) "
                        f"or (batch, 1); got shape {strings.shape}."
                    )
                strings = strings.reshape(strings.shape[:-1])
            if strings.ndim == 0:
                strings = strings.reshape(1)
        if self.standardize is None:
            return strings
        if callable(self.standardize):
            return to_string_array(self.standardize(strings), "the result of `standardize`")
        out = np.empty(strings.shape, dtype=object)
        out.reshape(-1)[:] = [standardize_text(s, self.standardize) for s in strings.reshape(-1)]
        return out

    def _rows(self, inputs):
        """Token lists per string (the rows a vocabulary is learned from)."""
        strings = self._standardized(inputs)
        if self.split is None:
            return [[s] for s in strings.reshape(-1)] if strings.ndim <= 1 else strings.reshape(
                strings.shape[0], -1).tolist()
        rows = self.split(strings) if callable(self.split) else [split_text(s, self.split) for s in strings]
        rows = [list(row) for row in rows]
        if self._ngram_widths is not None:
            rows = [make_ngrams(row, self._ngram_widths) for row in rows]
        return rows

    def call(self, inputs):
        if self.split is None:
            strings = self._standardized(inputs)
            out = self._lookup_layer(strings)
            if self.output_mode == "int" and self.output_sequence_length is not None and out.dim() >= 1:
                out = _fit_length(out, self.output_sequence_length)
            return out
        rows = self._rows(inputs)
        length = max((len(row) for row in rows), default=0)
        if self.output_mode == "int" and self.output_sequence_length is not None:
            length = self.output_sequence_length
        grid = np.full((len(rows), length), "", dtype=object)  # "" is the mask token: 0 in int mode, else dropped
        for i, row in enumerate(rows):
            row = row[:length]
            grid[i, : len(row)] = row
        return self._lookup_layer(grid)

    # ------------------------------------------------------------------ shapes and config
    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode != "int":
            return self._lookup_layer.compute_output_shape(input_shape[:1] + (None,))
        if self.split is None:
            shape = input_shape
            if self.output_sequence_length is not None:
                shape = shape[:-1] + (self.output_sequence_length,)
            return shape
        return input_shape[:1] + (self.output_sequence_length,)

    def get_config(self):
        config = super().get_config()
        lookup = self._lookup_layer.get_config()
        config.update(
            max_tokens=self.max_tokens,
            standardize=self.standardize,
            split=self.split,
            ngrams=list(self.ngrams) if isinstance(self.ngrams, tuple) else self.ngrams,
            output_mode=self.output_mode,
            output_sequence_length=self.output_sequence_length,
            pad_to_max_tokens=self.pad_to_max_tokens,
            sparse=self.sparse,
            ragged=self.ragged,
            encoding=self.encoding,
            vocabulary=lookup["vocabulary"],
            idf_weights=lookup["idf_weights"],
        )
        return config


def _fit_length(indices, length):
    """Pad with 0 or truncate the last axis of ``indices`` to ``length``."""
    current = indices.shape[-1]
    if current >= length:
        return indices[..., :length]
    return torch.nn.functional.pad(indices, (0, length - current))

"""Vocabulary lookup layers: ``StringLookup`` and ``IntegerLookup`` (Keras 3 semantics).

Both share ``IndexLookup``: a vocabulary given or learned with ``adapt`` (most
frequent first, ties broken by the larger token first, capped by ``max_tokens``),
special tokens at fixed positions, and encodings ``int`` / ``one_hot`` /
``multi_hot`` / ``count`` / ``tf_idf``.

Index layout in ``output_mode="int"``: ``[mask_token] + [oov_token] * num_oov_indices
+ tokens``; in the other modes the mask token has no slot and masked inputs are
dropped. Strings are NumPy arrays (one dict pass per call); integers are torch
tensors looked up with ``torch.searchsorted`` on the sorted vocabulary.
"""

import collections
import zlib

import numpy as np
import torch

from ember.backend.dtypes import to_torch_dtype
from ember.backend.strings import to_string_array
from ember.layers.layer import Layer
from ember.layers.preprocessing import encode_categories

__all__ = ["IndexLookup", "IntegerLookup", "StringLookup"]

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def inverse_document_frequency(document_counts, num_documents):
    """``log(1 + num_documents / (1 + document_count))`` per token (a pure function)."""
    document_counts = np.asarray(document_counts, dtype=np.float64)
    return np.log(1.0 + num_documents / (1.0 + document_counts))


def adapt_batches(data):
    """``data`` given to ``adapt`` as batches: one array/list, or each ``x`` of an iterable of batches."""
    if isinstance(data, (np.ndarray, torch.Tensor, list, tuple, str)):
        yield data
        return
    for batch in data:
        yield batch[0] if isinstance(batch, tuple) and len(batch) in (2, 3) else batch  # (x, y) batches: x


def _vocabulary_from_file(path):
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\r\n") for line in handle]


class IndexLookup(Layer):
    """Shared base of ``StringLookup`` and ``IntegerLookup``; subclasses define the token type.

    Subclasses override ``_standardize_inputs`` (check and convert a batch)
    and ``_lookup`` (tokens → indices, ``-1`` when out of vocabulary).
    """

    _token_kind = "token"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=None, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False, pad_to_max_tokens=False,
                 vocabulary_dtype=None, **kwargs):
        owner = type(self).__name__
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"{owner} `output_mode` must be one of {OUTPUT_MODES}, got output_mode={output_mode!r}.")
        if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool)
                                       or max_tokens <= 1):
            raise ValueError(f"{owner} `max_tokens`, if set, must be an integer greater than 1, got {max_tokens!r}.")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(
                f"{owner} with pad_to_max_tokens=True needs `max_tokens` (the padded size), got max_tokens=None."
            )
        if not isinstance(num_oov_indices, int) or isinstance(num_oov_indices, bool) or num_oov_indices < 0:
            raise ValueError(f"{owner} `num_oov_indices` must be an integer >= 0, got {num_oov_indices!r}.")
        if invert and output_mode != "int":
            raise ValueError(f"{owner} with invert=True needs output_mode='int', got output_mode={output_mode!r}.")
        if sparse:
            raise ValueError(f"{owner} supports sparse=False only (dense outputs), got sparse={sparse!r}.")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(
                f"{owner} `idf_weights` only applies to output_mode='tf_idf', got output_mode={output_mode!r}."
            )
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{owner} with output_mode='tf_idf' and a `vocabulary` also needs `idf_weights`.")
        dtype = kwargs.pop("dtype", None)
        if dtype is None:
            dtype = vocabulary_dtype if invert else ("int64" if output_mode == "int" else "float32")
        super().__init__(dtype=dtype, **kwargs)
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.vocabulary_dtype = vocabulary_dtype
        self._tokens = None  # learned/given tokens, without special tokens; None until set
        self._idf = None  # float32 array over every index, or None
        # A buffer only to follow `model.to(device)`: outputs are created on the layer's device.
        self.register_buffer("_device_tracker", torch.empty(0), persistent=False)
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # ------------------------------------------------------------------ index layout
    def _oov_start(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self):
        return self._oov_start() + self.num_oov_indices

    def _special_tokens(self):
        return [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices

    def vocabulary_size(self):
        """Number of indices: special tokens (mask in ``int`` mode, OOV) plus learned tokens."""
        return self._token_start() + len(self._tokens or ())

    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary in index order; special tokens first unless ``include_special_tokens=False``."""
        tokens = list(self._tokens or ())
        return self._special_tokens() + tokens if include_special_tokens else tokens

    @property
    def idf_weights(self):
        """The ``tf_idf`` weight of every index (NumPy float32), or ``None`` in other modes."""
        return None if self._idf is None else self._idf.copy()

    # ------------------------------------------------------------------ vocabulary
    def _convert_vocabulary(self, vocabulary):
        """The vocabulary as a list of Python tokens (subclasses check the token type)."""
        raise NotImplementedError

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Replace the vocabulary (and, for ``tf_idf``, the idf weights).

        Args:
            vocabulary: A list/array of unique tokens (for ``StringLookup`` also a
                path to a text file with one token per line). It may start with
                the special tokens (as ``get_vocabulary()`` returns them).
            idf_weights: For ``output_mode="tf_idf"``: one weight per vocabulary
                entry; OOV indices get their mean unless the special tokens are given.
        """
        owner = f"{type(self).__name__} layer {self.name!r}"
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{owner} has output_mode='tf_idf': set_vocabulary() also needs `idf_weights`.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(
                f"{owner}: `idf_weights` only applies to output_mode='tf_idf', got output_mode={self.output_mode!r}."
            )
        tokens = self._convert_vocabulary(vocabulary)
        special = self._special_tokens()
        found_special = len(special) > 0 and tokens[: len(special)] == special
        if found_special:
            tokens = tokens[len(special):]
        repeated = sorted(str(t) for t, n in collections.Counter(tokens).items() if n > 1)
        if repeated:
            raise ValueError(f"{owner} got a vocabulary with repeated tokens {repeated}; every token must be unique.")
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(
                f"{owner}: the mask token {self.mask_token!r} appears in `vocabulary` at a position other than 0. "
                "Remove it; the layer places it itself."
            )
        if self.invert and self.num_oov_indices and self.oov_token in tokens:
            raise ValueError(f"{owner}: the OOV token {self.oov_token!r} must not appear in an inverting vocabulary.")
        size = self._token_start() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(
                f"{owner}: the vocabulary has {size} entries including {self._token_start()} special ones, more "
                f"than max_tokens={self.max_tokens}. Raise `max_tokens` or shorten the vocabulary."
            )
        if self.output_mode == "tf_idf":
            weights = np.asarray(idf_weights, dtype=np.float64).reshape(-1)
            given = len(tokens) + (len(special) if found_special else 0)
            if weights.size != given:
                raise ValueError(
                    f"{owner}: `idf_weights` must have one weight per vocabulary entry ({given}), got {weights.size}."
                )
            if not found_special:
                weights = np.concatenate([np.full(self._token_start(), np.mean(weights) if weights.size else 0.0),
                                          weights])
            if self.pad_to_max_tokens:
                weights = np.concatenate([weights, np.zeros(self.max_tokens - weights.size)])
            self._idf = weights.astype(np.float32)
        self._tokens = tokens
        self._on_vocabulary_set()

    def _on_vocabulary_set(self):
        """Rebuild lookup tables after the vocabulary changed (subclasses)."""

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary from ``data``: the most frequent tokens first, up to ``max_tokens``.

        Args:
            data: An array/list/tensor of tokens, or an iterable of such batches.
                For ``tf_idf`` each row (each element of a rank-1 batch) is one document.
        """
        self.adapt_rows(self._adapt_rows(batch) for batch in adapt_batches(data))

    def adapt_rows(self, batches_of_rows):
        """Learn the vocabulary from batches of rows of Python tokens (each row is one document)."""
        counts, doc_counts, num_docs = collections.Counter(), collections.Counter(), 0
        for rows in batches_of_rows:
            for row in rows:
                counts.update(row)
                doc_counts.update(set(row))
            num_docs += len(rows)
        if num_docs == 0:
            raise ValueError(f"{type(self).__name__}.adapt() got no data; pass a non-empty array or list of batches.")
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
            doc_counts.pop(special, None)
        self._learn(counts, doc_counts, num_docs)

    def _adapt_rows(self, batch):
        """A batch as a list of rows (lists of Python tokens); rank 0/1 batches are one token per row."""
        array = self._to_token_array(batch)
        if array.ndim == 0:
            array = array.reshape(1)
        if array.ndim == 1:
            return [[t] for t in array.tolist()]
        return array.reshape(array.shape[0], -1).tolist()

    def _to_token_array(self, batch):
        raise NotImplementedError

    def _learn(self, counts, doc_counts, num_docs):
        # Most frequent first; equal counts: the larger token first.
        order = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens is not None:
            order = order[: max(self.max_tokens - self._token_start(), 0)]
        tokens = [token for token, _ in order]
        if self.output_mode == "tf_idf":
            idf = inverse_document_frequency([doc_counts[t] for t in tokens], num_docs)
            oov = np.full(self._token_start(), idf.mean() if idf.size else 0.0)
            weights = np.concatenate([oov, idf])
            if self.pad_to_max_tokens:
                weights = np.concatenate([weights, np.zeros(self.max_tokens - weights.size)])
            self._idf = weights.astype(np.float32)
        self._tokens = tokens
        self._on_vocabulary_set()

    # ------------------------------------------------------------------ call
    def _device(self):
        return self._device_tracker.device

    def _oov_hash(self, inputs, oov_positions):
        """OOV bucket (0 .. num_oov_indices-1) of the inputs at ``oov_positions`` (subclasses)."""
        raise NotImplementedError

    def call(self, inputs):
        if self.invert:
            return self._invert(inputs)
        inputs = self._standardize_inputs(inputs)
        indices = self._lookup(inputs)  # int64 tensor, -1 for OOV, -2 for the mask token
        oov = indices == -1
        if bool(oov.any()):
            if self.num_oov_indices == 0:
                raise ValueError(
                    f"{type(self).__name__} layer {self.name!r} has num_oov_indices=0, but its input holds tokens "
                    f"outside the vocabulary: {self._oov_examples(inputs, oov)}. Set num_oov_indices=1 or add them."
                )
            if self.num_oov_indices == 1:
                indices = torch.where(oov, torch.full_like(indices, self._oov_start()), indices)
            else:
                buckets = self._oov_hash(inputs, oov) + self._oov_start()
                indices = torch.where(oov, buckets, indices)
        masked = indices == -2
        if self.output_mode == "int":
            indices = torch.where(masked, torch.zeros_like(indices), indices)
            return indices if self.dtype == "int64" else indices.to(self._output_torch_dtype())
        return self._encode(indices, masked)

    def _output_torch_dtype(self):
        return to_torch_dtype(self.dtype)

    def _encode(self, indices, masked):
        depth = self._depth()
        if indices.dim() > 2 or (self.output_mode == "one_hot" and indices.dim() == 2 and indices.shape[-1] != 1):
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} in output_mode={self.output_mode!r} supports outputs of "
                f"rank <= 2; got inputs of shape {tuple(indices.shape)}. Use (batch,) or (batch, 1) inputs for "
                "one_hot and (batch, tokens) for multi_hot/count/tf_idf."
            )
        # Masked inputs are dropped: count them in one extra slot, then cut it off.
        indices = torch.where(masked, torch.full_like(indices, depth), indices)
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        if indices.dim() == 0:
            indices = indices.reshape(1)
        out = encode_categories(indices, depth + 1, mode, layer_name=self.name)[..., :depth]
        if self.output_mode == "tf_idf":
            out = out * torch.as_tensor(self._idf[:depth], device=out.device)
        return out if self.dtype == "float32" else out.to(self._output_torch_dtype())

    def _oov_examples(self, inputs, oov):
        values = np.asarray(inputs.cpu() if isinstance(inputs, torch.Tensor) else inputs)
        return sorted({str(v) for v in values[oov.cpu().numpy()].tolist()})[:5]

    def _invert(self, inputs):
        inputs = torch.as_tensor(inputs)
        if inputs.is_floating_point() or inputs.dtype is torch.bool:
            raise TypeError(
                f"{type(self).__name__} layer {self.name!r} with invert=True expects integer indices, got dtype "
                f"{inputs.dtype}."
            )
        table = np.empty(self.vocabulary_size(), dtype=object)
        table[:] = self.get_vocabulary()
        if self.mask_token is not None:
            table[0] = self.mask_token
        table[self._oov_start(): self._token_start()] = self.oov_token
        index = inputs.cpu().numpy().astype(np.int64)
        inside = (index >= 0) & (index < table.size)
        out = np.where(inside, table[np.where(inside, index, 0)], self.oov_token) if table.size else \
            np.full(index.shape, self.oov_token, dtype=object)
        return self._inverted_output(out)

    def _inverted_output(self, tokens):
        return tokens

    # ------------------------------------------------------------------ shapes and config
    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = self._depth() if self._tokens is not None or self.pad_to_max_tokens else None
        if self.output_mode == "one_hot" and input_shape and input_shape[-1] != 1:
            return input_shape + (depth,)
        return tuple(input_shape[:1]) + (depth,)

    def get_config(self):
        config = super().get_config()
        config.update(
            max_tokens=self.max_tokens,
            num_oov_indices=self.num_oov_indices,
            mask_token=self.mask_token,
            oov_token=self.oov_token,
            invert=self.invert,
            output_mode=self.output_mode,
            sparse=self.sparse,
            pad_to_max_tokens=self.pad_to_max_tokens,
            vocabulary=None if self._tokens is None else self.get_vocabulary(),
            idf_weights=None if self._idf is None else self._idf[: self.vocabulary_size()].tolist(),
        )
        return config


class StringLookup(IndexLookup):
    """Maps strings to indices in a vocabulary (Keras's ``StringLookup``).

    Args:
        max_tokens: Optional cap on the vocabulary size, special tokens included.
        num_oov_indices: Indices for out-of-vocabulary strings (``0``: OOV raises).
        mask_token: Optional string mapped to 0 in ``int`` mode and dropped in the others.
        oov_token: String returned for OOV indices when ``invert=True``.
        vocabulary: Optional list/array of strings or a path to a one-token-per-line file.
        idf_weights: Weights for ``output_mode="tf_idf"`` with a given vocabulary.
        invert: Map indices back to strings instead.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: Encode to ``max_tokens`` columns even if the vocabulary is smaller.
        sparse: Only ``False`` (dense outputs).
        encoding: Text encoding used to decode ``bytes`` inputs.

    Inputs are NumPy arrays of ``str``/``object``/``bytes`` dtype or (nested)
    lists of ``str``; ``int`` mode returns an int64 tensor, the other modes
    float32 tensors, ``invert=True`` an object array of strings.

    Example:
        >>> StringLookup(vocabulary=["a", "b"])(np.array([["a"], ["z"]])).tolist()
        [[1], [0]]
    """

    _token_kind = "string"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", name=None, **kwargs):
        kwargs.pop("vocabulary_dtype", None)
        self.encoding = encoding
        self._index = {}
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
                         vocabulary_dtype="string", name=name, **kwargs)

    def _convert_vocabulary(self, vocabulary):
        if isinstance(vocabulary, str):
            vocabulary = _vocabulary_from_file(vocabulary)
        tokens = to_string_array(vocabulary, f"StringLookup {self.name!r} `vocabulary`").reshape(-1).tolist()
        bad = [t for t in tokens if not isinstance(t, str)]
        if bad:
            raise TypeError(f"StringLookup layer {self.name!r} `vocabulary` must hold strings, got {bad[:3]}.")
        return tokens

    def _on_vocabulary_set(self):
        start = self._token_start()
        self._index = {token: start + i for i, token in enumerate(self._tokens)}
        if self.mask_token is not None:
            self._index[self.mask_token] = -2

    def _to_token_array(self, batch):
        return self._standardize_inputs(batch)

    def _standardize_inputs(self, inputs):
        try:
            return to_string_array(inputs, f"StringLookup layer {self.name!r} inputs", self.encoding)
        except TypeError as error:
            raise TypeError(f"{error} Use IntegerLookup for integer inputs.") from None

    def _lookup(self, strings):
        flat = strings.reshape(-1)
        get = self._index.get
        indices = np.fromiter((get(t, -1) for t in flat), dtype=np.int64, count=flat.size).reshape(strings.shape)
        oov = indices == -1
        if oov.any():
            bad = [t for t in flat[oov.reshape(-1)] if not isinstance(t, str)]
            if bad:
                raise TypeError(
                    f"StringLookup layer {self.name!r} expects string inputs, got {type(bad[0]).__name__} values "
                    f"such as {bad[0]!r}. Use IntegerLookup for integer inputs."
                )
        return torch.from_numpy(indices).to(self._device())

    def _oov_hash(self, strings, oov):
        # A stable hash (CRC32 of the UTF-8 bytes); Keras uses FarmHash, so buckets differ from Keras.
        flat = strings.reshape(-1)
        buckets = np.fromiter((zlib.crc32(t.encode("utf-8")) % self.num_oov_indices for t in flat),
                              dtype=np.int64, count=flat.size)
        return torch.from_numpy(buckets.reshape(strings.shape)).to(self._device())

    def get_config(self):
        config = super().get_config()
        config["encoding"] = self.encoding
        return config


class IntegerLookup(IndexLookup):
    """Maps integers to indices in a vocabulary (Keras's ``IntegerLookup``).

    Args:
        max_tokens: Optional cap on the vocabulary size, special tokens included.
        num_oov_indices: Indices for out-of-vocabulary values; with more than
            one, a value goes to OOV index ``value mod num_oov_indices``.
        mask_token: Optional integer mapped to 0 in ``int`` mode and dropped in the others.
        oov_token: Integer returned for OOV indices when ``invert=True``.
        vocabulary: Optional list/array of unique integers.
        vocabulary_dtype: ``"int64"`` or ``"int32"``.
        idf_weights, invert, output_mode, pad_to_max_tokens, sparse: As for ``StringLookup``.

    Example:
        >>> IntegerLookup(vocabulary=[12, 36])(torch.tensor([[12], [7]])).tolist()
        [[1], [0]]
    """

    _token_kind = "integer"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, output_mode="int",
                 sparse=False, vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 pad_to_max_tokens=False, name=None, **kwargs):
        if vocabulary_dtype not in ("int64", "int32"):
            raise ValueError(f"IntegerLookup `vocabulary_dtype` must be 'int64' or 'int32', got {vocabulary_dtype!r}.")
        for arg, value in (("mask_token", mask_token), ("oov_token", oov_token)):
            if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool)):
                raise ValueError(f"IntegerLookup `{arg}` must be an integer or None, got {arg}={value!r}.")
        self._tables = {}
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=None if mask_token is None else int(mask_token),
                         oov_token=None if oov_token is None else int(oov_token), vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, vocabulary_dtype=vocabulary_dtype, name=name, **kwargs)

    def _convert_vocabulary(self, vocabulary):
        array = np.asarray(vocabulary.cpu() if isinstance(vocabulary, torch.Tensor) else vocabulary)
        if array.size and array.dtype.kind not in "iu":
            raise TypeError(
                f"IntegerLookup layer {self.name!r} `vocabulary` must hold integers, got dtype {array.dtype}."
            )
        return [int(v) for v in array.reshape(-1).tolist()]

    def _on_vocabulary_set(self):
        self._tables = {}

    def _table(self, device):
        table = self._tables.get(device)
        if table is None:
            keys = list(self._tokens or ())
            values = list(range(self._token_start(), self._token_start() + len(keys)))
            if self.mask_token is not None:
                keys.append(self.mask_token)
                values.append(-2)
            keys = torch.tensor(keys, dtype=torch.int64)
            order = torch.argsort(keys)
            table = (keys[order].to(device), torch.tensor(values, dtype=torch.int64)[order].to(device))
            self._tables[device] = table
        return table

    def _to_token_array(self, batch):
        return self._standardize_inputs(batch).cpu().numpy()

    def _standardize_inputs(self, inputs):
        if isinstance(inputs, np.ndarray) and inputs.dtype.kind in "OUS" or isinstance(inputs, (str, bytes)):
            raise TypeError(
                f"IntegerLookup layer {self.name!r} expects integer inputs, got strings. Use StringLookup instead."
            )
        tensor = torch.as_tensor(inputs)
        if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype is torch.bool:
            raise TypeError(
                f"IntegerLookup layer {self.name!r} expects integer inputs, got dtype {tensor.dtype}. Cast the "
                "inputs to an integer dtype (e.g. int64)."
            )
        return tensor.to(torch.int64)

    def _lookup(self, inputs):
        keys, values = self._table(inputs.device)
        if keys.numel() == 0:
            return torch.full_like(inputs, -1)
        position = torch.searchsorted(keys, inputs).clamp_(max=keys.numel() - 1)
        found = keys[position] == inputs
        return torch.where(found, values[position], torch.full_like(inputs, -1))

    def _oov_hash(self, inputs, oov):
        return torch.remainder(inputs, self.num_oov_indices)

    def _inverted_output(self, tokens):
        return torch.as_tensor(tokens.astype(np.int64), device=self._device()).to(self._output_torch_dtype())

    def get_config(self):
        config = super().get_config()
        config["vocabulary_dtype"] = self.vocabulary_dtype
        return config

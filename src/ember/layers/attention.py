"""``Attention`` (Luong-style) and ``AdditiveAttention`` (Bahdanau-style) layers.

Both take ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to
``value``), score every query position against every key position, normalize
the scores with softmax over the key positions and return the weighted sum of
the values. Masked key positions get a large negative score (as Keras does, so
a fully masked row becomes uniform); masked query positions give zero outputs.
"""

import torch
import torch.nn.functional as F

from ember.layers.embedding import attach_mask, mask_of
from ember.layers.layer import Layer

__all__ = ["AdditiveAttention", "Attention", "apply_attention_scores"]

_SCORE_MODES = ("dot", "concat")


def apply_attention_scores(scores, value, value_mask=None, causal=False, dropout=0.0):
    """Softmax ``(B, T, S)`` scores over ``S`` (masking as described above) and weight ``value``.

    Returns the ``(B, T, Dv)`` result and the ``(B, T, S)`` attention distribution.
    """
    keep = None
    if value_mask is not None:
        keep = value_mask.to(torch.bool)[:, None, :]
    if causal:
        t, s = scores.shape[-2], scores.shape[-1]
        lower = torch.ones(t, s, dtype=torch.bool, device=scores.device).tril()[None]
        keep = lower if keep is None else keep & lower
    if keep is not None:
        large = 65504.0 if scores.dtype == torch.float16 else 1e9
        scores = scores - large * (~keep).to(scores.dtype)
    distribution = torch.softmax(scores, dim=-1)
    weights = F.dropout(distribution, dropout, training=True) if dropout > 0 else distribution
    return torch.matmul(weights, value), distribution


def _split_inputs(layer, inputs, mask):
    if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} expects a list [query, value] or [query, value, key], got "
            f"{type(inputs).__name__} of length {len(inputs) if isinstance(inputs, (list, tuple)) else 'n/a'}."
        )
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) == 3 else value
    for what, tensor in (("query", query), ("value", value), ("key", key)):
        if tensor.ndim != 3:
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r} expects a rank-3 `{what}` (batch, steps, features), got "
                f"shape {tuple(tensor.shape)}."
            )
    if mask is None:
        mask = [mask_of(query), mask_of(value)]
    if not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3):
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} `mask` must be a list [query_mask, value_mask], got {mask!r}."
        )
    return query, value, key, mask[0], mask[1]


class _BaseDenseAttention(Layer):
    """Shared call logic; subclasses implement ``_scores(query, key)``."""

    def __init__(self, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"{type(self).__name__} `dropout` must be a number in [0, 1), got {dropout!r}.")
        self.dropout = float(dropout)
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        query, value, key, query_mask, value_mask = _split_inputs(self, inputs, mask)
        scores = self._scores(query, key)
        dropout = self.dropout if training and self.dropout > 0 else 0.0
        result, distribution = apply_attention_scores(scores, value, value_mask, use_causal_mask, dropout)
        if query_mask is not None:
            result = result * query_mask.to(result.dtype)[..., None]
            attach_mask(result, query_mask)
        if return_attention_scores:
            return result, distribution
        return result

    def get_config(self):
        config = super().get_config()
        config.update(dropout=self.dropout, seed=self.seed)
        return config


class Attention(_BaseDenseAttention):
    """Dot-product attention layer, a.k.a. Luong-style attention.

    Scores are ``query @ key^T`` (``score_mode="dot"``) or
    ``sum(tanh(query + key), -1)`` over all query/key pairs (``"concat"``).

    Args:
        use_scale: Learn a scalar that multiplies the scores (``"dot"``) or
            the sums ``query + key`` inside the ``tanh`` (``"concat"``).
        score_mode: ``"dot"`` or ``"concat"``; ``"concat"`` also learns a
            scalar ``concat_score_weight`` multiplying the scores.
        dropout: Dropout rate on the attention distribution (training only).
        seed: Accepted for Keras compatibility (dropout uses torch's RNG).

    Call args:
        inputs: ``[query (B, T, D), value (B, S, Dv)]`` or
            ``[query, value, key (B, S, D)]``.
        mask: Optional ``[query_mask (B, T), value_mask (B, S)]`` booleans.
        return_attention_scores: Also return the ``(B, T, S)`` distribution.
        use_causal_mask: Forbid position ``t`` from attending to ``s > t``.

    Example:
        >>> Attention()([torch.ones(2, 3, 4), torch.ones(2, 5, 4)]).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        if score_mode not in _SCORE_MODES:
            raise ValueError(f"Attention `score_mode` must be one of {_SCORE_MODES}, got {score_mode!r}.")
        self.use_scale = use_scale
        self.score_mode = score_mode

    def build(self, input_shape):
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
        self.built = True

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-1, -2))
            return scores * self.scale if self.scale is not None else scores
        pairs = query[:, :, None, :] + key[:, None, :, :]
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * torch.tanh(pairs).sum(dim=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self):
        config = super().get_config()
        config.update(use_scale=self.use_scale, score_mode=self.score_mode)
        return config


class AdditiveAttention(_BaseDenseAttention):
    """Additive attention layer, a.k.a. Bahdanau-style attention.

    Scores are ``sum(scale * tanh(query + key), -1)`` over all query/key pairs.

    Args:
        use_scale: Learn a per-feature ``scale`` vector (``glorot_uniform``);
            without it the ``tanh`` terms are summed as they are.
        dropout: Dropout rate on the attention distribution (training only).
        seed: Accepted for Keras compatibility.

    Call args: as for ``Attention``.

    Example:
        >>> AdditiveAttention()([torch.ones(2, 3, 4), torch.ones(2, 5, 4)]).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(dropout=dropout, seed=seed, **kwargs)
        self.use_scale = use_scale

    def build(self, input_shape):
        self.scale = None
        if self.use_scale:
            dim = input_shape[0][-1]
            if dim is None:
                raise ValueError(
                    f"AdditiveAttention {self.name!r} needs a known query feature size, got shape {input_shape[0]}."
                )
            self.scale = self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform")
        self.built = True

    def _scores(self, query, key):
        terms = torch.tanh(query[:, :, None, :] + key[:, None, :, :])
        if self.scale is not None:
            terms = self.scale * terms
        return terms.sum(dim=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self):
        config = super().get_config()
        config["use_scale"] = self.use_scale
        return config

"""``MultiHeadAttention``: scaled dot-product attention over several learned projections.

Weights use Keras's layouts: the query/key/value kernels are
``(input_dim, num_heads, key_dim or value_dim)`` with biases ``(num_heads, dim)``
and the output kernel is ``(num_heads, value_dim, output_dim)`` with bias
``(output_dim,)``. A projection is one matmul on a free 2-D view of its kernel.
The attention itself runs in ``F.scaled_dot_product_attention`` unless the
attention probabilities are asked for.
"""

import math

import torch
import torch.nn.functional as F

from ember import constraints, initializers, regularizers
from ember.layers.core import regularization_config
from ember.layers.embedding import attach_mask, mask_of
from ember.layers.layer import Layer

__all__ = ["MultiHeadAttention", "attention_mask_bias", "combine_masks", "dot_product_attention", "project"]

# Added to the scores of masked positions before the softmax; afterwards masked
# probabilities are set to exactly 0 (so a fully masked query row attends to nothing).
_LARGE_NEGATIVE = {torch.float16: -3e4}


def attention_mask_bias(mask, dtype):
    """Additive score bias for a boolean ``mask`` (True = attend): 0 or a large negative number."""
    return (1.0 - mask.to(dtype)) * _LARGE_NEGATIVE.get(dtype, -1e9)


def dot_product_attention(query, key, value, mask=None, dropout=0.0, return_scores=False):
    """Attention of ``(B, H, T, D)`` queries over ``(B, H, S, D)`` keys/values.

    Scores are ``query @ key^T / sqrt(D)``, normalized with softmax over ``S``;
    where the boolean ``mask`` (broadcastable to ``(B, H, T, S)``, True =
    attend) is False the probability is 0. ``dropout`` applies to the
    probabilities. Returns the ``(B, H, T, Dv)`` output and the probabilities
    (before dropout) or ``None``.
    """
    bias = None if mask is None else attention_mask_bias(mask, query.dtype)
    if not return_scores:
        output = F.scaled_dot_product_attention(query, key, value, attn_mask=bias, dropout_p=dropout)
        if mask is not None:
            output = output * mask.any(dim=-1, keepdim=True).to(output.dtype)  # fully masked rows: 0
        return output, None
    scores = torch.matmul(query * (1.0 / math.sqrt(query.shape[-1])), key.transpose(-1, -2))
    if bias is not None:
        scores = scores + bias
    probabilities = torch.softmax(scores, dim=-1)
    if mask is not None:
        probabilities = probabilities * mask.to(probabilities.dtype)
    dropped = F.dropout(probabilities, dropout, training=True) if dropout > 0 else probabilities
    return torch.matmul(dropped, value), probabilities


def project(inputs, kernel, bias):
    """``(..., dim)`` through a ``(dim, heads, head_dim)`` kernel: one matmul on its 2-D view."""
    flat = F.linear(inputs, kernel.reshape(kernel.shape[0], -1).T)
    out = flat.reshape(*inputs.shape[:-1], kernel.shape[1], kernel.shape[2])
    return out if bias is None else out + bias


def combine_masks(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask):
    """The boolean ``(B, T, S)``-broadcastable mask (True = attend) or ``None``.

    Combines ``attention_mask`` with the query/value/key padding masks and the
    causal (lower-triangular) mask.
    """
    mask = None if attention_mask is None else torch.as_tensor(attention_mask, device=query.device).to(torch.bool)
    parts = []
    if query_mask is not None:
        parts.append(query_mask.to(torch.bool)[:, :, None])
    for padding in (value_mask, key_mask):
        if padding is not None:
            parts.append(padding.to(torch.bool)[:, None, :])
    if use_causal_mask:
        t, s = query.shape[1], value.shape[1]
        parts.append(torch.ones(t, s, dtype=torch.bool, device=query.device).tril()[None])
    for part in parts:
        mask = part if mask is None else mask & part
    return mask


def _as_tuple(value, what):
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise TypeError(f"MultiHeadAttention `{what}` must be an int or a tuple of ints, got {value!r}.")


def _positive_int(value, what):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"MultiHeadAttention `{what}` must be a positive integer, got {value!r}.")
    return value



def add_projection(layer, name, shape, fan_split):
    """A projection kernel (and bias) in Keras's layout, initialized as the 2-D matrix it acts as.

    Shared by the attention layers: ``shape[:fan_split]`` is the fan-in side.
    """
    init = layer.kernel_initializer

    def initialize(full_shape, dtype=None):
        matrix = (math.prod(full_shape[:fan_split]), math.prod(full_shape[fan_split:]))
        return torch.as_tensor(init(matrix, dtype=dtype)).reshape(full_shape)

    kernel = layer.add_weight(
        name=f"{name}_kernel", shape=shape, initializer=initialize,
        regularizer=layer.kernel_regularizer, constraint=layer.kernel_constraint,
    )
    bias = None
    if layer.use_bias:
        bias = layer.add_weight(
            name=f"{name}_bias", shape=shape[fan_split:], initializer=layer.bias_initializer,
            regularizer=layer.bias_regularizer, constraint=layer.bias_constraint,
        )
    return kernel, bias

class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017), as Keras's ``MultiHeadAttention``.

    Query, key and value are projected to ``num_heads`` heads, each head attends
    with scaled dot products, and the heads are projected back to
    ``output_shape`` (default: the query's last dimension).

    Args:
        num_heads: Number of attention heads.
        key_dim: Size of each head's query and key projections.
        value_dim: Size of each head's value projection (default ``key_dim``).
        dropout: Dropout rate on the attention probabilities (training only).
        use_bias: Whether the projections have biases.
        output_shape: Size of the output's last dimension (int or 1-tuple).
        attention_axes: Axes attended over (default: every axis between the
            batch axis and the feature axis).
        kernel_initializer, bias_initializer: Initializers of the projections.
        kernel_regularizer, bias_regularizer, activity_regularizer,
            kernel_constraint, bias_constraint: As for ``Dense``.
        seed: Accepted for Keras compatibility (dropout uses torch's RNG).

    Call args:
        query: ``(B, T, dim)``; value: ``(B, S, dim_v)``; key: ``(B, S, dim_k)``
            (default: ``value``).
        attention_mask: Boolean ``(B, T, S)`` (True = attend), broadcastable.
        return_attention_scores: Also return the ``(B, H, T, S)`` probabilities.
        training: Whether dropout is active.
        use_causal_mask: Forbid position ``t`` from attending to ``s > t``.

    Example:
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> mha(torch.ones(1, 3, 8), torch.ones(1, 5, 8)).shape
        torch.Size([1, 3, 8])
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = _positive_int(num_heads, "num_heads")
        self.key_dim = _positive_int(key_dim, "key_dim")
        self.value_dim = _positive_int(value_dim, "value_dim") if value_dim is not None else key_dim
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"MultiHeadAttention `dropout` must be a number in [0, 1), got {dropout!r}.")
        self.dropout = float(dropout)
        self.use_bias = use_bias
        self._output_shape = _as_tuple(output_shape, "output_shape")
        if self._output_shape is not None and len(self._output_shape) != 1:
            raise ValueError(
                f"MultiHeadAttention `output_shape` must be an int or a 1-tuple, got {output_shape!r}."
            )
        self.attention_axes = _as_tuple(attention_axes, "attention_axes")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self.supports_masking = True

    # ------------------------------------------------------------------ build
    def _projection(self, name, shape, fan_split):
        return add_projection(self, name, shape, fan_split)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for what, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape is None or len(shape) < 3 or shape[-1] is None:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r} needs `{what}` of rank >= 3 (batch, positions..., "
                    f"features) with a known last dimension, got shape {shape}."
                )
        if len(query_shape) != len(value_shape) or len(key_shape) != len(value_shape):
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: query, value and key must have the same rank, got "
                f"shapes {query_shape}, {value_shape} and {key_shape}."
            )
        rank = len(query_shape)
        axes = tuple(range(1, rank - 1)) if self.attention_axes is None else self.attention_axes
        axes = tuple(sorted(a % rank for a in axes))
        if not axes or any(a == 0 or a == rank - 1 for a in axes):
            raise ValueError(
                f"MultiHeadAttention {self.name!r} `attention_axes` must be axes between the batch and "
                f"feature axes of inputs of rank {rank}, got {self.attention_axes}."
            )
        self._axes = axes
        self.attention_axes = axes
        heads = self.num_heads
        output_dim = self._output_shape[0] if self._output_shape else query_shape[-1]
        self.query_kernel, self.query_bias = self._projection("query", (query_shape[-1], heads, self.key_dim), 1)
        self.key_kernel, self.key_bias = self._projection("key", (key_shape[-1], heads, self.key_dim), 1)
        self.value_kernel, self.value_bias = self._projection("value", (value_shape[-1], heads, self.value_dim), 1)
        self.output_kernel, self.output_bias = self._projection(
            "attention_output", (heads, self.value_dim, output_dim), 2
        )
        self.built = True

    # ------------------------------------------------------------------ call
    def _to_heads(self, x):
        """``(B, a1.., ak, H, D)`` -> ``(B', H, T', D)`` with the attention axes flattened into ``T'``."""
        rank = x.ndim - 1  # the rank of the layer input
        others = [a for a in range(1, rank - 1) if a not in self._axes]
        order = [0] + others + [rank - 1] + list(self._axes) + [rank]
        x = x.permute(order)
        batch_shape = x.shape[: 1 + len(others)]
        attended_shape = x.shape[2 + len(others) : -1]
        x = x.reshape(math.prod(batch_shape), self.num_heads, math.prod(attended_shape), x.shape[-1])
        return x, tuple(batch_shape), tuple(attended_shape), order

    def _mask(self, query, value, masks, attention_mask, use_causal_mask):
        if query.ndim != 3 and (use_causal_mask or any(m is not None for m in masks)):
            raise ValueError(
                f"MultiHeadAttention {self.name!r} supports causal and input masks only for inputs of rank 3, "
                f"got query shape {tuple(query.shape)}."
            )
        return combine_masks(query, value, *masks, attention_mask, use_causal_mask)

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        key = value if key is None else key
        query_mask = mask_of(query) if query_mask is None else query_mask
        value_mask = mask_of(value) if value_mask is None else value_mask
        key_mask = mask_of(key) if key_mask is None else key_mask
        if query.shape[-1] != self.query_kernel.shape[0] or value.shape[-1] != self.value_kernel.shape[0]:
            raise ValueError(
                f"MultiHeadAttention {self.name!r} was built for query/value feature sizes "
                f"{self.query_kernel.shape[0]}/{self.value_kernel.shape[0]}, got shapes {tuple(query.shape)} and "
                f"{tuple(value.shape)}."
            )
        mask = self._mask(query, value, (query_mask, value_mask, key_mask), attention_mask, use_causal_mask)
        q, batch_shape, query_axes_shape, order = self._to_heads(project(query, self.query_kernel, self.query_bias))
        k, _, key_axes_shape, _ = self._to_heads(project(key, self.key_kernel, self.key_bias))
        v, _, _, _ = self._to_heads(project(value, self.value_kernel, self.value_bias))
        if mask is not None:
            if mask.ndim != 3:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r} `attention_mask` must have shape (B, T, S), got "
                    f"shape {tuple(mask.shape)}."
                )
            mask = mask[:, None]  # broadcast over heads
        dropout = self.dropout if training and self.dropout > 0 else 0.0
        attended, scores = dot_product_attention(q, k, v, mask, dropout, return_scores=return_attention_scores)
        # (B', H, T', Dv) -> the permuted layout of _to_heads -> (B, a1.., ak, H, Dv).
        attended = attended.reshape(*batch_shape, self.num_heads, *query_axes_shape, self.value_dim)
        attended = self._restore_axes(attended, order)
        output = torch.tensordot(attended, self.output_kernel, dims=2)
        if self.output_bias is not None:
            output = output + self.output_bias
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(output) / output.shape[0])
        if query_mask is not None:
            attach_mask(output, query_mask)
        if return_attention_scores:
            return output, scores.reshape(*batch_shape, self.num_heads, *query_axes_shape, *key_axes_shape)
        return output

    def _restore_axes(self, attended, order):
        """Undo ``_to_heads``'s permutation (heads and value dim are the last two axes of ``order``)."""
        inverse = [0] * len(order)
        for position, axis in enumerate(order):
            inverse[axis] = position
        return attended.permute(inverse)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        output_dim = self._output_shape[0] if self._output_shape else query_shape[-1]
        return tuple(query_shape[:-1]) + (output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            value_dim=self.value_dim,
            dropout=self.dropout,
            use_bias=self.use_bias,
            output_shape=self._output_shape,
            attention_axes=self.attention_axes,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            seed=self.seed,
            **regularization_config(self),
        )
        return config

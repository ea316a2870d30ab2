"""``GroupQueryAttention``: multi-head attention where groups of query heads share key/value heads.

With ``num_key_value_heads == num_query_heads`` it is multi-head attention;
with one key/value head it is multi-query attention. Key/value head ``j``
serves query heads ``j * g .. (j + 1) * g - 1`` (``g`` = query heads per key/value
head). Weights use Keras's layouts: query kernel ``(dim, num_query_heads,
head_dim)``, key/value kernels ``(dim, num_key_value_heads, head_dim)``, output
kernel ``(num_query_heads, head_dim, dim)``.
"""


import torch

from ember import constraints, initializers, regularizers
from ember.layers.core import regularization_config
from ember.layers.embedding import attach_mask, mask_of
from ember.layers.layer import Layer
from ember.layers.multi_head_attention import add_projection, combine_masks, dot_product_attention, project

__all__ = ["GroupQueryAttention"]


def _positive_int(value, what):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"GroupQueryAttention `{what}` must be a positive integer, got {value!r}.")
    return value


class GroupQueryAttention(Layer):
    """Grouped-query attention (Ainslie et al., 2023), as Keras's ``GroupQueryAttention``.

    Args:
        head_dim: Size of each attention head.
        num_query_heads: Number of query heads.
        num_key_value_heads: Number of key and value heads; must divide
            ``num_query_heads``.
        dropout: Dropout rate on the attention probabilities (training only).
        use_bias: Whether the projections have biases.
        kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint,
            bias_constraint: As for ``Dense``.
        seed: Accepted for Keras compatibility (dropout uses torch's RNG).

    Call args:
        query ``(B, T, dim)``, value ``(B, S, dim_v)``, key (default ``value``),
        query_mask/value_mask/key_mask, attention_mask ``(B, T, S)`` (True =
        attend), return_attention_scores (also return ``(B, num_query_heads,
        T, S)`` probabilities), training, use_causal_mask: as for
        ``MultiHeadAttention``.

    Example:
        >>> gqa = GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
        >>> gqa(torch.ones(1, 3, 8), torch.ones(1, 5, 8)).shape
        torch.Size([1, 3, 8])
    """

    def __init__(
        self,
        head_dim,
        num_query_heads,
        num_key_value_heads,
        dropout=0.0,
        use_bias=True,
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
        self.head_dim = _positive_int(head_dim, "head_dim")
        self.num_query_heads = _positive_int(num_query_heads, "num_query_heads")
        self.num_key_value_heads = _positive_int(num_key_value_heads, "num_key_value_heads")
        if num_query_heads % num_key_value_heads:
            raise ValueError(
                f"GroupQueryAttention `num_query_heads` ({num_query_heads}) must be a multiple of "
                f"`num_key_value_heads` ({num_key_value_heads})."
            )
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"GroupQueryAttention `dropout` must be a number in [0, 1), got {dropout!r}.")
        self.dropout = float(dropout)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self.supports_masking = True

    def _projection(self, name, shape, fan_split):
        return add_projection(self, name, shape, fan_split)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for what, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape is None or len(shape) != 3 or shape[-1] is None:
                raise ValueError(
                    f"GroupQueryAttention {self.name!r} needs a rank-3 `{what}` (batch, steps, features) with a "
                    f"known last dimension, got shape {shape}."
                )
        dim, kv_heads, q_heads = query_shape[-1], self.num_key_value_heads, self.num_query_heads
        self.query_kernel, self.query_bias = self._projection("query", (dim, q_heads, self.head_dim), 1)
        self.key_kernel, self.key_bias = self._projection("key", (key_shape[-1], kv_heads, self.head_dim), 1)
        self.value_kernel, self.value_bias = self._projection("value", (value_shape[-1], kv_heads, self.head_dim), 1)
        self.output_kernel, self.output_bias = self._projection("attention_output", (q_heads, self.head_dim, dim), 2)
        self.built = True

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
        if query.ndim != 3 or query.shape[-1] != self.query_kernel.shape[0]:
            raise ValueError(
                f"GroupQueryAttention {self.name!r} was built for queries (batch, steps, "
                f"{self.query_kernel.shape[0]}), got shape {tuple(query.shape)}."
            )
        mask = combine_masks(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask)
        if mask is not None:
            if mask.ndim != 3:
                raise ValueError(
                    f"GroupQueryAttention {self.name!r} `attention_mask` must have shape (B, T, S), got shape "
                    f"{tuple(mask.shape)}."
                )
            mask = mask[:, None]
        groups = self.num_query_heads // self.num_key_value_heads
        q = project(query, self.query_kernel, self.query_bias).transpose(1, 2)
        k = project(key, self.key_kernel, self.key_bias).transpose(1, 2).repeat_interleave(groups, dim=1)
        v = project(value, self.value_kernel, self.value_bias).transpose(1, 2).repeat_interleave(groups, dim=1)
        dropout = self.dropout if training and self.dropout > 0 else 0.0
        attended, scores = dot_product_attention(q, k, v, mask, dropout, return_scores=return_attention_scores)
        output = torch.tensordot(attended.transpose(1, 2), self.output_kernel, dims=2)
        if self.output_bias is not None:
            output = output + self.output_bias
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(output) / output.shape[0])
        if query_mask is not None:
            attach_mask(output, query_mask)
        if return_attention_scores:
            return output, scores
        return output

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return tuple(query_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            head_dim=self.head_dim,
            num_query_heads=self.num_query_heads,
            num_key_value_heads=self.num_key_value_heads,
            dropout=self.dropout,
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            seed=self.seed,
            **regularization_config(self),
        )
        return config

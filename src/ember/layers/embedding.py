"""``Embedding``: integer indices to dense vectors, with an optional padding mask.

Masks follow Keras's convention: a layer that produces a mask attaches it to
its output tensor as the attribute ``_keras_mask`` (a boolean tensor shaped
like the output without its last axis); layers that consume masks (the
recurrent layers, the losses) read it from their input.
"""

import torch
import torch.nn.functional as F

from ember import constraints, initializers, regularizers
from ember.layers.layer import Layer

__all__ = ["Embedding", "MASK_ATTRIBUTE", "attach_mask", "mask_of"]

#: Attribute under which a boolean mask travels on a tensor (Keras's convention).
MASK_ATTRIBUTE = "_keras_mask"

MSG_INDEX_OUT_OF_RANGE = (
    "Embedding layer {name!r} got index {bad} in its input, but its valid indices are 0 to {last} "
    "(input_dim={input_dim}). Make `input_dim` larger than the largest index (vocabulary size + 1 "
    "when 0 is reserved for padding), or fix the input."
)


def mask_of(tensor):
    """The mask carried by ``tensor`` (``None`` if it carries none)."""
    return getattr(tensor, MASK_ATTRIBUTE, None)


def attach_mask(tensor, mask):
    """Attach ``mask`` to ``tensor`` as ``_keras_mask`` (no-op for ``None``); returns ``tensor``."""
    if mask is not None and isinstance(tensor, torch.Tensor):
        try:
            setattr(tensor, MASK_ATTRIBUTE, mask)
        except (AttributeError, RuntimeError):  # some tensor subclasses refuse new attributes
            pass
    return tensor


class Embedding(Layer):
    """Turns non-negative integer indices into dense vectors of size ``output_dim``.

    Args:
        input_dim: Size of the vocabulary: indices must lie in ``[0, input_dim)``.
        output_dim: Size of each embedding vector.
        embeddings_initializer: Initializer of the ``(input_dim, output_dim)``
            table (``"uniform"``: uniform in ``[-0.05, 0.05]``).
        embeddings_regularizer: Optional regularizer of the table.
        embeddings_constraint: Optional constraint of the table.
        mask_zero: If ``True``, index 0 is padding: the output carries a boolean
            mask (``inputs != 0``) as ``output._keras_mask`` for downstream
            layers (recurrent layers skip masked steps, losses ignore them).
        weights: Optional initial table, a list holding one array.

    Shape:
        Input ``(batch, ...)`` integers (floats are cast); output
        ``(batch, ..., output_dim)``.

    Example:
        >>> Embedding(10, 3)(torch.tensor([[1, 2, 0]])).shape
        torch.Size([1, 3, 3])
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        **kwargs,
    ):
        kwargs.pop("input_length", None)
        super().__init__(**kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Embedding `{arg}` must be a positive integer, got {arg}={value!r}.")
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self._initial_weights = weights

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs):
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(inputs)
        if inputs.is_floating_point() or inputs.dtype == torch.bool:
            inputs = inputs.long()
        try:
            outputs = F.embedding(inputs, self.embeddings)
        except IndexError as error:
            # Only the failing call reads values back; a valid call never synchronises.
            bad = int(inputs.max()) if int(inputs.max()) >= self.input_dim else int(inputs.min())
            raise IndexError(
                MSG_INDEX_OUT_OF_RANGE.format(
                    name=self.name, bad=bad, last=self.input_dim - 1, input_dim=self.input_dim
                )
            ) from error
        return attach_mask(outputs, self.compute_mask(inputs))

    def compute_mask(self, inputs, mask=None):
        """``inputs != 0`` when ``mask_zero`` is set, else ``None``."""
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            input_dim=self.input_dim,
            output_dim=self.output_dim,
            embeddings_initializer=initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=_serialize_or_keep(self.embeddings_regularizer, regularizers),
            embeddings_constraint=_serialize_or_keep(self.embeddings_constraint, constraints),
            mask_zero=self.mask_zero,
        )
        return config


def _serialize_or_keep(obj, package):
    if obj is None:
        return None
    try:
        return package.serialize(obj)
    except (NotImplementedError, ValueError, TypeError, AttributeError):
        return obj

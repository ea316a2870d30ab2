"""Merge layers: ``Concatenate`` / ``concatenate`` and ``Add`` / ``add``.

They take a list of tensors as their single input, like Keras's merge layers,
and work on symbolic ``ember.Input`` tensors with unknown (``None``)
dimensions.
"""

import torch

from ember.layers.layer import Layer

__all__ = ["Add", "Concatenate", "add", "broadcast_merge_shape", "concatenate", "concatenate_output_shape"]


# ---------------------------------------------------------------------- pure shape math
def _merge_dims(dims, describe):
    """One dimension shared by several inputs: ``None`` (unknown) matches anything."""
    known = {d for d in dims if d is not None}
    if len(known) > 1:
        raise ValueError(describe())
    return known.pop() if known else None


def concatenate_output_shape(shapes, axis):
    """Shape of ``torch.cat`` of tensors of ``shapes`` along ``axis``.

    Dimensions other than ``axis`` must agree (``None`` matches anything); the
    ``axis`` dimension is the sum, or ``None`` if any input's is unknown.

    Example:
        >>> concatenate_output_shape([(None, 3), (None, 4)], axis=-1)
        (None, 7)
    """
    shapes = [tuple(s) for s in shapes]
    rank = len(shapes[0])
    requested_axis = axis

    def mismatch():
        return (
            f"Concatenate needs inputs of the same rank whose shapes match except on the concatenation "
            f"axis (axis={requested_axis}); got shapes {shapes}."
        )

    if any(len(s) != rank for s in shapes):
        raise ValueError(mismatch())
    if not -rank <= axis < rank:
        raise ValueError(f"Concatenate `axis` must be in [{-rank}, {rank}) for inputs of rank {rank}, got axis={axis}.")
    axis %= rank
    out = []
    for i in range(rank):
        dims = [s[i] for s in shapes]
        if i == axis:
            out.append(None if None in dims else sum(dims))
        else:
            out.append(_merge_dims(dims, mismatch))
    return tuple(out)


def broadcast_merge_shape(shapes):
    """Output shape of an elementwise merge (``Add``) of tensors of ``shapes``.

    The first axis is the batch and must agree. The other axes broadcast,
    aligned from the right; an input of lower rank gets size-1 axes inserted
    after its batch axis. ``None`` means unknown.

    Example:
        >>> broadcast_merge_shape([(None, 1, 5), (None, 4, 5)])
        (None, 4, 5)
    """
    shapes = [tuple(s) for s in shapes]

    def batch_mismatch():
        return f"Cannot merge tensors with different batch sizes; got shapes {shapes}."

    def mismatch():
        return (
            f"Inputs of an elementwise merge must have broadcast-compatible shapes (each axis equal, 1 or None), "
            f"got shapes {shapes}."
        )

    if any(len(s) == 0 for s in shapes):
        raise ValueError(f"Merge inputs need a batch axis, got shapes {shapes}.")
    batch = _merge_dims([s[0] for s in shapes], batch_mismatch)
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(1, rank):
        dims = [s[i - rank + len(s)] if i - rank + len(s) >= 1 else 1 for s in shapes]
        sizes = {d for d in dims if d is not None and d != 1}
        if len(sizes) > 1:
            raise ValueError(mismatch())
        if sizes:
            out.append(sizes.pop())
        else:
            out.append(None if None in dims else 1)
    return (batch, *out)


def _check_list_of_shapes(layer, input_shape, minimum):
    is_list = isinstance(input_shape, (list, tuple)) and all(isinstance(s, (list, tuple)) for s in input_shape)
    if not is_list or not input_shape:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r} must be called on a list of tensors, e.g. "
            f"{type(layer).__name__}()([x1, x2]); got input shape {input_shape}."
        )
    if len(input_shape) < minimum:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r} must be called on a list of at least {minimum} tensors, got "
            f"{len(input_shape)} (shapes {list(input_shape)})."
        )


def _check_list_of_tensors(layer, inputs, minimum):
    if not isinstance(inputs, (list, tuple)):
        shape = tuple(inputs.shape) if hasattr(inputs, "shape") else type(inputs).__name__
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r} must be called on a list of tensors, e.g. "
            f"{type(layer).__name__}()([x1, x2]); got a single input of shape {shape}."
        )
    if len(inputs) < minimum:
        raise ValueError(
            f"{type(layer).__name__} layer {layer.name!r} must be called on a list of at least {minimum} tensors, got "
            f"{len(inputs)}."
        )


# ---------------------------------------------------------------------- layers
class Concatenate(Layer):
    """Concatenates a list of tensors along ``axis``.

    Args:
        axis: Concatenation axis (``-1``: the last one).

    Shape:
        Inputs of one rank whose shapes agree except on ``axis``; the output's
        ``axis`` size is the sum of theirs.

    Example:
        >>> Concatenate()([torch.ones(2, 3), torch.ones(2, 4)]).shape
        torch.Size([2, 7])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"Concatenate `axis` must be an integer, got axis={axis!r}.")
        self.axis = axis

    def build(self, input_shape):
        _check_list_of_shapes(self, input_shape, minimum=1)
        concatenate_output_shape(input_shape, self.axis)
        self.built = True

    def call(self, inputs):
        _check_list_of_tensors(self, inputs, minimum=1)
        try:
            return torch.cat(list(inputs), dim=self.axis)
        except (RuntimeError, IndexError):
            # Re-raise torch's error with the layer's explanation.
            concatenate_output_shape([tuple(x.shape) for x in inputs], self.axis)
            raise

    def compute_output_shape(self, input_shape):
        _check_list_of_shapes(self, input_shape, minimum=1)
        return concatenate_output_shape(input_shape, self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Add(Layer):
    """Elementwise sum of a list of at least two tensors.

    Shapes broadcast as in ``broadcast_merge_shape``: the batch axis must
    agree, other axes may be 1, and a lower-rank input gets size-1 axes
    inserted after its batch axis.

    Shape:
        Inputs ``(batch, ...)`` of compatible shapes; output the broadcast shape.

    Example:
        >>> Add()([torch.ones(2, 3), torch.ones(2, 3)]).shape
        torch.Size([2, 3])
    """

    def build(self, input_shape):
        _check_list_of_shapes(self, input_shape, minimum=2)
        broadcast_merge_shape(input_shape)
        self.built = True

    def call(self, inputs):
        _check_list_of_tensors(self, inputs, minimum=2)
        shape = inputs[0].shape
        if any(x.shape != shape for x in inputs[1:]):
            broadcast_merge_shape([tuple(x.shape) for x in inputs])  # raises a clear error on mismatch
            rank = max(x.ndim for x in inputs)
            inputs = [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in inputs]
        outputs = inputs[0] + inputs[1]
        for x in inputs[2:]:
            outputs = outputs + x
        return outputs

    def compute_output_shape(self, input_shape):
        _check_list_of_shapes(self, input_shape, minimum=2)
        return broadcast_merge_shape(input_shape)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of ``Concatenate``: ``Concatenate(axis, **kwargs)(inputs)``.

    Example:
        >>> concatenate([torch.ones(2, 3), torch.ones(2, 4)]).shape
        torch.Size([2, 7])
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    """Functional form of ``Add``: ``Add(**kwargs)(inputs)``.

    Example:
        >>> add([torch.ones(2, 3), torch.ones(2, 3)]).shape
        torch.Size([2, 3])
    """
    return Add(**kwargs)(inputs)

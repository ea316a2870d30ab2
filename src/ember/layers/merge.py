"""Merge layers: ``Concatenate``, ``Add``, ``Subtract``, ``Multiply``, ``Average``,
``Maximum``, ``Minimum``, ``Dot`` and their functional forms (``add``, ...).

They take a list of tensors as their single input, like Keras's merge layers,
and work on symbolic ``ember.Input`` tensors with unknown (``None``)
dimensions.
"""

import torch

from ember.layers.layer import Layer

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "batch_dot",
    "batch_dot_output_shape",
    "broadcast_merge_shape",
    "concatenate",
    "concatenate_output_shape",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]


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


def batch_dot_output_shape(shape1, shape2, axes):
    """Shape of ``batch_dot`` of tensors of ``shape1`` and ``shape2`` contracted on ``axes``.

    The batch axes must agree; the result holds the first input's other axes,
    then the second's, and is at least ``(batch, 1)``.

    Example:
        >>> batch_dot_output_shape((None, 3, 4), (None, 4, 5), (2, 1))
        (None, 3, 5)
    """
    batch = _merge_dims(
        [shape1[0], shape2[0]], lambda: f"Dot inputs must have the same batch size, got shapes {shape1} and {shape2}."
    )
    rest = [d for i, d in enumerate(shape1) if i not in (0, axes[0])]
    rest += [d for i, d in enumerate(shape2) if i not in (0, axes[1])]
    return (batch, *rest) if rest else (batch, 1)


def batch_dot(x, y, axes):
    """Per-sample dot product of ``x`` and ``y`` over ``x``'s axis ``axes[0]`` and ``y``'s ``axes[1]``.

    Args:
        x: Tensor ``(batch, ...)``.
        y: Tensor ``(batch, ...)``.
        axes: Two non-negative axes, neither the batch axis.

    Returns:
        Tensor of shape ``batch_dot_output_shape(x.shape, y.shape, axes)``.
    """
    x = x.movedim(axes[0], -1)
    y = y.movedim(axes[1], 1)
    left, right = x.shape[1:-1], y.shape[2:]
    out = torch.bmm(x.reshape(x.shape[0], -1, x.shape[-1]), y.reshape(y.shape[0], y.shape[1], -1))
    out = out.reshape((x.shape[0], *left, *right))
    return out.unsqueeze(1) if out.ndim == 1 else out


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
def _input_masks(inputs):
    return [getattr(x, "_keras_mask", None) for x in inputs]


def _attach(outputs, mask):
    if mask is not None and isinstance(outputs, torch.Tensor):
        outputs._keras_mask = mask
    return outputs


def _all_masks(inputs):
    """Keras's merged mask: a step is kept only where every masked input keeps it (None if none is masked)."""
    masks = [m for m in _input_masks(inputs) if m is not None]
    if not masks:
        return None
    merged = masks[0]
    for m in masks[1:]:
        merged = merged & m
    return merged


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
            return _attach(torch.cat(list(inputs), dim=self.axis), self._concatenated_mask(inputs))
        except (RuntimeError, IndexError):
            # Re-raise torch's error with the layer's explanation.
            concatenate_output_shape([tuple(x.shape) for x in inputs], self.axis)
            raise

    def _concatenated_mask(self, inputs):
        masks = _input_masks(inputs)
        if all(m is None for m in masks):
            return None
        rank = inputs[0].ndim
        axis = self.axis % rank
        mask_rank = next(m for m in masks if m is not None).ndim
        if axis >= mask_rank:  # joining features: a step is kept where every input keeps it
            return _all_masks(inputs)
        # joining along a masked (time) axis: the masks join too; unmasked inputs count as all-kept
        filled = [m if m is not None else torch.ones(x.shape[:mask_rank], dtype=torch.bool, device=x.device)
                  for m, x in zip(masks, inputs)]
        return torch.cat(filled, dim=axis)

    def compute_output_shape(self, input_shape):
        _check_list_of_shapes(self, input_shape, minimum=1)
        return concatenate_output_shape(input_shape, self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class BaseElementwiseMerge(Layer):
    """Shared implementation of the elementwise merges; subclasses set ``_combine``
    (a binary torch function folded over the inputs) and may override ``_finish``.

    Shapes broadcast as in ``broadcast_merge_shape``. Not meant to be
    subclassed outside this module.
    """

    _combine = None
    _min_inputs = 2
    _max_inputs = None

    def _check_count(self, count, shapes):
        if self._max_inputs is not None and count > self._max_inputs:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} must be called on exactly {self._max_inputs} tensors, "
                f"got {count} (shapes {shapes})."
            )

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def _finish(self, outputs, count):
        return outputs

    def call(self, inputs):
        _check_list_of_tensors(self, inputs, minimum=self._min_inputs)
        self._check_count(len(inputs), [tuple(x.shape) for x in inputs])
        shape = inputs[0].shape
        if any(x.shape != shape for x in inputs[1:]):
            self.compute_output_shape([tuple(x.shape) for x in inputs])  # raises a clear error on mismatch
            rank = max(x.ndim for x in inputs)
            inputs = [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in inputs]
        outputs = inputs[0]
        for x in inputs[1:]:
            outputs = self._combine(outputs, x)
        return _attach(self._finish(outputs, len(inputs)), _all_masks(inputs))

    def compute_output_shape(self, input_shape):
        _check_list_of_shapes(self, input_shape, minimum=self._min_inputs)
        self._check_count(len(input_shape), list(input_shape))
        try:
            return broadcast_merge_shape(input_shape)
        except ValueError as error:
            raise ValueError(f"{type(self).__name__} layer {self.name!r}: {error}") from None


class Add(BaseElementwiseMerge):
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

    _combine = staticmethod(torch.add)


class Subtract(BaseElementwiseMerge):
    """Elementwise difference ``inputs[0] - inputs[1]`` of exactly two tensors.

    Shapes broadcast as in ``Add``.

    Example:
        >>> Subtract()([torch.ones(2, 3), torch.ones(2, 3)]).shape
        torch.Size([2, 3])
    """

    _combine = staticmethod(torch.sub)
    _max_inputs = 2


class Multiply(BaseElementwiseMerge):
    """Elementwise product of a list of at least two tensors (shapes broadcast as in ``Add``).

    Example:
        >>> Multiply()([torch.ones(2, 3), torch.ones(2, 3)]).shape
        torch.Size([2, 3])
    """

    _combine = staticmethod(torch.mul)


class Average(BaseElementwiseMerge):
    """Elementwise mean of a list of at least two tensors (shapes broadcast as in ``Add``).

    Example:
        >>> Average()([torch.ones(2, 3), torch.zeros(2, 3)])[0, 0].item()
        0.5
    """

    _combine = staticmethod(torch.add)

    def _finish(self, outputs, count):
        return outputs / count


class Maximum(BaseElementwiseMerge):
    """Elementwise maximum of a list of at least two tensors (shapes broadcast as in ``Add``).

    Example:
        >>> Maximum()([torch.ones(2, 3), torch.zeros(2, 3)])[0, 0].item()
        1.0
    """

    _combine = staticmethod(torch.maximum)


class Minimum(BaseElementwiseMerge):
    """Elementwise minimum of a list of at least two tensors (shapes broadcast as in ``Add``).

    Example:
        >>> Minimum()([torch.ones(2, 3), torch.zeros(2, 3)])[0, 0].item()
        0.0
    """

    _combine = staticmethod(torch.minimum)


class Dot(Layer):
    """Per-sample dot product of two tensors along ``axes``.

    Args:
        axes: One axis for both inputs, or a pair ``(axis_of_first,
            axis_of_second)``; negative values count from the end. The batch
            axis cannot be contracted.
        normalize: L2-normalize both inputs along ``axes`` first, so that the
            result of two vectors is their cosine similarity.

    Shape:
        Two inputs ``(batch, ...)`` whose ``axes`` sizes agree; output the
        first input's remaining axes then the second's, at least ``(batch, 1)``.

    Example:
        >>> Dot(axes=1)([torch.ones(2, 3), torch.ones(2, 3)]).shape
        torch.Size([2, 1])
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        pair = (axes, axes) if isinstance(axes, int) else tuple(axes) if isinstance(axes, (list, tuple)) else None
        if pair is None or len(pair) != 2 or any(not isinstance(a, int) or isinstance(a, bool) for a in pair):
            raise ValueError(f"Dot `axes` must be an integer or a pair of integers, got axes={axes!r}.")
        self.axes = axes if isinstance(axes, int) else pair
        self.normalize = bool(normalize)

    def _resolve(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) != 2:
            count = len(shapes) if isinstance(shapes, (list, tuple)) else 1
            raise ValueError(f"Dot layer {self.name!r} must be called on a list of exactly 2 tensors, got {count}.")
        shape1, shape2 = (tuple(s) for s in shapes)
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        axes = []
        for shape, axis in zip((shape1, shape2), pair):
            if len(shape) < 2 or not -len(shape) <= axis < len(shape) or axis % len(shape) == 0:
                raise ValueError(
                    f"Dot layer {self.name!r}: axes={self.axes!r} must name a non-batch axis of inputs of shapes "
                    f"{shape1} and {shape2}."
                )
            axes.append(axis % len(shape))
        size1, size2 = shape1[axes[0]], shape2[axes[1]]
        if size1 is not None and size2 is not None and size1 != size2:
            raise ValueError(
                f"Dot layer {self.name!r}: incompatible input shapes {shape1} and {shape2}: axis {axes[0]} of the "
                f"first has size {size1} but axis {axes[1]} of the second has size {size2}."
            )
        return shape1, shape2, tuple(axes)

    def build(self, input_shape):
        self._resolve(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return batch_dot_output_shape(*self._resolve(input_shape))

    def call(self, inputs):
        _check_list_of_tensors(self, inputs, minimum=2)
        _, _, axes = self._resolve([tuple(x.shape) for x in inputs])
        x, y = inputs
        if self.normalize:
            x = torch.nn.functional.normalize(x, dim=axes[0], eps=1e-7)
            y = torch.nn.functional.normalize(y, dim=axes[1], eps=1e-7)
        return batch_dot(x, y, axes)

    def get_config(self):
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
        return config


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


def subtract(inputs, **kwargs):
    """Functional form of ``Subtract``: ``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of ``Multiply``: ``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of ``Average``: ``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of ``Maximum``: ``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of ``Minimum``: ``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional form of ``Dot``: ``Dot(axes, normalize, **kwargs)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)

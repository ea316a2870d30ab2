"""Reshaping layers: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``, and the
pass-through layers ``Identity`` and ``Lambda``."""

import math

import torch

from ember.backend.scope import in_symbolic_scope
from ember.layers.embedding import attach_mask, mask_of
from ember.layers.layer import Layer

__all__ = ["Flatten", "Identity", "Lambda", "Permute", "RepeatVector", "Reshape"]


class Flatten(Layer):
    """Flattens every dimension but the batch one: ``(N, d1, d2, ...)`` → ``(N, d1*d2*...)``.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``; with
            channels_first, inputs are first moved to channels_last order so the
            flattened order matches Keras's.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"`data_format` must be 'channels_last' or 'channels_first', got {data_format!r}.")
        self.data_format = data_format or "channels_last"
        self.built = True

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.movedim(1, -1)
        return torch.flatten(inputs, 1) if inputs.ndim > 1 else inputs.unsqueeze(1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size if rest else 1)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (batch dimension kept; one ``-1`` allowed)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        if sum(1 for d in target_shape if d == -1) > 1:
            raise ValueError(f"Reshape `target_shape` may contain at most one -1, got {target_shape}.")
        self.target_shape = target_shape
        self.built = True

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        if -1 not in self.target_shape:
            return (input_shape[0],) + self.target_shape
        known = math.prod(d for d in self.target_shape if d != -1)
        rest = input_shape[1:]
        if any(d is None for d in rest):
            missing = None
        else:
            total = math.prod(rest)
            if total % known:
                raise ValueError(f"Cannot reshape input of shape {input_shape} to {self.target_shape}.")
            missing = total // known
        return (input_shape[0],) + tuple(missing if d == -1 else d for d in self.target_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Identity(Layer):
    """Returns its input unchanged (a placeholder layer); its mask passes through.

    Example:
        >>> Identity()(torch.ones(2, 3)).shape
        torch.Size([2, 3])
    """

    supports_masking = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class Lambda(Layer):
    """Wraps a function of tensors as a layer: ``call(x)`` returns ``function(x, **arguments)``.

    A model with a ``Lambda`` layer saves only when ``function`` has an
    importable name (a module-level ``def``, ideally registered with
    ``@ember.saving.register_serializable()``); saving a lambda or a nested
    function raises a ``ValueError`` that says so. For anything with state,
    subclass ``Layer`` instead.

    Args:
        function: Callable applied to the input.
        output_shape: Output shape without the batch axis (a tuple), or a
            callable mapping the full input shape to the full output shape.
            ``None`` (default): inferred by running ``function``.
        mask: The output's mask. ``None`` (default): the input's mask is
            dropped, as for any layer that does not support masking. A
            callable ``(inputs, mask) -> mask`` computes it from the input and
            the input's mask (``None`` when the input carries none); any other
            value is a fixed mask (converted to a boolean tensor).
        arguments: Optional dict of keyword arguments for ``function``.

    Example:
        >>> Lambda(lambda x: x * 2)(torch.ones(2, 3))[0, 0].item()
        2.0
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda `function` must be callable, got function={function!r}.")
        if output_shape is not None and not callable(output_shape) and not isinstance(output_shape, (tuple, list)):
            raise ValueError(
                f"Lambda `output_shape` must be None, a tuple or a callable, got output_shape={output_shape!r}."
            )
        if arguments is not None and not isinstance(arguments, dict):
            raise ValueError(f"Lambda `arguments` must be a dict of keyword arguments, got arguments={arguments!r}.")
        self.function = function
        self.output_shape = tuple(output_shape) if isinstance(output_shape, list) else output_shape
        self.arguments = dict(arguments or {})
        if mask is not None and not callable(mask):
            mask = torch.as_tensor(mask, dtype=torch.bool)
        # ``supports_masking`` stays False: ember reads it as "pass the input's mask on unchanged",
        # which a Lambda never does (it drops the mask or computes a new one in ``call``).
        self.mask = mask
        self.built = True

    def call(self, inputs):
        outputs = self.function(inputs, **self.arguments)
        if self.mask is None or in_symbolic_scope() or not isinstance(outputs, torch.Tensor):
            return outputs
        if outputs is inputs:
            outputs = outputs.view_as(outputs)  # never overwrite the mask the input carries
        return attach_mask(outputs, self.compute_mask(inputs, mask_of(inputs)))

    def compute_mask(self, inputs, mask=None):
        """The output's mask: ``mask(inputs, mask)`` for a callable, the fixed mask, or ``None``."""
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self.output_shape is None:
            raise NotImplementedError  # inferred by running the function on symbolic inputs
        if callable(self.output_shape):
            return tuple(self.output_shape(input_shape))
        return (input_shape[0],) + self.output_shape

    def get_config(self):
        config = super().get_config()
        config.update(function=self.function, arguments=self.arguments)
        if self.mask is not None:
            config["mask"] = self.mask if callable(self.mask) else self.mask.tolist()
        if self.output_shape is not None:
            config["output_shape"] = self.output_shape
        return config


class Permute(Layer):
    """Permutes the non-batch axes of the input.

    Args:
        dims: A permutation of ``1..rank-1`` (axes counted from 1, the batch
            axis is 0 and stays first), e.g. ``(2, 1)`` swaps the two axes of a
            ``(batch, steps, features)`` input.

    Example:
        >>> Permute((2, 1))(torch.ones(2, 3, 4)).shape
        torch.Size([2, 4, 3])
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(dims)
        except TypeError:
            dims = (dims,)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                f"Permute `dims` must be a permutation of 1..{len(dims)} (axis 0 is the batch and is not listed), "
                f"got dims={dims!r}."
            )
        self.dims = dims
        self.built = True

    def _check_rank(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(
                f"Permute layer {self.name!r} with dims={self.dims} expects inputs of rank {len(self.dims) + 1}, "
                f"got shape {tuple(shape)}."
            )

    def call(self, inputs):
        self._check_rank(inputs.shape)
        return inputs.permute((0,) + self.dims)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: output ``(batch, n, features)``.

    Args:
        n: Number of repetitions, a positive integer.

    Example:
        >>> RepeatVector(3)(torch.ones(2, 4)).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"RepeatVector `n` must be a positive integer, got n={n!r}.")
        self.n = n
        self.built = True

    def _check_rank(self, shape):
        if len(shape) != 2:
            raise ValueError(
                f"RepeatVector layer {self.name!r} expects inputs of rank 2 (batch, features), "
                f"got shape {tuple(shape)}."
            )

    def call(self, inputs):
        self._check_rank(inputs.shape)
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config

"""Normalization layers: ``LayerNormalization``, ``GroupNormalization``, ``UnitNormalization``.

``BatchNormalization`` lives in ``batch_normalization.py``; the helpers shared
with it (axis validation, config of the ``gamma``/``beta`` options) are here.
All layers follow Keras's channels_last convention: ``axis=-1`` is the feature
(channel) axis.
"""

import torch
import torch.nn.functional as F

from ember import constraints, initializers, regularizers
from ember.layers.layer import Layer

__all__ = ["GroupNormalization", "LayerNormalization", "UnitNormalization"]


def check_axis(axis, rank, layer):
    """``axis`` (an int) as a non-negative index into a tensor of ``rank`` dims."""
    if rank is None:
        return axis
    if not -rank <= axis < rank:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: `axis`={axis} is out of range for inputs of "
            f"rank {rank} (valid: {-rank} to {rank - 1})."
        )
    return axis % rank


def check_int_axis(axis, owner):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"{owner} `axis` must be an integer, got {axis!r}.")
    return axis


def _serialize(obj, module):
    """Serialize a built-in object; keep a plain callable as is (works in memory)."""
    if obj is None:
        return None
    try:
        return module.serialize(obj)
    except (NotImplementedError, ValueError, TypeError):
        return obj


def affine_config(layer):
    """Config entries of the ``gamma``/``beta`` initializers, regularizers and constraints."""
    return {
        "beta_initializer": initializers.serialize(layer.beta_initializer),
        "gamma_initializer": initializers.serialize(layer.gamma_initializer),
        "beta_regularizer": _serialize(layer.beta_regularizer, regularizers),
        "gamma_regularizer": _serialize(layer.gamma_regularizer, regularizers),
        "beta_constraint": _serialize(layer.beta_constraint, constraints),
        "gamma_constraint": _serialize(layer.gamma_constraint, constraints),
    }


def set_affine_options(layer, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                       gamma_regularizer, beta_constraint, gamma_constraint):
    layer.center = bool(center)
    layer.scale = bool(scale)
    layer.beta_initializer = initializers.get(beta_initializer)
    layer.gamma_initializer = initializers.get(gamma_initializer)
    layer.beta_regularizer = regularizers.get(beta_regularizer)
    layer.gamma_regularizer = regularizers.get(gamma_regularizer)
    layer.beta_constraint = constraints.get(beta_constraint)
    layer.gamma_constraint = constraints.get(gamma_constraint)


def add_affine_weights(layer, shape):
    """Create ``gamma`` (if ``scale``) then ``beta`` (if ``center``), as Keras orders them."""
    layer.gamma = None
    layer.beta = None
    if layer.scale:
        layer.gamma = layer.add_weight(name="gamma", shape=shape, initializer=layer.gamma_initializer,
                                       regularizer=layer.gamma_regularizer, constraint=layer.gamma_constraint)
    if layer.center:
        layer.beta = layer.add_weight(name="beta", shape=shape, initializer=layer.beta_initializer,
                                      regularizer=layer.beta_regularizer, constraint=layer.beta_constraint)


def _known_dim(layer, input_shape, axis):
    dim = input_shape[axis]
    if dim is None:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} needs a known size on axis {axis}, got input shape "
            f"{tuple(input_shape)}."
        )
    return int(dim)


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis``: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    Args:
        axis: Integer or list of integers: the axes to normalize over (and that
            ``gamma``/``beta`` span). Default ``-1``.
        epsilon: Small float added to the variance.
        center: Whether to add the learned offset ``beta``.
        scale: Whether to multiply by the learned ``gamma``.
        rms_scaling: If ``True``, ``center`` and ``scale`` are ignored, only
            ``gamma`` is created, and the inputs are scaled without centering
            by ``gamma / sqrt(var(x) + epsilon)`` (Keras 3's formula).
        beta_initializer, gamma_initializer: Initializers of ``beta``/``gamma``.
        beta_regularizer, gamma_regularizer: Optional regularizers.
        beta_constraint, gamma_constraint: Optional constraints.

    Shape:
        Output has the input's shape.

    Example:
        >>> LayerNormalization()(torch.randn(2, 5)).shape
        torch.Size([2, 5])
    """

    supports_masking = True  # statistics ignore the mask (as Keras); the mask passes through

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [check_int_axis(a, "LayerNormalization") for a in axis]
            if not self.axis:
                raise ValueError("LayerNormalization `axis` must name at least one axis, got [].")
        else:
            self.axis = check_int_axis(axis, "LayerNormalization")
        self.epsilon = float(epsilon)
        self.rms_scaling = bool(rms_scaling)
        set_affine_options(self, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                           gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        rank = len(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        self._axes = sorted({check_axis(a, rank, self) for a in axes})
        shape = tuple(_known_dim(self, input_shape, a) for a in self._axes)
        self._rank = rank
        # Trailing contiguous axes can use the fused kernel.
        self._fused = self._axes == list(range(rank - len(self._axes), rank))
        if self.rms_scaling:
            self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
            self.beta = None
        else:
            add_affine_weights(self, shape)
        self.built = True

    def _broadcast(self, weight):
        if weight is None or self._fused:
            return weight
        shape = [1] * self._rank
        for a, d in zip(self._axes, weight.shape):
            shape[a] = d
        return weight.reshape(shape)

    def call(self, inputs):
        if inputs.dim() != self._rank:
            raise ValueError(
                f"LayerNormalization {self.name!r} was built for rank-{self._rank} inputs, got shape "
                f"{tuple(inputs.shape)}."
            )
        gamma, beta = self._broadcast(self.gamma), self._broadcast(self.beta)
        if self.rms_scaling:
            # As Keras: the inputs are not centered, but divided by their standard deviation.
            variance = torch.var(inputs, dim=self._axes, correction=0, keepdim=True)
            return inputs * torch.rsqrt(variance + self.epsilon) * gamma
        if self._fused:
            return F.layer_norm(inputs, tuple(inputs.shape[self._axes[0]:]), gamma, beta, self.epsilon)
        variance, mean = torch.var_mean(inputs, dim=self._axes, correction=0, keepdim=True)
        outputs = (inputs - mean) * torch.rsqrt(variance + self.epsilon)
        if gamma is not None:
            outputs = outputs * gamma
        if beta is not None:
            outputs = outputs + beta
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
                      rms_scaling=self.rms_scaling, **affine_config(self))
        return config


class GroupNormalization(Layer):
    """Normalizes each sample over groups of channels (and all other non-batch axes).

    The channels on ``axis`` are split into ``groups`` contiguous groups; the
    mean and variance are computed per sample and group. ``groups=1`` is
    layer normalization over all axes; ``groups=-1`` (one channel per group) is
    instance normalization.

    Args:
        groups: Number of groups; must divide the number of channels. ``-1``
            means one group per channel. Default 32.
        axis: The channel axis (default ``-1``, channels_last).
        epsilon: Small float added to the variance.
        center, scale: Whether to use the learned per-channel ``beta``/``gamma``.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: Options of ``beta``/``gamma``.

    Example:
        >>> GroupNormalization(groups=2)(torch.randn(2, 3, 3, 4)).shape
        torch.Size([2, 3, 3, 4])
    """

    supports_masking = True  # statistics ignore the mask (as Keras); the mask passes through

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(f"GroupNormalization `groups` must be a positive integer or -1, got {groups!r}.")
        self.groups = groups
        self.axis = check_int_axis(axis, "GroupNormalization")
        self.epsilon = float(epsilon)
        set_affine_options(self, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                           gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        rank = len(input_shape)
        if rank < 2:
            raise ValueError(
                f"GroupNormalization {self.name!r} needs inputs with a batch and a channel axis, got shape "
                f"{tuple(input_shape)}."
            )
        self._axis = check_axis(self.axis, rank, self)
        if self._axis == 0:
            raise ValueError(f"GroupNormalization {self.name!r}: `axis` cannot be the batch axis 0.")
        channels = _known_dim(self, input_shape, self._axis)
        groups = channels if self.groups == -1 else self.groups
        if groups > channels:
            raise ValueError(
                f"GroupNormalization {self.name!r}: `groups`={groups} is more than the {channels} channels on "
                f"axis {self.axis}; use at most {channels} groups."
            )
        if channels % groups:
            raise ValueError(
                f"GroupNormalization {self.name!r}: `groups`={groups} must divide the number of channels "
                f"({channels}) on axis {self.axis}; pick a divisor of {channels}."
            )
        self._groups = groups
        self._rank = rank
        add_affine_weights(self, (channels,))
        self.built = True

    def call(self, inputs):
        if inputs.dim() != self._rank:
            raise ValueError(
                f"GroupNormalization {self.name!r} was built for rank-{self._rank} inputs, got shape "
                f"{tuple(inputs.shape)}."
            )
        # F.group_norm wants channels on dim 1; moving them there keeps channels_last memory.
        x = inputs.movedim(self._axis, 1)
        if (self.gamma is None) == (self.beta is None):
            outputs = F.group_norm(x, self._groups, self.gamma, self.beta, self.epsilon)
        else:
            # torch's backward fails for a bias without a weight: apply the one present by hand.
            outputs = F.group_norm(x, self._groups, None, None, self.epsilon)
            shape = (1, -1) + (1,) * (x.dim() - 2)
            if self.gamma is not None:
                outputs = outputs * self.gamma.reshape(shape)
            else:
                outputs = outputs + self.beta.reshape(shape)
        return outputs.movedim(1, self._axis)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(groups=self.groups, axis=self.axis, epsilon=self.epsilon, center=self.center,
                      scale=self.scale, **affine_config(self))
        return config


def unit_normalize(x, axis):
    """``x / ||x||_2`` along ``axis`` (the squared norm floored at 1e-12)."""
    square_sum = x.square().sum(dim=axis, keepdim=True)
    return x * torch.rsqrt(square_sum.clamp_min(1e-12))


class UnitNormalization(Layer):
    """Scales each input vector along ``axis`` to unit L2 norm.

    Args:
        axis: Integer or list of integers: the axes over which the norm is taken.

    Example:
        >>> UnitNormalization()(torch.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """

    supports_masking = True  # statistics ignore the mask (as Keras); the mask passes through

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [check_int_axis(a, "UnitNormalization") for a in axis]
        else:
            self.axis = check_int_axis(axis, "UnitNormalization")
        self.built = True

    def call(self, inputs):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            check_axis(a, inputs.dim(), self)
        return unit_normalize(inputs, axes)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config

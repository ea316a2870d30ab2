"""``BatchNormalization``: normalization with batch statistics and moving averages."""

import torch
import torch.nn.functional as F

from ember import initializers
from ember.backend.scope import in_symbolic_scope
from ember.layers.embedding import mask_of
from ember.layers.layer import Layer
from ember.layers.normalization import (
    _known_dim,
    add_affine_weights,
    affine_config,
    check_axis,
    check_int_axis,
    set_affine_options,
)

__all__ = ["BatchNormalization"]


def update_moving_stats(moving_mean, moving_variance, batch_mean, batch_variance, momentum):
    """``moving = moving * momentum + batch * (1 - momentum)``, in place, without host syncs."""
    with torch.no_grad():
        moving_mean.lerp_(batch_mean.to(moving_mean.dtype), 1.0 - momentum)
        moving_variance.lerp_(batch_variance.to(moving_variance.dtype), 1.0 - momentum)


def batch_norm_train(x, gamma, beta, moving_mean, moving_variance, momentum, epsilon):
    """Normalize ``x`` (channels on dim 1) with its batch statistics; update the moving ones.

    The moving variance is updated with the biased batch variance, as Keras
    does (``torch.batch_norm`` tracks the unbiased one, so its running buffers
    are not used for that).
    """
    reduce_dims = [d for d in range(x.dim()) if d != 1]
    count = x.numel() // x.shape[1] if x.shape[1] else 0
    if count > 1:
        # The fused kernel accumulates ``(1 - momentum) * stat`` into zeroed buffers:
        # the mean, and the unbiased variance, which is rescaled to the biased one.
        mean_acc = torch.zeros_like(moving_mean)
        var_acc = torch.zeros_like(moving_variance)
        outputs = F.batch_norm(x, mean_acc, var_acc, gamma, beta, training=True, momentum=1.0 - momentum,
                               eps=epsilon)
        with torch.no_grad():
            moving_mean.mul_(momentum).add_(mean_acc)
            moving_variance.mul_(momentum).add_(var_acc, alpha=(count - 1) / count)
        return outputs
    variance, mean = torch.var_mean(x, dim=reduce_dims, correction=0)
    shape = [1] * x.dim()
    shape[1] = x.shape[1]
    outputs = (x - mean.reshape(shape)) * torch.rsqrt(variance.reshape(shape) + epsilon)
    if gamma is not None:
        outputs = outputs * gamma.reshape(shape)
    if beta is not None:
        outputs = outputs + beta.reshape(shape)
    update_moving_stats(moving_mean, moving_variance, mean, variance, momentum)
    return outputs


def masked_batch_norm_train(x, weights, gamma, beta, moving_mean, moving_variance, momentum, epsilon):
    """``batch_norm_train`` with batch moments over the positions where ``weights`` (shaped as ``x``) is 1.

    Channels are on dim 1. A channel with no unmasked position gets mean and
    variance 0, as Keras does.
    """
    reduce_dims = [d for d in range(x.dim()) if d != 1]
    weights = weights.to(x.dtype)
    count = weights.sum(dim=reduce_dims, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny)
    mean = (x * weights).sum(dim=reduce_dims, keepdim=True) / count
    variance = ((x - mean).square() * weights).sum(dim=reduce_dims, keepdim=True) / count
    outputs = (x - mean) * torch.rsqrt(variance + epsilon)
    shape = [1] * x.dim()
    shape[1] = x.shape[1]
    if gamma is not None:
        outputs = outputs * gamma.reshape(shape)
    if beta is not None:
        outputs = outputs + beta.reshape(shape)
    update_moving_stats(moving_mean, moving_variance, mean.reshape(-1), variance.reshape(-1), momentum)
    return outputs


def mask_weights(mask, inputs, axis):
    """The input's mask as 0/1 weights shaped as ``inputs`` with ``axis`` moved to dim 1.

    A mask covers the leading axes of ``inputs`` (e.g. ``(batch, time)`` for
    ``(batch, time, features)``); it is broadcast over the trailing ones.
    """
    mask = torch.as_tensor(mask, device=inputs.device)
    if mask.dim() > inputs.dim() or tuple(mask.shape) != tuple(inputs.shape[: mask.dim()]):
        raise ValueError(
            f"BatchNormalization got a mask of shape {tuple(mask.shape)} that does not cover the leading axes "
            f"of its input of shape {tuple(inputs.shape)}; pass a mask shaped like the input without its "
            "trailing feature axes."
        )
    mask = mask.reshape(tuple(mask.shape) + (1,) * (inputs.dim() - mask.dim())).expand(inputs.shape)
    return mask.movedim(axis, 1) if axis != 1 else mask


class BatchNormalization(Layer):
    """Normalizes its inputs over the batch (and all axes except ``axis``).

    In training (``training=True``, as in ``fit``) the output uses the batch's
    mean and (biased) variance, and the non-trainable ``moving_mean`` and
    ``moving_variance`` are updated as ``moving = moving * momentum + batch *
    (1 - momentum)``. In inference (``training`` false, or the layer's
    ``trainable`` set to ``False``) the moving statistics are used and nothing
    is updated. Output: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    A mask (the input's ``_keras_mask``, e.g. from ``Embedding(mask_zero=True)``,
    or the ``mask`` call argument) restricts the training batch moments to the
    unmasked positions, and passes through to the output.

    Args:
        axis: The feature (channel) axis; ``-1`` for channels_last inputs such
            as ``(N, H, W, C)``.
        momentum: Momentum of the moving averages.
        epsilon: Small float added to the variance.
        center: Whether to add the learned offset ``beta``.
        scale: Whether to multiply by the learned ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer: Initializers of the four weights.
        beta_regularizer, gamma_regularizer: Optional regularizers.
        beta_constraint, gamma_constraint: Optional constraints.
        synchronized: Accepted for Keras compatibility; statistics are
            computed per process (wrap the model with
            ``torch.nn.SyncBatchNorm`` semantics yourself for cross-device
            statistics).

    Weights, in order: ``gamma``, ``beta`` (trainable), ``moving_mean``,
    ``moving_variance`` (non-trainable), each of shape ``(channels,)``.

    Example:
        >>> bn = BatchNormalization()
        >>> bn(torch.randn(8, 3), training=True).shape
        torch.Size([8, 3])
        >>> [w.name for w in bn.weights]
        ['gamma', 'beta', 'moving_mean', 'moving_variance']
    """

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_int_axis(axis, "BatchNormalization")
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization `momentum` must be a number in [0, 1], got {momentum!r}.")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon < 0:
            raise ValueError(f"BatchNormalization `epsilon` must be a non-negative number, got {epsilon!r}.")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.synchronized = bool(synchronized)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        set_affine_options(self, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                           gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        self._rank = len(input_shape)
        if self._rank < 2:
            raise ValueError(
                f"BatchNormalization {self.name!r} needs inputs with a batch axis and a feature axis (rank >= 2), "
                f"got shape {tuple(input_shape)}."
            )
        self._axis = check_axis(self.axis, self._rank, self)
        shape = (_known_dim(self, input_shape, self._axis),)
        add_affine_weights(self, shape)
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape, initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape,
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if inputs.dim() != self._rank or inputs.shape[self._axis] != self.moving_mean.shape[0]:
            raise ValueError(
                f"BatchNormalization {self.name!r} was built for rank-{self._rank} inputs with "
                f"{self.moving_mean.shape[0]} features on axis {self.axis}, got shape {tuple(inputs.shape)}."
            )
        # channels on dim 1 for torch's kernels; for (N, H, W, C) this view is channels_last memory.
        x = inputs.movedim(self._axis, 1) if self._axis != 1 else inputs
        mask = mask_of(inputs) if mask is None else mask
        if training and self.trainable and not in_symbolic_scope() and mask is not None:
            outputs = masked_batch_norm_train(x, mask_weights(mask, inputs, self._axis), self.gamma, self.beta,
                                              self.moving_mean, self.moving_variance, self.momentum, self.epsilon)
        elif training and self.trainable and not in_symbolic_scope():
            outputs = batch_norm_train(x, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                                       self.momentum, self.epsilon)
        else:
            outputs = F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                                   training=False, eps=self.epsilon)
        return outputs.movedim(1, self._axis) if self._axis != 1 else outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
            moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
            synchronized=self.synchronized,
            **affine_config(self),
        )
        return config

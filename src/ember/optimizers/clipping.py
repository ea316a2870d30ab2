"""Gradient clipping and decoupled weight decay as pure functions over lists of tensors.

Each function handles a whole list with ``torch._foreach_*`` kernels (one launch per
op for all tensors on a device) and never reads a value back to the host. Clipping
returns new tensors, so the caller's gradients (for example ``param.grad``) are left
untouched; weight decay updates the variables in place.
"""

import torch

__all__ = ["clip_by_value", "clip_by_norm", "clip_by_global_norm", "apply_weight_decay"]


@torch.no_grad()
def clip_by_value(grads: list[torch.Tensor], clipvalue: float) -> list[torch.Tensor]:
    """Clip every element of every gradient into ``[-clipvalue, clipvalue]``.

    Args:
        grads: gradient tensors.
        clipvalue: the largest absolute value an element may keep.

    Returns:
        New clipped tensors, in the same order.

    Example:
        >>> clip_by_value([torch.tensor([-3.0, 0.5, 2.0])], 1.0)[0].tolist()
        [-1.0, 0.5, 1.0]
    """
    clipped = torch._foreach_clamp_min(grads, -clipvalue)
    torch._foreach_clamp_max_(clipped, clipvalue)
    return clipped


@torch.no_grad()
def clip_by_norm(grads: list[torch.Tensor], clipnorm: float) -> list[torch.Tensor]:
    """Rescale each gradient separately so that its L2 norm is at most ``clipnorm``.

    A gradient ``g`` with norm ``n`` becomes ``g * clipnorm / max(n, clipnorm)``.

    Args:
        grads: gradient tensors.
        clipnorm: the largest L2 norm a single gradient may keep.

    Returns:
        New clipped tensors, in the same order.

    Example:
        >>> clip_by_norm([torch.tensor([3.0, 4.0]), torch.tensor([0.3, 0.4])], 1.0)[0].tolist()
        [0.6000000238418579, 0.800000011920929]
    """
    scales = torch._foreach_norm(grads)
    torch._foreach_clamp_min_(scales, clipnorm)
    torch._foreach_reciprocal_(scales)
    torch._foreach_mul_(scales, clipnorm)
    return torch._foreach_mul(grads, scales)


@torch.no_grad()
def clip_by_global_norm(grads: list[torch.Tensor], clipnorm: float) -> list[torch.Tensor]:
    """Rescale all gradients together so that their joint L2 norm is at most ``clipnorm``.

    The joint norm ``n`` is the norm of all gradients concatenated; every gradient is
    multiplied by ``clipnorm / max(n, clipnorm)``. A non-finite joint norm makes the
    scale (and so every gradient) NaN, so a diverged step is visible instead of hidden.

    Args:
        grads: gradient tensors (they may live on several devices).
        clipnorm: the largest joint L2 norm.

    Returns:
        New clipped tensors, in the same order.

    Example:
        >>> out = clip_by_global_norm([torch.tensor([3.0]), torch.tensor([4.0])], 1.0)
        >>> [round(t.item(), 4) for t in out]
        [0.6, 0.8]
    """
    norms = torch._foreach_norm(grads)
    device = norms[0].device
    single_device = all(norm.device == device for norm in norms)
    if not single_device:
        norms = [norm.to(device, non_blocking=True) for norm in norms]
    total = torch.linalg.vector_norm(torch.stack(norms))
    # ``total - total`` is 0 for a finite norm and NaN otherwise.
    scale = clipnorm / torch.clamp_min(total, clipnorm) + (total - total)
    if single_device:
        return torch._foreach_mul(grads, scale)
    return [grad * scale.to(grad.device, non_blocking=True) for grad in grads]


@torch.no_grad()
def apply_weight_decay(variables: list[torch.Tensor], *, weight_decay: float, lr: float) -> None:
    """Decoupled weight decay, in place: ``w -= w * weight_decay * lr``.

    Args:
        variables: the variables to decay (updated in place).
        weight_decay: the decay coefficient.
        lr: the learning rate of the current step.

    Example:
        >>> w = [torch.ones(2)]
        >>> apply_weight_decay(w, weight_decay=0.5, lr=0.1)
        >>> w[0].tolist()
        [0.949999988079071, 0.949999988079071]
    """
    if variables:
        torch._foreach_mul_(variables, 1.0 - weight_decay * lr)

"""Optimizer update rules written to trace into a compiled train step (``jit_compile=True``).

The update rules of ember's ``SGD``, ``RMSprop`` and ``Adam``, spelled with the
learning rate and the step as 0-d tensors so that they trace into a graph
without specializing on them. Each matches its optimizer's eager rule (Keras's)
up to float rounding; ``tests/trainer/test_jit_compile.py`` compares them.
"""

import torch

from ember.optimizers.adam import Adam
from ember.optimizers.rmsprop import RMSprop
from ember.optimizers.sgd import SGD

__all__ = ["traced_update_for"]


def _sgd_update(optimizer, grads, params, lr, step):
    scaled = torch._foreach_mul(grads, lr)
    if not optimizer.momentum:
        torch._foreach_sub_(params, scaled)
        return
    momentums = optimizer._momentums
    torch._foreach_mul_(momentums, optimizer.momentum)
    torch._foreach_sub_(momentums, scaled)
    if optimizer.nesterov:
        torch._foreach_add_(params, torch._foreach_mul(momentums, optimizer.momentum))
        torch._foreach_sub_(params, scaled)
    else:
        torch._foreach_add_(params, momentums)


def _rmsprop_update(optimizer, grads, params, lr, step):
    rho = optimizer.rho
    velocities = optimizer._velocities
    torch._foreach_mul_(velocities, rho)
    torch._foreach_addcmul_(velocities, grads, grads, value=1 - rho)
    denominators = torch._foreach_add(velocities, optimizer.epsilon)
    if optimizer.centered:
        averages = optimizer._average_gradients
        torch._foreach_lerp_(averages, grads, 1 - rho)
        torch._foreach_addcmul_(denominators, averages, averages, value=-1)
    increments = torch._foreach_div(grads, torch._foreach_sqrt(denominators))
    torch._foreach_mul_(increments, lr)
    if optimizer.momentum > 0:
        momentums = optimizer._momentums
        torch._foreach_mul_(momentums, optimizer.momentum)
        torch._foreach_add_(momentums, increments)
        torch._foreach_sub_(params, momentums)
    else:
        torch._foreach_sub_(params, increments)


def _adam_update(optimizer, grads, params, lr, step):
    beta_1, beta_2 = optimizer.beta_1, optimizer.beta_2
    alpha = lr * torch.sqrt(1 - torch.pow(beta_2, step)) / (1 - torch.pow(beta_1, step))
    momentums, velocities = optimizer._momentums, optimizer._velocities
    torch._foreach_lerp_(momentums, grads, 1 - beta_1)
    torch._foreach_mul_(velocities, beta_2)
    torch._foreach_addcmul_(velocities, grads, grads, value=1 - beta_2)
    if optimizer.amsgrad:
        torch._foreach_maximum_(optimizer._velocity_hats, velocities)
        denominators = torch._foreach_sqrt(optimizer._velocity_hats)
    else:
        denominators = torch._foreach_sqrt(velocities)
    torch._foreach_add_(denominators, optimizer.epsilon)
    steps = torch._foreach_div(momentums, denominators)
    torch._foreach_mul_(steps, alpha)
    torch._foreach_sub_(params, steps)


_TRACED_UPDATES = {SGD: _sgd_update, RMSprop: _rmsprop_update, Adam: _adam_update}


def traced_update_for(optimizer, params):
    """The traced update rule for ``optimizer`` training ``params``, or None when it must update eagerly."""
    update = _TRACED_UPDATES.get(type(optimizer))
    if update is None or not optimizer.built:
        return None
    built = optimizer._trainable_variables
    if len(built) != len(params) or any(a is not b for a, b in zip(built, params)):
        return None  # the slots are matched to the variables by position
    if (optimizer.weight_decay or optimizer.clipnorm or optimizer.clipvalue or optimizer.global_clipnorm
            or optimizer.use_ema or optimizer._accumulation_steps or optimizer.loss_scale_factor is not None):
        return None
    if any(getattr(v, "constraint", None) is not None for v in optimizer._trainable_variables):
        return None
    return update

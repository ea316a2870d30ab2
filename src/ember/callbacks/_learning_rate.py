"""Reading and setting the learning rate of the optimizer a callback drives.

An ember optimizer has a settable `learning_rate` (a float32 variable); a
`torch.optim.Optimizer` passed to `compile` keeps one `"lr"` per parameter
group. Callbacks that change the rate (`ReduceLROnPlateau`,
`LearningRateScheduler`) go through these two functions so that both work.
"""

import numpy as np
import torch

__all__ = ["get_learning_rate", "set_learning_rate", "torch_param_groups"]

MSG_NO_LEARNING_RATE = (
    "{callback} needs an optimizer with a learning rate: an ember optimizer (with a "
    "`learning_rate` attribute) or a torch.optim optimizer (with `param_groups`). Got "
    "model.optimizer={optimizer!r}. Compile the model with such an optimizer first."
)


def torch_param_groups(optimizer):
    """The `param_groups` of a torch.optim optimizer (bare or wrapped by `compile`), else None."""
    torch_optimizer = getattr(optimizer, "torch_optimizer", optimizer)
    if isinstance(torch_optimizer, torch.optim.Optimizer):
        return torch_optimizer.param_groups
    return None


def _check_has_rate(optimizer, callback):
    if optimizer is None or (torch_param_groups(optimizer) is None and not hasattr(optimizer, "learning_rate")):
        raise ValueError(MSG_NO_LEARNING_RATE.format(callback=callback, optimizer=optimizer))


def get_learning_rate(optimizer, callback="This callback"):
    """The optimizer's current learning rate as a Python float.

    Args:
        optimizer: An ember optimizer, or a torch.optim optimizer (bare or
            wrapped by `compile`); for the latter, the first group's `"lr"`.
        callback: The caller's name, used in the error message.

    Returns:
        The learning rate (for an ember optimizer, its float32 value widened
        to a Python float, as Keras logs it).

    Raises:
        ValueError: When the optimizer has no learning rate.
    """
    _check_has_rate(optimizer, callback)
    groups = torch_param_groups(optimizer)
    if groups is not None:
        return float(groups[0]["lr"])
    value = optimizer.learning_rate
    if isinstance(value, torch.Tensor):
        return float(value.detach().cpu().item())
    return float(np.asarray(value).item())


def set_learning_rate(optimizer, value, callback="This callback"):
    """Sets the optimizer's learning rate to `value` (every group of a torch.optim optimizer).

    Args:
        optimizer: An ember optimizer, or a torch.optim optimizer (bare or
            wrapped by `compile`).
        value: The new learning rate (a float).
        callback: The caller's name, used in the error message.

    Raises:
        ValueError: When the optimizer has no learning rate.
        TypeError: When an ember optimizer was built with a schedule (its rate
            is then not settable).
    """
    _check_has_rate(optimizer, callback)
    groups = torch_param_groups(optimizer)
    if groups is not None:
        for group in groups:
            group["lr"] = float(value)
        return
    optimizer.learning_rate = value

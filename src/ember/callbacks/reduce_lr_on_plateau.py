"""`ReduceLROnPlateau`: lower the learning rate when a monitored quantity stalls."""

import warnings

import numpy as np

from ember.callbacks._learning_rate import get_learning_rate, set_learning_rate, torch_param_groups
from ember.callbacks.monitor_callback import MonitorCallback

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` when the monitored quantity stops improving.

    At the end of every epoch the callback logs the optimizer's current rate
    as `"learning_rate"` (so it appears in `History`), then compares the
    monitored value with the best so far. After `patience` epochs without an
    improvement larger than `min_delta`, the rate becomes
    `max(rate * factor, min_lr)` and the next epoch's updates use it; then
    `cooldown` epochs pass before the patience counter runs again. Works with
    ember optimizers (their `learning_rate`) and torch.optim optimizers (each
    param group's `"lr"` is reduced from its own value; the first group's is
    logged).

    Args:
        monitor: The log key to watch. Defaults to `"val_loss"`.
        factor: Factor by which the rate is reduced, in `(0, 1)`. Defaults
            to `0.1`.
        patience: Number of epochs without improvement before reducing.
            Defaults to `10`.
        verbose: `1` prints a line at each reduction. Defaults to `0`.
        mode: `"min"`, `"max"` or `"auto"` (inferred from the monitored
            name). Defaults to `"auto"`.
        min_delta: Threshold for counting a change as an improvement.
            Defaults to `1e-4`.
        cooldown: Epochs to wait after a reduction before counting again.
            Defaults to `0`.
        min_lr: Lower bound on the learning rate. Defaults to `0.0`.

    Raises:
        ValueError: If `factor >= 1.0`.

    Example:
        >>> callback = ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5, min_lr=0.001)
        >>> callback.cooldown_counter, callback.wait
        (0, 0)
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}. "
                "Pass a factor in (0, 1), e.g. factor=0.5 halves the learning rate."
            )
        if kwargs:
            raise TypeError(
                f"ReduceLROnPlateau got unexpected keyword arguments {sorted(kwargs)}. Its arguments "
                "are monitor, factor, patience, verbose, mode, min_delta, cooldown and min_lr."
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self):
        """Resets the wait and cooldown counters and the best value."""
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        """Whether the callback is in its cooldown period after a reduction."""
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        optimizer = self.model.optimizer
        logs["learning_rate"] = get_learning_rate(optimizer, "ReduceLROnPlateau")
        current = self._read_monitor(logs)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_learning_rate(optimizer, epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduced(self, old_lr):
        """The rate after one reduction, or `None` when `old_lr` is already at `min_lr`."""
        if not old_lr > np.float32(self.min_lr):
            return None
        return max(old_lr * self.factor, self.min_lr)

    def _reduce_learning_rate(self, optimizer, epoch):
        """Lowers the rate unless it is already at `min_lr`; returns whether it changed.

        A torch.optim optimizer has its groups' rates reduced each from its own value.
        """
        groups = torch_param_groups(optimizer)
        if groups is None:
            new_lr = self._reduced(get_learning_rate(optimizer, "ReduceLROnPlateau"))
            if new_lr is None:
                return False
            set_learning_rate(optimizer, new_lr, "ReduceLROnPlateau")
        else:
            changed = [(group, self._reduced(float(group["lr"]))) for group in groups]
            changed = [(group, lr) for group, lr in changed if lr is not None]
            if not changed:
                return False
            for group, lr in changed:
                group["lr"] = lr
            new_lr = changed[0][1]
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.", flush=True)
        return True

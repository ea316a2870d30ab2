"""`LearningRateScheduler`: set the learning rate from a function of the epoch."""

import inspect

import numpy as np

from ember.callbacks._learning_rate import get_learning_rate, set_learning_rate
from ember.callbacks.callback import Callback

__all__ = ["LearningRateScheduler"]

MSG_NOT_A_FLOAT = (
    "The output of the `schedule` function should be a float. Got: {value!r} ({kind}). "
    "Return a Python float, e.g. `return float(lr * 0.5)`."
)


def _takes_current_rate(schedule):
    """Whether `schedule` accepts `(epoch, lr)`; `None` when its signature cannot be read."""
    try:
        parameters = list(inspect.signature(schedule).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of every epoch from `schedule`.

    `schedule(epoch, lr)` receives the 0-based epoch index and the current
    rate (a Python float) and returns the new rate; a `schedule(epoch)` that
    takes only the epoch works too. At the end of every epoch the rate is
    logged as `"learning_rate"` (so it appears in `History`). Works with
    ember optimizers (their `learning_rate`) and torch.optim optimizers
    (every param group's `"lr"`).

    Args:
        schedule: A function `(epoch, lr) -> float` or `(epoch) -> float`.
        verbose: `1` prints the rate set at each epoch. Defaults to `0`.

    Raises:
        ValueError: (at epoch begin) when `schedule` returns something other
            than a float (Python, `np.float32` or `np.float64`).

    Example:
        >>> def scheduler(epoch, lr):
        ...     return lr if epoch < 10 else lr * 0.9
        >>> callback = LearningRateScheduler(scheduler)
        >>> callback.schedule(12, 0.5)
        0.45
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "LearningRateScheduler expects `schedule` to be a function (epoch, lr) -> float, "
                f"got {type(schedule).__name__} {schedule!r}."
            )
        self.schedule = schedule
        self.verbose = verbose

    def _call_schedule(self, epoch, current_lr):
        takes_rate = _takes_current_rate(self.schedule)
        if takes_rate is None:  # no readable signature: try both conventions, as Keras does
            try:
                return self.schedule(epoch, current_lr)
            except TypeError:
                return self.schedule(epoch)
        return self.schedule(epoch, current_lr) if takes_rate else self.schedule(epoch)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        current_lr = get_learning_rate(optimizer, "LearningRateScheduler")
        learning_rate = self._call_schedule(epoch, current_lr)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(MSG_NOT_A_FLOAT.format(value=learning_rate, kind=type(learning_rate).__name__))
        set_learning_rate(optimizer, learning_rate, "LearningRateScheduler")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = get_learning_rate(self.model.optimizer, "LearningRateScheduler")

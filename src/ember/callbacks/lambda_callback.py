"""`LambdaCallback`: a callback built from plain functions."""

from ember.callbacks.callback import Callback

__all__ = ["LambdaCallback"]

HOOK_NAMES = (
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_begin",
    "on_train_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_batch_begin",
    "on_batch_end",
)


class LambdaCallback(Callback):
    """Builds a callback from functions, one per hook.

    Each function takes the hook's arguments: `on_epoch_begin` and
    `on_epoch_end` get `(epoch, logs)`, `on_train_begin` / `on_train_end` (and
    the other begin/end hooks) get `(logs)`, batch hooks get `(batch, logs)`.
    Hooks not given do nothing.

    Args:
        on_epoch_begin: Called at the start of every epoch.
        on_epoch_end: Called at the end of every epoch.
        on_train_begin: Called at the start of training.
        on_train_end: Called at the end of training.
        on_train_batch_begin: Called before every training batch.
        on_train_batch_end: Called after every training batch.
        **kwargs: Functions for any other hook, by hook name (for example
            `on_test_end` or the legacy `on_batch_end`).

    Example:
        >>> epochs_seen = []
        >>> callback = LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_seen.append(epoch))
        >>> callback.on_epoch_end(0, {"loss": 0.5}); epochs_seen
        [0]
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        unknown = sorted(set(kwargs) - set(HOOK_NAMES))
        if unknown:
            raise TypeError(
                f"LambdaCallback got unknown hook name(s) {unknown}. "
                f"Valid names: {', '.join(HOOK_NAMES)}."
            )
        hooks = dict(
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
            **kwargs,
        )
        for name, function in hooks.items():
            if function is None:
                continue
            if not callable(function):
                raise TypeError(
                    f"LambdaCallback {name} must be a callable, got "
                    f"{type(function).__name__} {function!r}."
                )
            # An instance attribute replaces the no-op hook of the class.
            setattr(self, name, function)

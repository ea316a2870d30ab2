"""`CallbackList`: calls every hook of a list of callbacks, in order."""

from ember.callbacks.callback import Callback
from ember.callbacks.history import History
from ember.callbacks.progbar_logger import ProgbarLogger

__all__ = ["CallbackList"]

# The hooks that make up each family of batch hooks. The default train batch
# hooks call the legacy `on_batch_*` ones, so overriding those counts too.
_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


def _overrides(callback, hook_name):
    """Whether `callback.<hook_name>` is anything but `Callback`'s no-op."""
    hook = getattr(callback, hook_name, None)
    if hook is None:
        return False
    return getattr(hook, "__func__", hook) is not getattr(Callback, hook_name)


def _listens(callback, family):
    """Whether `callback` needs the batch hooks of `family` to be called."""
    if isinstance(callback, CallbackList):
        return callback._needs_batch_hooks(family)
    if not any(_overrides(callback, name) for name in _BATCH_HOOKS[family]):
        return False
    # A built-in callback may know that its overridden hooks are idle right now
    # (e.g. the progress bar with verbose=2).
    wants = getattr(callback, "_wants_batch_hooks", None)
    return True if wants is None else bool(wants(family))


def _flatten(callbacks):
    for item in callbacks:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item


def _check_callback(callback):
    if not isinstance(callback, Callback):
        raise TypeError(
            "Every callback must be an instance of ember.callbacks.Callback, got "
            f"{type(callback).__name__} {callback!r}. Subclass Callback or wrap "
            "functions in LambdaCallback."
        )
    return callback


class CallbackList(Callback):
    """Container that calls every hook on each callback of a list, in list order.

    The training loop drives one `CallbackList`. Its `needs_train_batch_hooks`,
    `needs_test_batch_hooks` and `needs_predict_batch_hooks` flags say whether
    any callback does anything in that family of batch hooks, so the loop can
    skip building batch logs and dispatching altogether when none does. The
    flags are computed on access: read them after the matching `on_*_begin`.
    `logs` are passed through unread (they may be a lazy mapping).

    Args:
        callbacks: List of `Callback` instances (nested lists are flattened).
            The list passed in is not modified.
        add_history: Whether to append a `History` when the list holds none.
            It becomes `model.history`.
        add_progbar: Whether to append a `ProgbarLogger` when the list holds
            none.
        model: The model the callbacks are attached to.
        **params: Training parameters (`verbose`, `epochs`, `steps`) passed to
            every callback with `set_params`.

    Example:
        >>> callbacks = CallbackList(add_history=True, verbose=0, epochs=1, steps=1)
        >>> callbacks.needs_train_batch_hooks
        False
        >>> callbacks.on_train_begin(); callbacks.on_epoch_end(0, {"loss": 0.5})
        >>> callbacks.history.history
        {'loss': [0.5]}
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        elif not isinstance(callbacks, (list, tuple)):
            raise TypeError(
                "callbacks must be a list of ember.callbacks.Callback instances or None, "
                f"got {type(callbacks).__name__}."
            )
        self.callbacks = [_check_callback(c) for c in _flatten(callbacks)]
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    @property
    def history(self):
        """The `History` callback in the list, or `None`."""
        return self._history

    def __iter__(self):
        return iter(self.callbacks)

    def append(self, callback):
        """Adds a callback at the end, giving it the list's model and params."""
        self.callbacks.append(_check_callback(callback))
        if isinstance(callback, History) and self._history is None:
            self._history = callback
        if isinstance(callback, ProgbarLogger) and self._progbar is None:
            self._progbar = callback
        if self.params:
            callback.set_params(self.params)
        if self._model is not None:
            callback.set_model(self._model)

    def set_params(self, params):
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    # -- what the loop needs to call -------------------------------------------

    def _needs_batch_hooks(self, family):
        return any(_listens(callback, family) for callback in self.callbacks)

    @property
    def needs_train_batch_hooks(self):
        """Whether any callback acts in `on_train_batch_*` (or legacy `on_batch_*`)."""
        return self._needs_batch_hooks("train")

    @property
    def needs_test_batch_hooks(self):
        """Whether any callback acts in `on_test_batch_*`."""
        return self._needs_batch_hooks("test")

    @property
    def needs_predict_batch_hooks(self):
        """Whether any callback acts in `on_predict_batch_*`."""
        return self._needs_batch_hooks("predict")

    # -- dispatch ---------------------------------------------------------------

    def on_train_begin(self, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_test_begin(self, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_test_begin(logs)

    def on_test_end(self, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_test_end(logs)

    def on_predict_begin(self, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_predict_begin(logs)

    def on_predict_end(self, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_predict_end(logs)

    def on_train_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_test_batch_begin(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_test_batch_end(batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_predict_batch_begin(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_predict_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            callback.on_batch_end(batch, logs)

"""`EarlyStopping`: stop `fit` when a monitored quantity stops improving."""

import warnings

import torch

from ember.callbacks.monitor_callback import MonitorCallback

__all__ = ["EarlyStopping"]


def _snapshot_weights(model):
    """Copies of the model's weights: device-side clones, or `get_weights()` arrays for other models."""
    weights = getattr(model, "weights", None)
    if isinstance(weights, (list, tuple)) and all(isinstance(w, torch.Tensor) for w in weights):
        with torch.no_grad():
            return [w.detach().clone() for w in weights]
    return model.get_weights()


def _restore_weights(model, snapshot):
    weights = getattr(model, "weights", None)
    if (
        isinstance(weights, (list, tuple))
        and all(isinstance(w, torch.Tensor) for w in weights)
        and all(isinstance(s, torch.Tensor) for s in snapshot)
        and len(weights) == len(snapshot)
    ):
        with torch.no_grad():
            for weight, saved in zip(weights, snapshot):
                weight.copy_(saved)
        return
    model.set_weights(snapshot)


class EarlyStopping(MonitorCallback):
    """Stops training when a monitored quantity has stopped improving.

    At the end of every epoch the monitored value is compared with the best
    so far. When it has not improved by more than `min_delta` for `patience`
    epochs in a row, `model.stop_training` is set and `fit` ends after that
    epoch. Only epoch logs are read, so the callback costs nothing per batch.

    Args:
        monitor: The log key to watch. Defaults to `"val_loss"`. When it is
            missing from the epoch logs, a warning lists the available keys and
            training goes on.
        min_delta: Minimum change that counts as an improvement (an absolute
            change smaller than that is no improvement). Defaults to `0`.
        patience: Number of epochs without improvement after which training
            stops. Defaults to `0`.
        verbose: `1` prints `"Epoch N: early stopping"` (1-based) when training
            ends early, and a line when weights are restored. Defaults to `0`.
        mode: `"min"`, `"max"` or `"auto"` (the direction is inferred from the
            monitored name: losses and errors are minimized; accuracy, AUC,
            precision, ... maximized). Defaults to `"auto"`.
        baseline: Value the monitored quantity must beat; until it does, the
            patience counter keeps running even when the value improves.
            Defaults to `None`.
        restore_best_weights: Whether to restore, when training ends, the
            weights from the epoch with the best monitored value (copies kept
            on the weights' device). Weights are restored even if no epoch beat
            `baseline`. Defaults to `False`.
        start_from_epoch: Number of warm-up epochs during which nothing is
            monitored. Defaults to `0`.

    Attributes:
        best: The best monitored value so far (`None` before the first).
        wait: Epochs since the last improvement.
        stopped_epoch: The (0-based) epoch at which training was stopped, `0`
            if it was not.
        best_epoch: The (0-based) epoch of the best value.

    Example:
        >>> callback = EarlyStopping(monitor="loss", patience=1)
        >>> import types; model = types.SimpleNamespace(stop_training=False)
        >>> callback.set_model(model); callback.on_train_begin()
        >>> for epoch, loss in enumerate([0.5, 0.4, 0.45, 0.3]):
        ...     callback.on_epoch_end(epoch, {"loss": loss})
        ...     if model.stop_training: break
        >>> callback.stopped_epoch
        2
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.start_from_epoch = start_from_epoch
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Something to restore even if no epoch ever beats `baseline`.
            self.best_weights = _snapshot_weights(self.model)
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = _snapshot_weights(self.model)
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        # As in Keras, training never stops after its very first epoch.
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", flush=True)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.", flush=True)
            _restore_weights(self.model, self.best_weights)

    def get_monitor_value(self, logs):
        """The monitored value in `logs`; warns (naming the available keys) and returns `None` if absent."""
        logs = logs or {}
        value = self._read_monitor(logs)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}",
                stacklevel=2,
            )
        return value

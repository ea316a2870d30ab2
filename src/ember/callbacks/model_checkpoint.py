"""`ModelCheckpoint`: save the model (or its weights) during training."""

import os
import warnings

import numpy as np
import torch

from ember.callbacks.monitor_callback import MonitorCallback
from ember.distribute.process_group import is_main_process

__all__ = ["ModelCheckpoint"]

MODEL_EXTENSION = ".ember"
WEIGHTS_EXTENSION = ".weights.safetensors"

MSG_WEIGHTS_EXTENSION = (
    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in "
    "`.weights.safetensors` (ember weights format). Received: filepath={filepath}. "
    "E.g. filepath='ckpt/weights-{{epoch:02d}}.weights.safetensors'."
)
MSG_MODEL_EXTENSION = (
    "The filepath provided must end in `.ember` (ember model format), or pass "
    "`save_weights_only=True` with a filepath ending in `.weights.safetensors`. Received: "
    "filepath={filepath}. E.g. filepath='ckpt/model-{{epoch:02d}}.ember'."
)
MSG_SAVE_FREQ = (
    "Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or integer values "
    "(a number of batches, e.g. save_freq=100)."
)
MSG_MISSING_KEY = (
    'Failed to format this callback filepath: "{filepath}". Reason: the key {key} is not available. '
    "Available keys are: {available}. Name only these keys in the filepath template."
)


class _FilepathKeyError(KeyError):
    """A `KeyError` whose message reads as a sentence (a bare `KeyError` prints its repr)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _same_kind(error, message):
    """An error of `error`'s type (e.g. `PermissionError`) carrying `message`."""
    try:
        return type(error)(message)
    except TypeError:  # an OSError subclass with another constructor
        return OSError(message)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class ModelCheckpoint(MonitorCallback):
    """Saves the model or its weights at some frequency during training.

    `filepath` may be a template formatted with `epoch` (1-based), `batch`
    (1-based, when saving every `save_freq` batches) and every log key, with
    format specs: `"ckpt/weights-{epoch:02d}-{val_loss:.2f}.weights.safetensors"`.
    Whole models are saved with `model.save(path)` (the path must end in
    `.ember`); with `save_weights_only=True`, `model.save_weights(path)` is used
    (the path must end in `.weights.safetensors`). Missing directories are
    created. With `save_freq="epoch"` the callback does nothing per batch.

    Args:
        filepath: Path or template (a string or `os.PathLike`).
        monitor: The log key compared when `save_best_only=True`. Defaults to
            `"val_loss"`.
        verbose: `1` prints a line for every save decision. Defaults to `0`.
        save_best_only: Save only when the monitored value improves (the
            latest best model is kept under `filepath`; with a template naming
            `epoch`, one file per improving epoch). Defaults to `False`.
        save_weights_only: Save only the weights. Defaults to `False`.
        mode: `"min"`, `"max"` or `"auto"` (inferred from the monitored name),
            the direction of improvement for `save_best_only`. Defaults to
            `"auto"`.
        save_freq: `"epoch"` saves at the end of every epoch; an integer `n`
            saves after every `n` batches, counted across epochs. Defaults to
            `"epoch"`.
        initial_value_threshold: The value the monitored quantity must first
            beat to be saved with `save_best_only`. Defaults to `None`.

    Raises:
        ValueError: On a bad `save_freq` or a filepath with the wrong extension.
        KeyError: (while training) when the template names a key that is not
            in the logs; raised before anything is written.
        OSError: (while training) when the file or its directory cannot be
            written; the message names the path.

    Example:
        >>> checkpoint = ModelCheckpoint("ckpt/model-{epoch:02d}.ember", save_best_only=True)
        >>> checkpoint.save_freq
        'epoch'
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        if not isinstance(self.filepath, str):
            self.filepath = os.fsdecode(self.filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if save_freq != "epoch" and not _is_int(save_freq):
            raise ValueError(MSG_SAVE_FREQ.format(save_freq=save_freq))
        if save_weights_only and not self.filepath.endswith(WEIGHTS_EXTENSION):
            raise ValueError(MSG_WEIGHTS_EXTENSION.format(filepath=self.filepath))
        if not save_weights_only and not self.filepath.endswith(MODEL_EXTENSION):
            raise ValueError(MSG_MODEL_EXTENSION.format(filepath=self.filepath))

    def _wants_batch_hooks(self, family):
        """Only batch-frequency saving needs the train batch hooks (and so per-batch logs)."""
        return family == "train" and self.save_freq != "epoch"

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch):
        """Counts batches across epochs; True every `save_freq` batches."""
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            seen = batch + 1  # a new epoch started: batch indices are 0-based
        else:
            seen = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += seen
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, logs, filepath):
        """Whether to save now; with `save_best_only`, compares and updates `best`."""
        logs = logs or {}
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}", flush=True)
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if isinstance(current, (np.ndarray, torch.Tensor)) and len(current.shape) > 0:
            warnings.warn(
                f"Can save best model only when `monitor` is a scalar value. Received: {current}. "
                "Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        current = float(current)
        if self.best is not None:
            best_str = f"{self.best:.5f}"
        else:
            # Nothing seen yet: the reference is +inf when minimizing, -inf when maximizing.
            if self.monitor_op is None:
                self._set_monitor_op()
            best_str = "-inf" if self.monitor_op is np.greater else "inf"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to {current:.5f}, "
                    f"saving model to {filepath}",
                    flush=True,
                )
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}", flush=True)
        return False

    def _save_model(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath) or not is_main_process():
            return  # every process decides alike (same logs); only rank 0 writes
        self._prepare_directory(filepath)
        try:
            if self.save_weights_only:
                self.model.save_weights(filepath)
            else:
                self.model.save(filepath)
        except IsADirectoryError as error:
            raise IsADirectoryError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an "
                f"existing directory: {filepath}"
            ) from error
        except OSError as error:
            raise _same_kind(
                error,
                f"ModelCheckpoint could not write {filepath!r}: {error}. Check that the directory "
                "is writable and has free space, or pass another `filepath`.",
            ) from error
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}", flush=True)

    def _prepare_directory(self, filepath):
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an "
                f"existing directory: {filepath}"
            )
        directory = os.path.dirname(filepath)
        if directory and not os.path.isdir(directory):
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as error:
                raise _same_kind(
                    error,
                    f"ModelCheckpoint cannot create the directory {directory!r} for {filepath!r}: "
                    f"{error}. Pass a `filepath` in a writable directory.",
                ) from error

    def _get_file_path(self, epoch, batch, logs):
        """Formats `filepath` with `epoch` (1-based), `batch` (1-based) and the log values."""
        values = dict(logs)
        values["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            values["batch"] = batch + 1
        try:
            return self.filepath.format(**values)
        except KeyError as error:
            available = ", ".join(sorted(values))
            raise _FilepathKeyError(
                MSG_MISSING_KEY.format(filepath=self.filepath, key=error, available=available)
            ) from None

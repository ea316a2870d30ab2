"""`ProgbarLogger`: the progress bar printed by `fit`, `evaluate` and `predict`."""

from ember.callbacks.callback import Callback
from ember.distribute.process_group import is_main_process
from ember.utils.progbar import Progbar, write_stdout

__all__ = ["ProgbarLogger"]


class ProgbarLogger(Callback):
    """Prints a progress bar with the running metrics to standard output.

    `fit` shows `Epoch i/n` (when `epochs > 1`) and one bar per epoch, finalized
    with the epoch logs (including `val_` metrics); validation inside `fit` is
    silent. `evaluate` and `predict` called directly get a bar of their own.
    When the number of steps is unknown (`params["steps"]` is `None`), the first
    epoch shows `n/Unknown` and later epochs use the count it found.

    The training loop adds this callback itself when `verbose != 0`; its
    `params` (`verbose`, `epochs`, `steps`) come from the loop.

    Example:
        >>> logger = ProgbarLogger()
        >>> logger.set_params({"verbose": 2, "epochs": 1, "steps": 2})
        >>> logger.on_train_begin()
        >>> logger.on_epoch_begin(0)
        >>> logger.on_epoch_end(0, {"loss": 0.25})  # doctest: +ELLIPSIS
        2/2 - 0s - ...step - loss: 0.2500
    """

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        params = params or {}
        verbose = params.get("verbose", 1)
        if verbose == "auto":
            verbose = 1
        if verbose not in (0, 1, 2):
            raise ValueError(
                f'ProgbarLogger params["verbose"] must be 0, 1, 2 or "auto", got {verbose!r}.'
            )
        self.verbose = int(verbose) if is_main_process() else 0  # one bar for a data-parallel job
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _wants_batch_hooks(self, family):
        """Whether the batch hooks of `family` ("train", "test", "predict") do anything now."""
        if self.verbose != 1:
            return False
        return family != "test" or not self._called_in_fit

    # -- fit --------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        # Validation runs inside fit are silent.
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            write_stdout(f"Epoch {epoch + 1}/{self.epochs}\n")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    # -- evaluate ---------------------------------------------------------------

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    # -- predict ----------------------------------------------------------------

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_predict_batch_end(self, batch, logs=None):
        # Batch outputs are not metrics: show progress only.
        self._update_progbar(batch, None)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(None)

    # -- helpers ----------------------------------------------------------------

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step")

    def _update_progbar(self, batch, logs):
        self._maybe_init_progbar()
        self.seen = batch + 1  # batch indices are 0-based
        if self.verbose == 1:
            # `logs` is handed over unread; the bar reads it only when it redraws.
            self.progbar.update(self.seen, logs, finalize=False)

    def _finalize_progbar(self, logs):
        self._maybe_init_progbar()
        if self.target is None:
            # The first pass over data of unknown length has counted the steps.
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, logs, finalize=True)

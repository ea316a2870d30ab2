"""The `Callback` base class: hooks called by `fit`, `evaluate` and `predict`."""

from torch.nn.parallel import DistributedDataParallel

__all__ = ["Callback"]


class Callback:
    """Base class for objects that hook into training, evaluation and prediction.

    Subclass it and override any of the `on_*` methods below; every one is a
    no-op here. `fit`, `evaluate` and `predict` call them through a
    `CallbackList`, which skips building per-batch logs entirely when no
    callback overrides a family of batch hooks, so override only what you use.

    `logs` is a mapping of metric name to value. Batch logs hold running
    averages over the epoch so far; epoch logs (in `on_epoch_end`) also hold
    the `val_` metrics. Batch logs may be computed lazily on first read, so
    reading them is what costs time, not receiving them.

    Methods to override:
        - `on_train_begin(logs)`, `on_train_end(logs)`
        - `on_epoch_begin(epoch, logs)`, `on_epoch_end(epoch, logs)`
        - `on_test_begin(logs)`, `on_test_end(logs)`
        - `on_predict_begin(logs)`, `on_predict_end(logs)`
        - `on_train_batch_begin(batch, logs)`, `on_train_batch_end(batch, logs)`
          (by default these call the legacy `on_batch_begin` / `on_batch_end`)
        - `on_test_batch_begin(batch, logs)`, `on_test_batch_end(batch, logs)`
        - `on_predict_batch_begin(batch, logs)`, `on_predict_batch_end(batch, logs)`
        - `set_model(model)`, `set_params(params)` (call `super()` when overriding)

    Attributes:
        model: The model being trained (the wrapped module when the model is
            wrapped in `DistributedDataParallel`).
        params: Dict of training parameters set by the loop: `verbose`,
            `epochs` and `steps` (steps per epoch, `None` when unknown).
        validation_data: Kept for compatibility with tf.keras code; `None`.

    Example:
        >>> class CountBatches(Callback):
        ...     def on_train_begin(self, logs=None):
        ...         self.batches = 0
        ...     def on_train_batch_end(self, batch, logs=None):
        ...         self.batches += 1
        >>> counter = CountBatches()
        >>> counter.on_train_begin(); counter.on_train_batch_end(0); counter.batches
        1
    """

    def __init__(self):
        self.params = None
        self.validation_data = None
        self._model = None

    @property
    def model(self):
        model = self._model
        if isinstance(model, DistributedDataParallel):
            return model.module
        return model

    @model.setter
    def model(self, model):
        self._model = model

    def set_params(self, params):
        """Stores the training parameters dict (`verbose`, `epochs`, `steps`)."""
        self.params = params

    def set_model(self, model):
        """Stores the model the callback is attached to."""
        self._model = model

    # -- whole-run hooks --------------------------------------------------------

    def on_train_begin(self, logs=None):
        """Called once at the start of `fit`."""

    def on_train_end(self, logs=None):
        """Called once at the end of `fit`; `logs` are the last epoch's logs."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of epoch `epoch` (0-based) during `fit`."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of epoch `epoch`; `logs` include `val_` metrics."""

    def on_test_begin(self, logs=None):
        """Called at the start of `evaluate` and of each validation run in `fit`."""

    def on_test_end(self, logs=None):
        """Called at the end of `evaluate` / validation with the final metrics."""

    def on_predict_begin(self, logs=None):
        """Called at the start of `predict`."""

    def on_predict_end(self, logs=None):
        """Called at the end of `predict`."""

    # -- batch hooks ------------------------------------------------------------

    def on_train_batch_begin(self, batch, logs=None):
        """Called before training batch `batch` (0-based within the epoch)."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after training batch `batch`; `logs` are the running averages."""
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before evaluation batch `batch`."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after evaluation batch `batch`; `logs` are the running averages."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before prediction batch `batch`."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after prediction batch `batch`; `logs` hold the batch outputs."""

    def on_batch_begin(self, batch, logs=None):
        """Legacy alias of `on_train_batch_begin` (called by its default)."""

    def on_batch_end(self, batch, logs=None):
        """Legacy alias of `on_train_batch_end` (called by its default)."""

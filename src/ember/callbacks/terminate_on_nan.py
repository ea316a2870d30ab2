"""`TerminateOnNaN`: stop training as soon as the loss becomes NaN or infinite."""

import math

from ember.callbacks.callback import Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stops training when a batch's loss is NaN or infinite.

    After every training batch it reads `logs["loss"]` (the running mean of
    the epoch so far, which turns NaN/inf with the first bad batch). Reading
    it copies the loss from the device, so with this callback every step
    synchronizes with the accelerator, as in Keras; leave it out for the
    fastest loop.

    Args:
        raise_error: `False` (default) stops gracefully: prints
            `"Batch N: Invalid loss, terminating training"` and sets
            `model.stop_training`, so `fit` ends after this batch and the
            `on_train_end` hooks still run. `True` raises a `RuntimeError`
            at once instead.

    Example:
        >>> import types
        >>> callback = TerminateOnNaN()
        >>> callback.set_model(types.SimpleNamespace(stop_training=False))
        >>> callback.on_train_batch_end(3, {"loss": float("nan")})
        Batch 3: Invalid loss, terminating training
        >>> callback.model.stop_training
        True
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
            self.model.stop_training = True

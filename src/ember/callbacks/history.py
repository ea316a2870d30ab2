"""`History`: records the epoch logs of `fit`."""

import numbers

import numpy as np
import torch

from ember.callbacks.callback import Callback

__all__ = ["History"]


def _to_python(value):
    """Converts a scalar tensor / NumPy value to a Python float; other values are kept."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            return value.detach().cpu().numpy()
        value = value.item()
    elif isinstance(value, (np.ndarray, np.generic)):
        if value.size != 1:
            return value
        value = value.item()
    if isinstance(value, numbers.Real):
        return float(value)
    return value


class History(Callback):
    """Records every epoch's logs; `fit` returns it and sets it as `model.history`.

    Attributes:
        history: Dict mapping each logged name (`loss`, metric names, `val_`
            names) to the list of its values, one float per epoch.
        epoch: List of the epoch indices recorded since training began.
        params: The training parameters (`verbose`, `epochs`, `steps`).

    Example:
        >>> history = History()
        >>> history.on_train_begin()
        >>> history.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
        >>> history.on_epoch_end(1, {"loss": 0.25, "val_loss": 0.5})
        >>> history.history, history.epoch
        ({'loss': [0.5, 0.25], 'val_loss': [0.75, 0.5]}, [0, 1])
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        # As in Keras, `epoch` restarts with each training run while `history`
        # keeps accumulating when the same History object is reused.
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        if logs is not None:
            for name, value in logs.items():
                self.history.setdefault(name, []).append(_to_python(value))
        model = self.model
        if model is not None:
            model.history = self

    def plot(self, path=None, metrics=None):
        """Plots the recorded curves with `ember.utils.plot_history`; returns the figure.

        Args:
            path: Where to save the figure (PNG when the name has no extension).
            metrics: A metric name or list of names (without `val_`) to plot
                instead of all of them.
        """
        from ember.utils.plotting import plot_history

        return plot_history(self, path=path, metrics=metrics)

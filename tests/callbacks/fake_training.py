"""Fake models for driving ember's and Keras's callbacks with the same scripted logs.

A callback only touches `model.stop_training`, `model.optimizer.learning_rate`,
the weights and `save`/`save_weights`, so a small stand-in model lets a test
feed identical epoch logs to an ember callback and to its Keras counterpart
through the hook methods and compare what each did.
"""

import numpy as np
import torch


class KerasFakeModel:
    """What Keras's callbacks use of a model: NumPy weights, a Keras optimizer, save calls."""

    def __init__(self, keras, learning_rate=0.001, num_weights=2):
        self.stop_training = False
        self.optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
        self._weights = [np.zeros(3, dtype="float32") for _ in range(num_weights)]
        self.saved = []

    def mark_weights(self, value):
        self._weights = [np.full(3, value, dtype="float32") for _ in self._weights]

    def weight_mark(self):
        return float(self._weights[0][0])

    def get_weights(self):
        return [w.copy() for w in self._weights]

    def set_weights(self, weights):
        self._weights = [np.array(w, dtype="float32") for w in weights]

    def save(self, filepath, overwrite=True):
        self.saved.append(filepath)

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(filepath)


class EmberFakeModel:
    """The ember counterpart: torch weights (updated in place), an ember optimizer, save calls."""

    def __init__(self, ember, learning_rate=0.001, num_weights=2):
        self.stop_training = False
        self.optimizer = ember.optimizers.SGD(learning_rate=learning_rate)
        self.weights = [torch.zeros(3) for _ in range(num_weights)]
        self.saved = []

    def mark_weights(self, value):
        with torch.no_grad():
            for w in self.weights:
                w.fill_(value)

    def weight_mark(self):
        return float(self.weights[0][0])

    def get_weights(self):
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        with torch.no_grad():
            for w, value in zip(self.weights, weights):
                w.copy_(torch.as_tensor(value))

    def save(self, filepath):
        self.saved.append(filepath)

    def save_weights(self, filepath):
        self.saved.append(filepath)


def run_epochs(callback, model, epoch_logs):
    """Drives `callback` through a training run whose epoch logs are `epoch_logs`.

    Before each epoch's end the model's weights are filled with the epoch
    index, so a restore shows which epoch it came from. Stops when the
    callback sets `model.stop_training`.

    Returns:
        The list of epoch log dicts after the callback saw (and maybe
        changed) them, one per epoch run.
    """
    callback.set_model(model)
    callback.set_params({"verbose": 0, "epochs": len(epoch_logs), "steps": 1})
    callback.on_train_begin({})
    seen = []
    for epoch, logs in enumerate(epoch_logs):
        callback.on_epoch_begin(epoch, {})
        model.mark_weights(epoch)
        logs = dict(logs)
        callback.on_epoch_end(epoch, logs)
        seen.append(logs)
        if model.stop_training:
            break
    callback.on_train_end(dict(seen[-1]) if seen else {})
    return seen

"""Custom classes and functions, registered for saving, shared by the saving tests."""

import torch

import ember
from ember import layers


@ember.saving.register_serializable(package="SavingTests")
class Scale(layers.Layer):
    """Multiplies by a learned per-feature weight and a fixed factor."""

    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.scale * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@ember.saving.register_serializable(package="SavingTests")
class TwoTower(ember.Model):
    """A subclassed model: a Dense tower, a Scale layer and a head."""

    def __init__(self, units=4, factor=0.5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.factor = factor
        self.hidden = layers.Dense(units, activation="tanh")
        self.scale = Scale(factor)
        self.head = layers.Dense(1)

    def call(self, inputs, training=None):
        return self.head(self.scale(self.hidden(inputs)))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "factor": self.factor}


@ember.saving.register_serializable(package="SavingTests")
def scaled_tanh(x):
    return 1.5 * torch.tanh(x)


@ember.saving.register_serializable(package="SavingTests")
def squared_error(y_true, y_pred):
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


@ember.saving.register_serializable(package="SavingTests")
class WeightedMSE(ember.losses.Loss):
    def __init__(self, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.weight = weight

    def call(self, y_true, y_pred):
        return self.weight * torch.mean(torch.square(y_true - y_pred), dim=-1)

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@ember.saving.register_serializable(package="SavingTests")
class MaxAbsError(ember.metrics.Metric):
    def __init__(self, name="max_abs_error", **kwargs):
        super().__init__(name=name, **kwargs)
        self.largest = self.add_weight(name="largest", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.largest.assign(torch.maximum(self.largest, torch.max(torch.abs(y_true - y_pred))))

    def result(self):
        return self.largest


@ember.saving.register_serializable(package="SavingTests")
class HalvingSchedule(ember.optimizers.schedules.LearningRateSchedule):
    def __init__(self, initial, every):
        self.initial = initial
        self.every = every

    def __call__(self, step):
        return self.initial * 0.5 ** (step // self.every)

    def get_config(self):
        return {"initial": self.initial, "every": self.every}


@ember.saving.register_serializable(package="SavingTests")
class SumPenalty(ember.regularizers.Regularizer):
    def __init__(self, strength=0.01):
        self.strength = strength

    def __call__(self, weight):
        return self.strength * torch.sum(torch.abs(weight))

    def get_config(self):
        return {"strength": self.strength}

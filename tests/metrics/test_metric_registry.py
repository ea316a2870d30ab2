"""``ember.metrics.get`` / ``serialize`` / ``deserialize``."""

import json

import numpy as np
import pytest
import torch

from ember import losses, metrics
from ember.metrics import Metric, MeanMetricWrapper

NAMES = {
    "accuracy": metrics.Accuracy,
    "acc": metrics.Accuracy,
    "Accuracy": metrics.Accuracy,
    "binary_accuracy": metrics.BinaryAccuracy,
    "BinaryAccuracy": metrics.BinaryAccuracy,
    "categorical_accuracy": metrics.CategoricalAccuracy,
    "sparse_categorical_accuracy": metrics.SparseCategoricalAccuracy,
    "SparseCategoricalAccuracy": metrics.SparseCategoricalAccuracy,
    "mse": metrics.MeanSquaredError,
    "MSE": metrics.MeanSquaredError,
    "mean_squared_error": metrics.MeanSquaredError,
    "mae": metrics.MeanAbsoluteError,
    "mean_absolute_error": metrics.MeanAbsoluteError,
    "bce": metrics.BinaryCrossentropy,
    "binary_crossentropy": metrics.BinaryCrossentropy,
    "categorical_crossentropy": metrics.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": metrics.SparseCategoricalCrossentropy,
    "mean": metrics.Mean,
    "Sum": metrics.Sum,
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_get_string_gives_a_fresh_default_instance(keras, name):
    metric = metrics.get(name)
    assert type(metric) is NAMES[name]
    assert metric is not metrics.get(name)
    assert metric.name == getattr(keras.metrics, NAMES[name].__name__)().name
    if name != "acc":  # Keras's own `metrics.get` does not know "acc"
        assert metric.name == keras.metrics.get(name).name


def test_get_accuracy_is_named_accuracy():
    metric = metrics.get("accuracy")
    assert type(metric) is metrics.Accuracy and metric.name == "accuracy"


def test_get_passes_instances_through_and_instantiates_classes():
    metric = metrics.BinaryAccuracy(threshold=0.2)
    assert metrics.get(metric) is metric
    assert type(metrics.get(metrics.CategoricalAccuracy)) is metrics.CategoricalAccuracy
    assert metrics.get(None) is None


def test_get_wraps_plain_callables_named_after_them():
    def my_error(y_true, y_pred):
        return torch.abs(y_true - y_pred)

    metric = metrics.get(my_error)
    assert isinstance(metric, MeanMetricWrapper) and metric.name == "my_error"
    metric.update_state(torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [0.0]]), sample_weight=[1.0, 3.0])
    assert float(metric.result()) == pytest.approx((1 * 1 + 3 * 3) / 4)
    # A Loss instance is a callable too: the metric averages its per-batch value.
    metric = metrics.get(losses.MeanAbsoluteError())
    assert metric.name == "mean_absolute_error"
    metric.update_state(np.ones((2, 2)), np.zeros((2, 2)))
    assert float(metric.result()) == 1.0


def test_get_dict_config():
    metric = metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.9, "name": "b"}})
    assert type(metric) is metrics.BinaryAccuracy and metric.threshold == 0.9 and metric.name == "b"


def test_get_unknown_string_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown metric identifier 'accuracyy'\. Valid names: \[.*'accuracy'.*\]"):
        metrics.get("accuracyy")


@pytest.mark.parametrize("identifier", [3, 2.5, int])
def test_get_uninterpretable(identifier):
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        metrics.get(identifier)


@pytest.mark.parametrize(
    "metric",
    [
        metrics.Mean(name="m"),
        metrics.Sum(dtype="float64"),
        metrics.Accuracy(),
        metrics.BinaryAccuracy(threshold=0.3),
        metrics.CategoricalAccuracy(),
        metrics.SparseCategoricalAccuracy(),
        metrics.MeanSquaredError(),
        metrics.MeanAbsoluteError(),
        metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        metrics.CategoricalCrossentropy(axis=1),
        metrics.SparseCategoricalCrossentropy(ignore_class=-1),
        MeanMetricWrapper(metrics.sparse_categorical_accuracy, name="sca"),
    ],
)
def test_serialize_round_trip_through_json(metric):
    config = json.loads(json.dumps(metrics.serialize(metric)))
    assert config["class_name"] == type(metric).__name__ and config["module"] == "ember.metrics"
    clone = metrics.deserialize(config)
    assert type(clone) is type(metric)
    assert clone.get_config() == metric.get_config()


def test_serialize_functions_by_name():
    config = metrics.serialize(metrics.categorical_accuracy)
    assert metrics.deserialize(config) is metrics.categorical_accuracy
    assert metrics.serialize(None) is None


def test_deserialize_keras_configs(keras):
    config = keras.metrics.serialize(keras.metrics.BinaryAccuracy(threshold=0.25))
    metric = metrics.deserialize(config)
    assert type(metric) is metrics.BinaryAccuracy and metric.get_config() == config["config"]


class Maximum(Metric):
    def __init__(self, name="maximum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.value = self.add_weight("value", initializer=-np.inf)

    def update_state(self, values):
        self.value.assign(torch.maximum(self.value, torch.as_tensor(values).max()))

    def result(self):
        return self.value.detach().clone()


def test_custom_objects():
    config = metrics.serialize(Maximum(name="peak"))
    with pytest.raises(ValueError, match=r"Unknown metric class 'Maximum'.*custom_objects"):
        metrics.deserialize(config)
    clone = metrics.deserialize(config, custom_objects={"Maximum": Maximum})
    assert isinstance(clone, Maximum) and clone.name == "peak"
    clone.update_state([1.0, 5.0])
    clone.reset_state()
    assert float(clone.result()) == -np.inf


def test_serialize_errors():
    with pytest.raises(TypeError, match="expected a Metric instance or a metric function"):
        metrics.serialize("accuracy")
    with pytest.raises(ValueError, match="only named functions can be saved"):
        metrics.serialize(MeanMetricWrapper(lambda t, p: t == p, name="eq"))

"""``TorchMetricWrapper``: torchmetrics objects in ``compile(metrics=[...])`` and through ``get``."""

import subprocess
import sys

import numpy as np
import pytest
import torch
import torchmetrics
from torchmetrics.classification import MulticlassAccuracy

import ember
from ember import metrics
from ember.metrics.torchmetrics_adapter import TorchMetricWrapper, is_torchmetrics_like


class RecordingMetric:
    """A torchmetrics-shaped object recording what it is given (and where it was moved)."""

    def __init__(self, device="cpu"):
        self.device = torch.device(device)
        self.calls = []
        self.moves = []
        self.total = torch.zeros((), device=self.device)

    def to(self, device):
        self.moves.append(torch.device(device))
        self.device = torch.device(device)
        self.total = torch.zeros((), device=device)  # (a meta tensor has no data to copy)
        return self

    def update(self, preds, target):
        self.calls.append((preds, target))
        self.total = self.total + (preds - target).sum()

    def compute(self):
        return self.total

    def reset(self):
        self.total = torch.zeros((), device=self.device)


def test_importing_ember_does_not_import_torchmetrics():
    code = "import sys, ember; ember.metrics.get('mse'); print('torchmetrics' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_get_wraps_torchmetrics_objects_named_by_class():
    inner = MulticlassAccuracy(num_classes=3)
    metric = metrics.get(inner)
    assert isinstance(metric, TorchMetricWrapper) and metric.metric is inner
    assert metric.name == "multiclass_accuracy"
    assert TorchMetricWrapper(torchmetrics.MeanSquaredError(), name="tm_mse").name == "tm_mse"
    assert metrics.get(RecordingMetric()).name == "recording_metric"


def test_arguments_are_passed_in_torchmetrics_order():
    # MAPE divides by the *target*: swapping the arguments would change every value.
    rng = np.random.default_rng(0)
    ours = metrics.MeanAbsolutePercentageError()
    wrapped = metrics.get(torchmetrics.MeanAbsolutePercentageError())
    for _ in range(3):
        y_true = rng.uniform(1.0, 3.0, size=(8, 2)).astype(np.float32)
        y_pred = rng.uniform(0.5, 4.0, size=(8, 2)).astype(np.float32)
        ours.update_state(y_true, y_pred)
        wrapped.update_state(torch.from_numpy(y_true), torch.from_numpy(y_pred))
        np.testing.assert_allclose(100 * float(wrapped.result()), float(ours.result()), rtol=1e-5)
    recorder = RecordingMetric()
    TorchMetricWrapper(recorder).update_state(torch.tensor([1.0]), torch.tensor([2.0]))
    preds, target = recorder.calls[0]
    assert float(preds) == 2.0 and float(target) == 1.0


def test_host_inputs_are_converted_and_results_reset():
    wrapped = metrics.get(torchmetrics.MeanSquaredError())
    assert float(wrapped.result()) == 0.0  # nothing seen yet: no torchmetrics warning, 0.0 like Mean
    wrapped.update_state(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    wrapped.update_state([0.0], [2.0])
    assert float(wrapped.result()) == pytest.approx((0 + 0 + 4 + 4) / 4)
    wrapped.reset_state()
    assert float(wrapped.result()) == 0.0
    wrapped.update_state([1.0], [4.0])
    assert float(wrapped.result()) == pytest.approx(9.0)


def test_metric_follows_the_batch_device():
    recorder = RecordingMetric()
    wrapped = TorchMetricWrapper(recorder)
    batch = torch.zeros(2, device="meta")
    wrapped.update_state(batch, batch)
    assert recorder.moves == [torch.device("meta")] and recorder.calls[0][0].device.type == "meta"
    wrapped.update_state(batch, batch)
    assert len(recorder.moves) == 1  # already there: not moved again
    wrapped.to("cpu")
    assert recorder.device == torch.device("cpu")
    # Host data goes to the metric's device rather than moving the metric.
    wrapped.update_state(np.ones(2), np.zeros(2))
    assert recorder.moves[-1] == torch.device("cpu") and recorder.calls[-1][0].device.type == "cpu"


def test_wrapping_adds_no_host_sync(no_host_sync):
    wrapped = TorchMetricWrapper(RecordingMetric())
    y_true, y_pred = torch.rand(4, 3), torch.rand(4, 3)
    with no_host_sync():
        wrapped.update_state(y_true, y_pred)
        wrapped.update_state(y_true, y_pred)
        wrapped.result()
        wrapped.reset_state()


def test_sample_weights_are_rejected_with_advice():
    wrapped = metrics.get(MulticlassAccuracy(num_classes=3))
    advice = r"takes no sample weights.*`metrics=\[\.\.\.\]` rather than `weighted_metrics"
    with pytest.raises(ValueError, match=advice):
        wrapped.update_state(torch.tensor([0]), torch.tensor([[0.9, 0.05, 0.05]]), sample_weight=torch.ones(1))


def test_config_names_the_class_but_cannot_rebuild():
    wrapped = metrics.get(MulticlassAccuracy(num_classes=3))
    config = metrics.serialize(wrapped)
    assert config["class_name"] == "TorchMetricWrapper"
    assert config["config"]["name"] == "multiclass_accuracy"
    assert config["config"]["metric"].endswith("MulticlassAccuracy")
    with pytest.raises(TypeError, match=r"cannot be rebuilt from its config .*pass it to `compile\(metrics"):
        metrics.deserialize(config)


def test_objects_without_the_interface_are_not_wrapped():
    assert not is_torchmetrics_like(MulticlassAccuracy)  # a class, not an instance
    assert not is_torchmetrics_like({"update": 1})
    assert not is_torchmetrics_like(metrics.Mean())
    with pytest.raises(TypeError, match=r"expects a metric object with `update\(preds, target\)`.*got 3 of type int"):
        TorchMetricWrapper(3)


def _classifier():
    inputs = ember.Input(shape=(4,))
    hidden = ember.layers.Dense(8, activation="tanh")(inputs)
    return ember.Model(inputs, ember.layers.Dense(3, activation="softmax")(hidden))


def test_fit_logs_torchmetrics_next_to_the_ember_equivalent():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=(48,))
    model = _classifier()
    model.compile(
        optimizer=ember.optimizers.Adam(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy", MulticlassAccuracy(num_classes=3, average="micro")],
    )
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0).history
    assert sorted(history) == sorted(
        ["loss", "sparse_categorical_accuracy", "multiclass_accuracy"]
        + ["val_loss", "val_sparse_categorical_accuracy", "val_multiclass_accuracy"]
    )
    np.testing.assert_allclose(history["multiclass_accuracy"], history["sparse_categorical_accuracy"], rtol=1e-6)
    np.testing.assert_allclose(
        history["val_multiclass_accuracy"], history["val_sparse_categorical_accuracy"], rtol=1e-6
    )
    assert len(set(history["multiclass_accuracy"])) > 1  # the model learns: values differ between epochs
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    assert results["multiclass_accuracy"] == pytest.approx(results["sparse_categorical_accuracy"])
    predicted = model.predict(x, verbose=0).argmax(-1)
    assert results["multiclass_accuracy"] == pytest.approx(float((predicted == y).mean()))

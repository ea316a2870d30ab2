"""The ``Metric`` base class: the guide's custom metric, state variables, symbolic scope, devices."""

import copy

import numpy as np
import pytest
import torch

from ember import metrics
from ember.backend import Variable, symbolic_scope
from ember.metrics import Metric


class CategoricalTruePositives(Metric):
    """The custom metric of Keras's training guide, with torch in place of tf."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = torch.reshape(torch.argmax(y_pred, dim=1), shape=(-1, 1))
        values = y_true.to(torch.int32) == y_pred.to(torch.int32)
        values = values.to(torch.float32)
        if sample_weight is not None:
            values = values * sample_weight.to(torch.float32)
        self.true_positives.assign_add(torch.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def _batch(rng, n=8, classes=5):
    labels = torch.tensor(rng.integers(0, classes, size=(n, 1)))
    scores = torch.tensor(rng.normal(size=(n, classes)).astype(np.float32))
    return labels, scores


def test_guide_categorical_true_positives():
    rng = np.random.default_rng(0)
    metric = CategoricalTruePositives()
    assert metric.name == "categorical_true_positives"
    assert metric.dtype == "float32"
    assert metric.variables == [metric.true_positives]
    expected = 0.0
    for _ in range(3):
        labels, scores = _batch(rng)
        weight = torch.tensor(rng.uniform(size=(8, 1)).astype(np.float32))
        metric.update_state(labels, scores, sample_weight=weight)
        hits = (labels.numpy()[:, 0] == scores.numpy().argmax(1)).astype(np.float32)
        expected += float((hits * weight.numpy()[:, 0]).sum())
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-6)
    returned = metric(labels, scores)
    expected += float((labels.numpy()[:, 0] == scores.numpy().argmax(1)).sum())
    np.testing.assert_allclose(float(returned), expected, rtol=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert metric.true_positives.name == "ctp"


def test_variables_are_non_trainable_variables_of_the_metric_dtype():
    metric = metrics.Mean(dtype="float64")
    assert [v.name for v in metric.variables] == ["total", "count"]
    for variable in metric.variables:
        assert isinstance(variable, Variable)
        assert variable.requires_grad is False
        assert variable.dtype == torch.float64
        assert variable.shape == ()
    metric.update_state([1.0, 2.0])
    assert metric.result().dtype == torch.float64
    assert not isinstance(metric, torch.nn.Module)


def test_updates_record_no_autograd_history():
    metric = metrics.MeanSquaredError()
    y_pred = torch.ones(3, 2, requires_grad=True)
    result = metric(torch.zeros(3, 2), y_pred)
    assert not result.requires_grad
    assert all(v.grad_fn is None for v in metric.variables)


class ManyStates(Metric):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ones = self.add_weight("ones", shape=(2,), initializer="ones")
        self.filled = self.add_weight(
            "filled", shape=(2, 3), initializer=lambda shape, dtype: torch.full(shape, 2.0, dtype=dtype)
        )
        self.table = self.add_weight("table", shape=3, initializer=np.array([1.0, 2.0, 3.0]))
        self.scalar = self.add_variable(shape=(), initializer=7, name="scalar")
        self.counts = self.add_weight("counts", shape=(4,), dtype="int64")
        self.inner = metrics.Sum()

    def update_state(self, values):
        for variable in (self.ones, self.filled, self.table, self.scalar):
            variable.assign_add(torch.ones_like(variable))
        self.counts.assign_add(torch.ones(4, dtype=torch.int64))
        self.inner.update_state(values)

    def result(self):
        return {"table": self.table.sum(), "inner": self.inner.result()}


def test_initializers_and_default_reset_to_initial_values():
    metric = ManyStates()
    assert metric.name == "many_states"
    initial = {v.name: v.numpy().copy() for v in metric.variables}
    np.testing.assert_array_equal(initial["ones"], [1, 1])
    np.testing.assert_array_equal(initial["filled"], np.full((2, 3), 2.0))
    np.testing.assert_array_equal(initial["table"], [1, 2, 3])
    assert initial["scalar"] == 7 and metric.counts.dtype == torch.int64
    # Sub-metrics held as attributes are tracked.
    assert metric.variables[-1] is metric.inner.total
    metric.update_state([3.0, 4.0])
    assert float(metric.inner.result()) == 7.0
    metric.reset_state()
    for variable in metric.variables:
        np.testing.assert_array_equal(variable.numpy(), initial.get(variable.name, 0))
    assert float(metric.inner.result()) == 0.0


# On a machine with a GPU these move state between devices; elsewhere they stay on the CPU.
ACCELERATOR = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def test_to_moves_variables_in_place():
    metric = ManyStates()
    held = metric.table
    assert metric.to(ACCELERATOR) is metric
    assert metric.table is held
    assert all(v.device.type == ACCELERATOR.type for v in metric.variables)
    assert metric.inner.total.device.type == ACCELERATOR.type
    metric.update_state(torch.ones(2, device=ACCELERATOR))
    metric.reset_state()
    np.testing.assert_array_equal(metric.table.numpy(), [1, 2, 3])
    metric.to("cpu")
    assert all(v.device.type == "cpu" for v in metric.variables)


def test_state_follows_the_device_of_incoming_tensors():
    metric = metrics.Mean()
    metric.update_state(torch.ones(3, device=ACCELERATOR))
    assert metric.total.device.type == ACCELERATOR.type
    metric.update_state(np.array([4.0]))  # arrays go to the state's device
    assert metric.total.device.type == ACCELERATOR.type
    assert float(metric.result()) == pytest.approx(7 / 4)
    accuracy = metrics.SparseCategoricalAccuracy()
    accuracy.update_state(np.array([1, 0]), torch.tensor([[0.1, 0.9], [0.2, 0.8]], device=ACCELERATOR))
    assert accuracy.count.device.type == ACCELERATOR.type
    assert float(accuracy.result()) == 0.5


def test_symbolic_scope_leaves_state_alone_and_returns_zeros():
    metric = metrics.SparseCategoricalAccuracy()
    metric.update_state([1, 0], [[0.1, 0.9], [0.8, 0.2]])
    before = [v.numpy().copy() for v in metric.variables]
    with symbolic_scope():
        value = metric([0, 0], [[0.1, 0.9], [0.1, 0.9]])
    assert float(value) == 0.0 and value.dtype == torch.float32
    for variable, old in zip(metric.variables, before):
        np.testing.assert_array_equal(variable.numpy(), old)
    assert float(metric([0, 0], [[0.1, 0.9], [0.1, 0.9]])) == pytest.approx(0.5)
    guide = CategoricalTruePositives()
    with symbolic_scope():
        assert float(guide(torch.tensor([[1]]), torch.tensor([[0.0, 1.0]]))) == 0.0
    assert float(guide.result()) == 0.0
    structured = ManyStates()
    with symbolic_scope():
        value = structured([1.0])
    assert float(value["table"]) == 0.0 and float(value["inner"]) == 0.0
    assert float(structured.table.sum()) == 6.0


@pytest.mark.parametrize(
    "metric,y_true,y_pred",
    [
        (metrics.Accuracy(), torch.tensor([[1], [2], [3], [0]]), torch.tensor([[1], [2], [0], [0]])),
        (metrics.BinaryAccuracy(), torch.ones(4, 1), torch.rand(4, 1)),
        (metrics.CategoricalAccuracy(), torch.eye(3)[[0, 1, 2, 0]], torch.rand(4, 3)),
        (metrics.SparseCategoricalAccuracy(), torch.tensor([[0], [1], [2], [0]]), torch.rand(4, 3)),
        (metrics.MeanSquaredError(), torch.rand(4, 3), torch.rand(4, 3)),
        (metrics.MeanAbsoluteError(), torch.rand(4, 3), torch.rand(4, 3)),
        (metrics.BinaryCrossentropy(from_logits=True), torch.ones(4, 3), torch.rand(4, 3)),
        (metrics.CategoricalCrossentropy(), torch.eye(3)[[0, 1, 2, 0]], torch.rand(4, 3)),
        (metrics.SparseCategoricalCrossentropy(ignore_class=0), torch.tensor([0, 1, 2, 0]), torch.rand(4, 3)),
    ],
)
def test_updates_and_results_do_no_host_sync(no_host_sync, metric, y_true, y_pred):
    with no_host_sync():
        metric.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred, sample_weight=torch.rand(4))
        metric.result()
        metric.reset_state()


def test_batch_loss_tracking_does_no_host_sync(no_host_sync):
    # A training loop tracks the mean batch loss weighted by the batch size, a Python int.
    tracker = metrics.Mean(name="loss")
    first, second = torch.tensor(2.0), torch.tensor(5.0)
    with no_host_sync():
        tracker.update_state(first, sample_weight=32)
        tracker.update_state(second, sample_weight=16)
        tracker.update_state(1.0)
        value = tracker.result()
    assert float(value) == pytest.approx((2 * 32 + 5 * 16 + 1) / 49)


def test_sync_check_detects_reads_and_uploads(no_host_sync):
    with pytest.raises(AssertionError):
        with no_host_sync():
            bool(torch.ones(1) > 0)
    with pytest.raises(AssertionError):
        with no_host_sync():
            metrics.Mean().update_state([1.0, 2.0])


def test_config_round_trip():
    metric = metrics.BinaryAccuracy(name="acc_07", threshold=0.7, dtype="float64")
    clone = metrics.BinaryAccuracy.from_config(metric.get_config())
    assert clone.get_config() == {"name": "acc_07", "dtype": "float64", "threshold": 0.7}
    guide = CategoricalTruePositives.from_config(CategoricalTruePositives(name="tp").get_config())
    assert guide.name == "tp"
    assert repr(guide) == "<CategoricalTruePositives name=tp>"


def test_mean_metric_wrapper_config_names_its_function():
    metric = metrics.MeanMetricWrapper(metrics.binary_accuracy, threshold=0.3)
    assert metric.name == "binary_accuracy"
    config = metric.get_config()
    assert config["fn"]["config"] == "binary_accuracy" and config["threshold"] == 0.3
    clone = metrics.MeanMetricWrapper.from_config(config)
    clone.update_state([[1.0], [0.0]], [[0.4], [0.2]])
    assert float(clone.result()) == 1.0


def test_deepcopy_gives_independent_state():
    metric = ManyStates()
    metric.update_state([1.0])
    clone = copy.deepcopy(metric)
    assert clone.table is clone.variables[2] and clone.inner.total is clone.variables[-1]
    clone.update_state([5.0])
    assert float(metric.inner.result()) == 1.0 and float(clone.inner.result()) == 6.0
    clone.reset_state()
    np.testing.assert_array_equal(metric.table.numpy(), [2, 3, 4])
    np.testing.assert_array_equal(clone.table.numpy(), [1, 2, 3])


# Errors.


class ForgotSuper(Metric):
    def __init__(self):
        self.total = None


def test_forgetting_super_init():
    with pytest.raises(RuntimeError, match=r"must call `super\(\).__init__\(\)`"):
        ForgotSuper().add_weight("total")
    with pytest.raises(RuntimeError, match=r"must call `super\(\).__init__\(\)`"):
        ForgotSuper()(1.0)


def test_base_methods_must_be_overridden():
    with pytest.raises(NotImplementedError, match="must implement `update_state`"):
        Metric().update_state(1.0)
    with pytest.raises(NotImplementedError, match="must implement `result`"):
        Metric().result()


def test_bad_initializers():
    metric = Metric()
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot_uniform' for metric variable 'w'.*'zeros'"):
        metric.add_weight("w", initializer="glorot_uniform")
    with pytest.raises(ValueError, match=r"gave shape \(3,\), which does not fit the variable's shape \(2,\)"):
        metric.add_weight("w", shape=(2,), initializer=np.zeros(3))


def test_wrapper_needs_a_callable():
    with pytest.raises(TypeError, match="expects `fn` to be a function"):
        metrics.MeanMetricWrapper("accuracy")

"""The guide's add_loss / add_metric / LogisticEndpoint examples, ported to ember."""

import numpy as np
import pytest
import torch

import ember
from ember import layers


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.random((256, 784), dtype=np.float32), rng.integers(0, 10, 256).astype("float32")


def test_metric_logging_layer(data):
    x_train, y_train = data

    class MetricLoggingLayer(layers.Layer):
        def call(self, inputs):
            # The `aggregation` argument defines how to aggregate the per-batch values over each
            # epoch: in this case we simply average them.
            self.add_metric(torch.std(inputs, unbiased=False), name="std_of_activation", aggregation="mean")
            return inputs

    inputs = ember.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = MetricLoggingLayer()(x)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    model = ember.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=ember.optimizers.RMSprop(learning_rate=1e-3),
        loss=ember.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "std_of_activation"]
    # evaluate: the mean over batches of the per-batch std of dense_1's activations
    logs = model.evaluate(x_train, y_train, batch_size=64, verbose=0, return_dict=True)
    with torch.no_grad():
        hidden = model.get_layer("dense_1")(torch.as_tensor(x_train))
    expected = np.mean([float(torch.std(hidden[i : i + 64], unbiased=False)) for i in range(0, 256, 64)])
    assert logs["std_of_activation"] == pytest.approx(expected, rel=1e-5)


def test_functional_model_add_loss_and_add_metric(data):
    x_train, y_train = data
    inputs = ember.Input(shape=(784,), name="digits")
    x1 = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x2 = layers.Dense(64, activation="relu", name="dense_2")(x1)
    outputs = layers.Dense(10, name="predictions")(x2)
    model = ember.Model(inputs=inputs, outputs=outputs)
    model.add_loss(torch.sum(x1) * 0.1)
    model.add_metric(torch.std(x1, unbiased=False), name="std_of_activation", aggregation="mean")
    model.compile(
        optimizer=ember.optimizers.RMSprop(1e-3),
        loss=ember.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    xb, yb = torch.as_tensor(x_train[:64]), torch.as_tensor(y_train[:64]).long()
    with torch.no_grad():
        hidden = model.get_layer("dense_1")(xb)
        expected_loss = torch.nn.functional.cross_entropy(model(xb), yb) + hidden.sum() * 0.1
    logs = model.evaluate(x_train[:64], y_train[:64], batch_size=64, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(float(expected_loss), rel=1e-5)
    assert logs["std_of_activation"] == pytest.approx(float(torch.std(hidden, unbiased=False)), rel=1e-5)
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "std_of_activation"]


def test_logistic_endpoint_compiles_without_loss():
    class LogisticEndpoint(layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = ember.losses.BinaryCrossentropy(from_logits=True)
            self.accuracy_fn = ember.metrics.BinaryAccuracy()

        def call(self, targets, logits, sample_weights=None):
            # Compute the training-time loss value and add it to the layer using `self.add_loss()`.
            loss = self.loss_fn(targets, logits, sample_weights)
            self.add_loss(loss)
            # Log accuracy as a metric and add it to the layer using `self.add_metric()`.
            acc = self.accuracy_fn(targets, logits, sample_weights)
            self.add_metric(acc, name="accuracy")
            # Return the inference-time prediction tensor (for `.predict()`).
            return torch.softmax(logits, dim=-1)

    inputs = ember.Input(shape=(3,), name="inputs")
    targets = ember.Input(shape=(10,), name="targets")
    logits = layers.Dense(10, name="logits")(inputs)
    predictions = LogisticEndpoint(name="predictions")(logits, targets)
    model = ember.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")  # No loss argument!
    data = {"inputs": np.random.random((3, 3)), "targets": np.random.random((3, 10))}
    history = model.fit(data, verbose=0)
    # As in the guide's output: the metric object's own name is logged.
    assert list(history.history) == ["loss", "binary_accuracy"]
    with torch.no_grad():
        lg = model.get_layer("logits")(torch.as_tensor(data["inputs"], dtype=torch.float32))
    logs = model.evaluate(data, verbose=0, return_dict=True)
    # The guide calls the layer as (logits, targets) on `call(self, targets, logits)`: the dense
    # output lands in `targets` and the targets in `logits`; ember does exactly what that code says.
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.as_tensor(data["targets"], dtype=torch.float32), lg)
    assert logs["loss"] == pytest.approx(float(expected), rel=1e-5)
    assert model.predict(data, verbose=0).shape == (3, 10)


def test_add_loss_callable_and_errors():
    inputs = ember.Input(shape=(4,))
    dense = layers.Dense(2)
    model = ember.Model(inputs, dense(inputs))
    model.add_loss(lambda: torch.sum(torch.square(dense.kernel)))
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.random.rand(8, 4).astype("float32"), np.zeros((8, 2), "float32")
    with torch.no_grad():
        expected = torch.mean(torch.square(model(torch.as_tensor(x)))) + torch.sum(torch.square(dense.kernel))
    assert model.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(float(expected), rel=1e-5)
    assert len(model.losses) == 1
    with pytest.raises(ValueError, match="needs a `name`"):
        model.add_metric(torch.sum(inputs))
    with pytest.raises(ValueError, match="aggregation='mean'"):
        layers.Layer().add_metric(torch.ones(()), name="x", aggregation="sum")

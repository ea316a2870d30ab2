"""The guide "Training & evaluation with the built-in methods", ported to ember.

Its code is run with ``import ember`` for ``keras`` and torch for ``tf`` math; the
documented behaviour (history keys, evaluate's list, predict's shape, the
validation split, weighting) is asserted. MNIST is replaced by small random
data of the same shapes so the test is hermetic and fast.
"""

import numpy as np
import pytest
import torch

import ember
from ember import layers


@pytest.fixture
def mnist_like():
    rng = np.random.default_rng(0)
    x_train = rng.random((640, 784), dtype=np.float32)
    y_train = rng.integers(0, 10, 640).astype("float32")
    x_test = rng.random((200, 784), dtype=np.float32)
    y_test = rng.integers(0, 10, 200).astype("float32")
    # Reserve samples for validation, as the guide does with its last 10,000.
    x_val, y_val = x_train[-128:], y_train[-128:]
    return x_train[:-128], y_train[:-128], x_val, y_val, x_test, y_test


def get_uncompiled_model():
    inputs = ember.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = ember.Model(inputs=inputs, outputs=outputs)
    return model


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


def test_end_to_end_workflow(mnist_like, capsys):
    x_train, y_train, x_val, y_val, x_test, y_test = mnist_like
    model = get_uncompiled_model()
    model.compile(
        optimizer=ember.optimizers.RMSprop(),
        loss=ember.losses.SparseCategoricalCrossentropy(),
        metrics=[ember.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_data=(x_val, y_val), verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "8/8" in out and "val_sparse_categorical_accuracy" in out
    assert list(history.history) == [
        "loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy",
    ]
    assert all(len(v) == 2 for v in history.history.values())
    assert history.epoch == [0, 1]
    assert history.params["epochs"] == 2 and history.params["steps"] == 8
    # The model learns: training loss goes down on this data.
    assert history.history["loss"][1] < history.history["loss"][0]

    results = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    assert isinstance(results, list) and len(results) == 2
    assert model.metrics_names == ["loss", "sparse_categorical_accuracy"]
    as_dict = model.evaluate(x_test, y_test, batch_size=128, verbose=0, return_dict=True)
    assert dict(zip(model.metrics_names, results)) == pytest.approx(as_dict)

    # Independent check of evaluate's numbers from predict's probabilities.
    probs = model.predict(x_test, verbose=0)
    assert probs.shape == (200, 10)
    expected_loss = -np.mean(np.log(np.clip(probs[np.arange(200), y_test.astype(int)], 1e-7, 1 - 1e-7)))
    expected_acc = np.mean(probs.argmax(1) == y_test)
    assert results[0] == pytest.approx(expected_loss, rel=1e-4)
    assert results[1] == pytest.approx(expected_acc)

    predictions = model.predict(x_test[:3], verbose=0)
    assert predictions.shape == (3, 10)
    assert isinstance(predictions, np.ndarray)


def test_custom_loss_function(mnist_like):
    x_train, y_train, *_ = mnist_like

    def custom_mean_squared_error(y_true, y_pred):
        return torch.mean(torch.square(y_true - y_pred))

    model = get_uncompiled_model()
    model.compile(optimizer=ember.optimizers.Adam(), loss=custom_mean_squared_error)
    y_train_one_hot = torch.nn.functional.one_hot(torch.as_tensor(y_train).long(), 10).float()
    history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)
    assert list(history.history) == ["loss"]
    assert 0 < history.history["loss"][0] < 0.2


def test_custom_loss_subclass(mnist_like):
    x_train, y_train, *_ = mnist_like

    class CustomMSE(ember.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = torch.mean(torch.square(y_true - y_pred))
            reg = torch.mean(torch.square(0.5 - y_pred))
            return mse + reg * self.regularization_factor

    model = get_uncompiled_model()
    model.compile(optimizer=ember.optimizers.Adam(), loss=CustomMSE())
    y_one_hot = torch.nn.functional.one_hot(torch.as_tensor(y_train).long(), 10).float()
    model.fit(x_train, y_one_hot, batch_size=64, epochs=1, verbose=0)
    probs = torch.as_tensor(model.predict(x_train, verbose=0))
    expected = torch.mean(torch.square(y_one_hot - probs)) + 0.1 * torch.mean(torch.square(0.5 - probs))
    loss = model.evaluate(x_train, y_one_hot, batch_size=len(x_train), verbose=0)
    assert loss == pytest.approx(float(expected), rel=1e-5)


def test_custom_metric(mnist_like):
    x_train, y_train, *_ = mnist_like

    class CategoricalTruePositives(ember.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_weight(name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = torch.reshape(torch.argmax(y_pred, dim=1), shape=(-1, 1))
            values = y_true.reshape(-1, 1).to(torch.int32) == y_pred.to(torch.int32)
            values = values.to(torch.float32)
            if sample_weight is not None:
                values = values * sample_weight.to(torch.float32).reshape(-1, 1)
            self.true_positives.assign_add(torch.sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    model = get_uncompiled_model()
    model.compile(
        optimizer=ember.optimizers.RMSprop(learning_rate=1e-3),
        loss=ember.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0)
    counts = history.history["categorical_true_positives"]
    assert len(counts) == 3
    # A count of correctly classified samples: an integer between 0 and the dataset size.
    assert all(float(c).is_integer() and 0 <= c <= len(x_train) for c in counts)
    # evaluate resets the state, then counts exactly the argmax matches.
    _, tp = model.evaluate(x_train, y_train, verbose=0)
    assert tp == np.sum(model.predict(x_train, verbose=0).argmax(1) == y_train)


def test_activity_regularization_layer_add_loss(mnist_like):
    x_train, y_train, *_ = mnist_like

    class ActivityRegularizationLayer(layers.Layer):
        def call(self, inputs):
            self.add_loss(torch.sum(inputs) * 0.1)
            return inputs

    inputs = ember.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    model = ember.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=ember.optimizers.RMSprop(learning_rate=1e-3),
        loss=ember.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    # The loss includes the regularization term: compare with the term computed by hand.
    xb = torch.as_tensor(x_train[:64])
    with torch.no_grad():
        hidden = model.get_layer("dense_1")(xb)
        logits = model(xb)
    expected = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y_train[:64]).long()) + hidden.sum() * 0.1
    loss = model.evaluate(x_train[:64], y_train[:64], batch_size=64, verbose=0)
    assert loss == pytest.approx(float(expected), rel=1e-5)
    # Losses are those of the latest call only.
    model(xb)
    assert len(model.losses) == 1
    model(xb)
    assert len(model.losses) == 1
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    assert history.history["loss"][0] > 1.0


def test_validation_split_uses_last_fraction(mnist_like):
    x_train, y_train, *_ = mnist_like
    model = get_compiled_model()
    seen = []

    class Spy(ember.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            seen.append(batch)

    history = model.fit(x_train, y_train, batch_size=64, validation_split=0.2, epochs=1, verbose=0, callbacks=[Spy()])
    n_val = len(x_train) - int(np.floor(len(x_train) * 0.8))
    assert len(seen) == int(np.ceil(n_val / 64))
    assert history.params["steps"] == int(np.ceil((len(x_train) - n_val) / 64))
    # The validation loss is exactly evaluate() on the last 20% of the arrays.
    val_loss = model.evaluate(x_train[-n_val:], y_train[-n_val:], batch_size=64, verbose=0)[0]
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)


def test_class_weight_and_sample_weight_are_equivalent(mnist_like):
    x_train, y_train, *_ = mnist_like
    class_weight = {i: 1.0 for i in range(10)}
    class_weight[5] = 2.0
    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0
    histories = []
    for kwargs in ({"class_weight": class_weight}, {"sample_weight": sample_weight}):
        torch.manual_seed(0)
        ember.backend.clear_session()
        model = get_compiled_model()
        histories.append(model.fit(x_train, y_train, batch_size=64, epochs=1, shuffle=False, verbose=0, **kwargs).history)
    assert histories[0] == histories[1]

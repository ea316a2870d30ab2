"""Sequential models, subclassed models and wrapped torch modules."""

import numpy as np
import pytest
import torch

import ember
from ember import layers


def _data(n=96):
    rng = np.random.default_rng(0)
    x = rng.random((n, 8), dtype=np.float32)
    y = (x.sum(1) > 4).astype("float32")
    return x, y


def test_sequential_with_input_builds_eagerly():
    model = ember.Sequential([ember.Input(shape=(8,)), layers.Dense(4, activation="relu"), layers.Dense(1)])
    assert model.built
    assert len(model.layers) == 2  # the input is not listed, as in Keras
    assert model.output_names == [model.layers[-1].name]
    assert model.count_params() == 8 * 4 + 4 + 4 + 1


def test_sequential_without_input_builds_on_first_batch():
    model = ember.Sequential()
    model.add(layers.Dense(4, activation="relu"))
    model.add(layers.Dense(1))
    assert not model.built
    x, y = _data()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y.reshape(-1, 1), epochs=1, verbose=0)
    assert model.built
    assert model.layers[0].kernel.shape == (8, 4)
    out = model(torch.as_tensor(x))
    by_hand = model.layers[1](model.layers[0](torch.as_tensor(x)))
    torch.testing.assert_close(out, by_hand)


def test_sequential_input_shape_argument_and_pop():
    model = ember.Sequential([layers.Dense(4, input_shape=(8,)), layers.Dense(2), layers.Dense(1)])
    assert model.built and model.layers[0].kernel.shape == (8, 4)
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and len(model.layers) == 2
    assert model(torch.zeros(3, 8)).shape == (3, 2)


def test_sequential_matches_functional_numerically():
    seq = ember.Sequential([ember.Input(shape=(8,)), layers.Dense(3), layers.Activation("tanh")])
    inputs = ember.Input(shape=(8,))
    func = ember.Model(inputs, layers.Activation("tanh")(layers.Dense(3)(inputs)))
    func.set_weights(seq.get_weights())
    x = torch.randn(5, 8)
    torch.testing.assert_close(seq(x), func(x))


def test_subclassed_model_trains_and_gets_training_flag():
    seen = []

    class MyModel(ember.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(16, activation="relu")
            self.dropout = layers.Dropout(0.5)
            self.out = layers.Dense(1, activation="sigmoid")

        def call(self, inputs, training=None):
            seen.append(training)
            return self.out(self.dropout(self.hidden(inputs)))

    model = MyModel()
    assert model.name.startswith("my_model")
    x, y = _data()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)  # never called before fit: built lazily
    assert set(history.history) == {"loss", "accuracy"}
    assert history.history["loss"][1] < history.history["loss"][0]  # it really trains
    before = [w.detach().clone() for w in model.trainable_weights]
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert all(not torch.equal(a, b.detach()) for a, b in zip(before, model.trainable_weights))
    assert True in seen
    seen.clear()
    model.predict(x, verbose=0)
    assert seen and all(t is False for t in seen)
    assert [l.name.split("_")[0] for l in model.layers] == ["dense", "dropout", "dense"]
    # dropout is active in training mode only
    xt = torch.as_tensor(x)
    torch.testing.assert_close(model(xt), model(xt))
    assert not torch.equal(model(xt, training=True), model(xt, training=True))


def test_subclass_without_call_is_a_clear_error():
    class Empty(ember.Model):
        pass

    with pytest.raises(NotImplementedError, match="must define `call"):
        Empty()(torch.zeros(1, 2))


def test_wrapped_torch_module_model():
    net = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 1))
    model = ember.Model(net)
    x, y = _data()
    model.compile(optimizer=torch.optim.SGD(net.parameters(), lr=0.1), loss="mse")
    before = [p.detach().clone() for p in net.parameters()]
    model.fit(x, y.reshape(-1, 1), epochs=1, verbose=0)
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before, net.parameters()))
    assert not net.training  # fit leaves the model in inference mode
    preds = model.predict(x, verbose=0)
    np.testing.assert_allclose(preds, net(torch.as_tensor(x)).detach().numpy(), rtol=1e-6)
    assert len(model.trainable_weights) == 4

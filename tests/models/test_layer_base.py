"""The Layer base: lifecycle, weights, training flag, add_loss, config, names."""

import numpy as np
import pytest
import torch

import ember
from ember import layers


class Scale(layers.Layer):
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self.build_calls = 0

    def build(self, input_shape):
        self.build_calls += 1
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")
        self.count = self.add_weight(name="count", shape=(), initializer="zeros", trainable=False)

    def call(self, inputs, training=None):
        self.last_training = training
        return inputs * self.scale * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_lazy_build_once_and_weights():
    layer = Scale(2.0)
    assert not layer.built and layer.weights == []
    out = layer(torch.ones(2, 3))
    layer(torch.ones(4, 3))
    assert layer.build_calls == 1 and layer.built
    torch.testing.assert_close(out, torch.full((2, 3), 2.0))
    assert [w.name for w in layer.trainable_weights] == ["scale"]
    assert [w.name for w in layer.non_trainable_weights] == ["count"]
    assert isinstance(layer.scale, torch.nn.Parameter)
    assert dict(layer.named_parameters()).keys() == {"scale", "count"}


def test_variable_methods():
    layer = Scale()
    layer(torch.ones(1, 2))
    layer.scale.assign(torch.tensor([3.0, 4.0]))
    layer.scale.assign_add(np.array([1.0, 1.0]))
    layer.scale.assign_sub(torch.tensor([0.5, 0.5]))
    np.testing.assert_allclose(layer.scale.numpy(), [3.5, 4.5])
    with pytest.raises(ValueError, match="Cannot assign a value of shape"):
        layer.scale.assign(torch.zeros(3))


def test_get_set_weights_and_errors():
    dense = layers.Dense(3)
    dense(torch.zeros(1, 2))
    kernel, bias = dense.get_weights()
    assert kernel.shape == (2, 3) and bias.shape == (3,)
    new = [np.arange(6, dtype="float32").reshape(2, 3), np.ones(3, "float32")]
    dense.set_weights(new)
    torch.testing.assert_close(dense(torch.ones(1, 2)), torch.tensor([[4.0, 6.0, 8.0]]))
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        dense.set_weights(new[:1])
    with pytest.raises(ValueError, match=r"has shape \(2, 3\), but set_weights\(\) was given shape \(3, 2\)"):
        dense.set_weights([new[0].T, new[1]])


def test_trainable_flag_freezes_weights():
    model = ember.Sequential([ember.Input(shape=(4,)), layers.Dense(3), layers.Dense(1)])
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    frozen = model.layers[0].kernel.detach().clone()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.random.rand(16, 4).astype("float32"), np.random.rand(16, 1).astype("float32"), verbose=0)
    torch.testing.assert_close(model.layers[0].kernel.detach(), frozen)


def test_training_flag_propagates_to_nested_layers():
    inner = Scale()

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = inner

        def call(self, inputs):  # no `training` argument: still passed down
            return self.inner(inputs)

    outer = Outer()
    outer(torch.ones(1, 2), training=True)
    assert inner.last_training is True
    outer(torch.ones(1, 2))
    assert inner.last_training is None
    outer(torch.ones(1, 2), training=False)
    assert inner.last_training is False


def test_add_loss_keeps_latest_call_only():
    class Reg(layers.Layer):
        def call(self, inputs):
            self.add_loss(inputs.sum())
            return inputs

    reg = Reg()
    reg(torch.ones(2))
    reg(torch.ones(3))
    assert len(reg.losses) == 1 and float(reg.losses[0]) == 3.0


def test_config_round_trip_and_auto_names():
    ember.backend.clear_session()
    first, second = layers.Dense(2), layers.Dense(2)
    assert (first.name, second.name) == ("dense", "dense_1")
    assert Scale().name == "scale"
    config = layers.Dense(5, activation="relu", name="d").get_config()
    clone = layers.Dense.from_config(config)
    assert clone.get_config() == config and clone.units == 5
    scale = Scale.from_config(Scale(3.0, name="s").get_config())
    assert scale.factor == 3.0 and scale.name == "s"


def test_bad_layer_arguments():
    with pytest.raises(ValueError, match="positive integer"):
        layers.Dense(0)
    with pytest.raises(ValueError, match=r"rate.*\[0, 1\)"):
        layers.Dropout(1.5)
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Dense(3, unitz=4)
    with pytest.raises(ValueError, match="Unknown activation|unknown activation|Could not interpret"):
        layers.Dense(3, activation="nope")


def test_dense_and_dropout_match_keras(keras):
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    ours = layers.Dense(3, activation="gelu")
    ours(torch.as_tensor(x))
    theirs = keras.layers.Dense(3, activation="gelu")
    theirs.build((None, 5))
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(), keras.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)
    drop = layers.Dropout(0.25)
    out = drop(torch.ones(2000), training=True)
    kept = out[out != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / 0.75))
    assert 0.2 < float((out == 0).float().mean()) < 0.3
    assert torch.equal(drop(torch.ones(5)), torch.ones(5))

"""LossScaleOptimizer: skip-and-halve on non-finite gradients and growth, step by step against Keras 3."""

import numpy as np
import pytest
import torch

import ember
from ember.optimizers import LossScaleOptimizer

INF, NAN = np.inf, np.nan
# Scaled gradients for a 2-element variable: finite runs, an inf, a NaN, and runs long enough to grow.
GRADIENTS = [[1, 1], [2, 2], [INF, 1], [1, 1], [NAN, 0], [4, 4], [8, 8], [8, 8], [1, 1], [-2, 3], [1, -INF]]


def _inner(kind, module):
    if kind == "sgd":
        return module.optimizers.SGD(learning_rate=0.1, momentum=0.5)
    return module.optimizers.Adam(learning_rate=0.1)


def _keras_trace(keras, kind, growth_steps):
    variable = keras.Variable(np.array([1.0, 2.0], dtype="float32"))
    optimizer = keras.optimizers.LossScaleOptimizer(
        _inner(kind, keras), initial_scale=8.0, dynamic_growth_steps=growth_steps
    )
    trace = []
    for grad in GRADIENTS:
        optimizer.apply([torch.tensor(np.array(grad, dtype="float32"))], [variable])
        trace.append(
            (variable.numpy().copy(), float(optimizer.dynamic_scale), int(optimizer.step_counter), int(optimizer.iterations))
        )
    return trace


@pytest.mark.parametrize("sync_free", [False, True], ids=["branch", "on_device"])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("growth_steps", [2, 3])
def test_scripted_gradients_match_keras(keras, kind, growth_steps, sync_free):
    expected = _keras_trace(keras, kind, growth_steps)
    variable = ember.backend.Variable(torch.tensor([1.0, 2.0]), name="w")
    optimizer = LossScaleOptimizer(_inner(kind, ember), initial_scale=8.0, dynamic_growth_steps=growth_steps)
    optimizer.build([variable])
    optimizer._sync_free = sync_free  # the accelerator path, exercised on the CPU
    for i, (grad, (value, scale, counter, iterations)) in enumerate(zip(GRADIENTS, expected)):
        variable.grad = torch.tensor(np.array(grad, dtype="float32"))
        optimizer.step([variable])
        np.testing.assert_allclose(variable.detach().numpy(), value, rtol=1e-6, err_msg=f"step {i}")
        assert float(optimizer.dynamic_scale) == scale, f"step {i}"
        assert int(optimizer.step_counter) == counter, f"step {i}"
        assert int(optimizer.iterations) == iterations, f"step {i}"


def test_apply_matches_keras(keras):
    expected = _keras_trace(keras, "sgd", 2)
    variable = ember.backend.Variable(torch.tensor([1.0, 2.0]), name="w")
    optimizer = LossScaleOptimizer(_inner("sgd", ember), initial_scale=8.0, dynamic_growth_steps=2)
    for grad, (value, scale, _, _) in zip(GRADIENTS, expected):
        given = torch.tensor(np.array(grad, dtype="float32"))
        optimizer.apply([given], [variable])
        assert np.array_equal(given.numpy(), np.array(grad, dtype="float32"), equal_nan=True)  # not modified
        np.testing.assert_allclose(variable.detach().numpy(), value, rtol=1e-6)
        assert float(optimizer.dynamic_scale) == scale


def test_scale_loss_and_backward_skip_on_inf():
    weight = torch.nn.Parameter(torch.tensor([1.0, -1.0]))
    optimizer = LossScaleOptimizer(ember.optimizers.SGD(learning_rate=0.5), initial_scale=4.0)
    optimizer.scale_loss((weight * torch.tensor([1.0, 3.0])).sum()).backward()
    np.testing.assert_allclose(weight.grad.numpy(), [4.0, 12.0])  # scaled by 4
    optimizer.step([weight])
    np.testing.assert_allclose(weight.detach().numpy(), [1.0 - 0.5, -1.0 - 1.5])  # unscaled gradients
    before = weight.detach().clone()
    optimizer.zero_grad([weight])
    optimizer.scale_loss((weight * torch.tensor([float("inf"), 1.0])).sum()).backward()
    optimizer.step([weight])
    assert torch.equal(weight.detach(), before)
    assert float(optimizer.dynamic_scale) == 2.0
    assert int(optimizer.iterations) == 1


def test_config_matches_keras_and_round_trips(keras):
    ours = LossScaleOptimizer(ember.optimizers.Adam(learning_rate=0.01), initial_scale=128.0, dynamic_growth_steps=7)
    theirs = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(learning_rate=0.01), initial_scale=128.0, dynamic_growth_steps=7)
    config, expected = ours.get_config(), theirs.get_config()
    assert sorted(config) == sorted(expected)
    assert config["initial_scale"] == expected["initial_scale"]
    assert config["dynamic_growth_steps"] == expected["dynamic_growth_steps"]
    restored = ember.optimizers.deserialize(ember.optimizers.serialize(ours))
    assert isinstance(restored, LossScaleOptimizer)
    assert isinstance(restored.inner_optimizer, ember.optimizers.Adam)
    assert float(restored.dynamic_scale) == 128.0 and restored.dynamic_growth_steps == 7
    assert LossScaleOptimizer(ember.optimizers.SGD()).initial_scale == float(theirs.__class__(keras.optimizers.SGD()).initial_scale)


def test_learning_rate_is_the_inner_optimizers():
    inner = ember.optimizers.SGD(learning_rate=0.25)
    optimizer = LossScaleOptimizer(inner)
    assert float(optimizer.learning_rate) == 0.25
    optimizer.learning_rate = 0.5
    assert float(inner.learning_rate) == 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"inner_optimizer": "adam"}, "`inner_optimizer` must be an ember Optimizer instance"),
        ({"initial_scale": 0}, r"`initial_scale` must be a number > 0, got initial_scale=0"),
        ({"dynamic_growth_steps": 0}, r"`dynamic_growth_steps` must be an integer >= 1, got dynamic_growth_steps=0"),
        ({"dynamic_growth_steps": 2.5}, "dynamic_growth_steps=2.5"),
    ],
)
def test_bad_arguments(kwargs, message):
    arguments = {"inner_optimizer": ember.optimizers.SGD(), **kwargs}
    with pytest.raises((TypeError, ValueError), match=message):
        LossScaleOptimizer(**arguments)


def test_state_survives_model_save_and_load(tmp_path):
    model = ember.Sequential([ember.Input((2,)), ember.layers.Dense(1)])
    optimizer = LossScaleOptimizer(ember.optimizers.Adam(0.01), initial_scale=16.0, dynamic_growth_steps=5)
    model.compile(optimizer=optimizer, loss="mse")
    x = np.random.rand(12, 2).astype("float32")
    model.fit(x, x.sum(1), batch_size=4, epochs=1, verbose=0)  # 3 finite steps
    model.save(tmp_path / "m.ember")
    loaded = ember.models.load_model(tmp_path / "m.ember")
    assert isinstance(loaded.optimizer, LossScaleOptimizer)
    assert isinstance(loaded.optimizer.inner_optimizer, ember.optimizers.Adam)
    assert float(loaded.optimizer.dynamic_scale) == 16.0
    assert int(loaded.optimizer.step_counter) == int(optimizer.step_counter) == 3
    assert int(loaded.optimizer.iterations) == 3

"""Training under mixed policies: low-precision compute, float32 weights and losses, automatic loss scaling."""

import math

import numpy as np
import pytest
import torch

import ember
from ember import layers, mixed_precision


@pytest.fixture(autouse=True)
def _restore_policy():
    yield
    mixed_precision.set_global_policy("float32")


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.random((n, 4), dtype=np.float32)
    return x, x @ np.array([[1.0], [-2.0], [0.5], [3.0]], dtype=np.float32)


def _model(final_dtype=None):
    return ember.Sequential(
        [ember.Input((4,)), layers.Dense(16, activation="relu"), layers.Dense(1, dtype=final_dtype)]
    )


def test_mixed_bfloat16_trains_with_float32_weights_and_bfloat16_compute():
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = _model(final_dtype="float32")
    seen = {}

    def record(name):
        def hook(module, args, output):
            seen.setdefault(name, output.dtype)

        return hook

    model.layers[0].register_forward_hook(record("hidden"))
    model.layers[1].register_forward_hook(record("final"))
    model.compile(optimizer=ember.optimizers.Adam(0.01), loss="mse")
    x, y = _data()
    history = model.fit(x, y, batch_size=16, epochs=4, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0]
    assert seen == {"hidden": torch.bfloat16, "final": torch.float32}
    assert all(w.dtype == torch.float32 for w in model.weights)
    assert model.predict(x, verbose=0).dtype == np.float32


def test_loss_is_computed_in_float32_from_low_precision_outputs():
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = _model()  # the final layer computes in bfloat16 too
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(8)
    direct = model(torch.from_numpy(x))
    assert direct.dtype == torch.bfloat16  # as Keras: a mixed layer's output is in its compute dtype
    expected = np.mean((direct.float().detach().numpy() - y) ** 2)
    loss = model.evaluate(x, y, verbose=0, batch_size=8)
    np.testing.assert_allclose(loss, expected, rtol=1e-6)


def test_layers_compute_in_their_own_policy(keras):
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = _model(final_dtype="float32")
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        oracle = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1, dtype="float32")]
        )
        x = torch.rand(3, 4)
        assert model.layers[0](x).dtype == torch.bfloat16 == oracle.layers[0](x).dtype
        assert model(x).dtype == torch.float32 == oracle(x).dtype
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_mixed_float16_wraps_the_optimizer_as_keras(keras):
    mixed_precision.set_global_policy("mixed_float16")
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        oracle = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        oracle.compile(optimizer="sgd", loss="mse")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    assert type(model.optimizer).__name__ == type(oracle.optimizer).__name__ == "LossScaleOptimizer"
    assert isinstance(model.optimizer.inner_optimizer, ember.optimizers.SGD)
    model.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert isinstance(model.optimizer, ember.optimizers.SGD)
    mixed_precision.set_global_policy("mixed_bfloat16")
    bf16_model = _model()
    bf16_model.compile(optimizer="sgd", loss="mse")
    assert isinstance(bf16_model.optimizer, ember.optimizers.SGD)  # bfloat16 needs no loss scaling


def test_mixed_float16_fit_skips_overflowing_steps_and_halves_the_scale():
    mixed_precision.set_global_policy("mixed_float16")
    model = _model()
    initial = 2.0**40  # float16 gradients overflow until the scale has come down
    optimizer = ember.optimizers.LossScaleOptimizer(ember.optimizers.SGD(0.01), initial_scale=initial)
    model.compile(optimizer=optimizer, loss="mse")
    x, y = _data()
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
    scale = float(optimizer.dynamic_scale)
    skipped = round(math.log2(initial / scale))
    assert 0 < skipped < 24
    assert int(optimizer.iterations) == 3 * 8 - skipped
    assert np.isfinite(history.history["loss"][-1])
    assert all(torch.isfinite(w).all() and w.dtype == torch.float32 for w in model.weights)

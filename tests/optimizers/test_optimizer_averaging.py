"""Moving averages of the weights (``use_ema``), gradient accumulation and ``iterations``, against Keras."""

import numpy as np
import pytest
import torch

from ember import optimizers
from ember.backend import Variable


def _pair(keras):
    rng = np.random.default_rng(5)
    arrays = [rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=(2,)).astype("float32")]
    ours = [Variable(torch.tensor(a), name=n) for a, n in zip(arrays, ("kernel", "bias"))]
    theirs = [keras.Variable(a.copy(), name=n) for a, n in zip(arrays, ("kernel", "bias"))]
    return ours, theirs


def _gradients(step):
    generator = torch.Generator().manual_seed(step)
    return [torch.randn(3, 2, generator=generator), torch.randn(2, generator=generator)]


def test_iterations_count_updates_when_accumulating(keras):
    """`iterations` is calls // N (a tensor); updates happen on every Nth call only, as in Keras."""
    ours, theirs = _pair(keras)
    optimizer = optimizers.SGD(learning_rate=0.1, gradient_accumulation_steps=3)
    keras_optimizer = keras.optimizers.SGD(learning_rate=0.1, gradient_accumulation_steps=3)
    initial = [v.numpy().copy() for v in ours]
    for call in range(7):
        optimizer.apply_gradients(zip(_gradients(call), ours))
        keras_optimizer.apply_gradients(zip(_gradients(call), theirs))
        assert int(optimizer.iterations) == int(keras_optimizer.iterations) == (call + 1) // 3
        assert isinstance(optimizer.iterations, torch.Tensor)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)
        if call < 2:
            for o, start in zip(ours, initial):
                np.testing.assert_array_equal(o.numpy(), start)
    # After 7 calls: two updates, each with the mean of its 3 gradients (a NumPy oracle).
    expected = [start.copy() for start in initial]
    for first in (0, 3):
        for i in range(2):
            expected[i] -= 0.1 * np.mean([_gradients(first + k)[i].numpy() for k in range(3)], axis=0)
    for o, e in zip(ours, expected):
        np.testing.assert_allclose(o.numpy(), e, rtol=1e-6, atol=1e-6)
    # The 7th gradient waits in the accumulators.
    accumulators = [v for v in optimizer.variables if v.name.endswith("_gradient_accumulator")]
    for accumulator, gradient in zip(accumulators, _gradients(6)):
        np.testing.assert_allclose(accumulator.numpy(), gradient.numpy())


def test_iterations_setter():
    optimizer = optimizers.Adam(gradient_accumulation_steps=4)
    optimizer.iterations = 3
    assert int(optimizer.iterations) == 3 and int(optimizer._iterations) == 12
    optimizer = optimizers.Adam()
    optimizer.iterations = torch.tensor(7)
    assert int(optimizer.iterations) == 7
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValueError, match=r"`iterations` must be an integer >= 0, got iterations="):
            optimizer.iterations = bad


def test_schedule_sees_every_call_when_accumulating():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1

    optimizer = optimizers.SGD(learning_rate=schedule, gradient_accumulation_steps=2)
    param = torch.nn.Parameter(torch.ones(2))
    for _ in range(5):
        param.grad = torch.ones(2)
        optimizer.step([param])
    assert seen == [0, 1, 2, 3, 4]  # Keras also calls a schedule with the raw call count
    assert int(optimizer.iterations) == 2


def test_moving_average_against_numpy():
    """The average follows `m * average + (1 - m) * weight`, starting from the first updated weight."""
    param = torch.nn.Parameter(torch.zeros(3))
    optimizer = optimizers.SGD(learning_rate=0.5, use_ema=True, ema_momentum=0.75)
    expected_weight, expected_average = np.zeros(3, dtype="float32"), None
    for step in range(4):
        gradient = np.arange(3, dtype="float32") + step
        param.grad = torch.from_numpy(gradient)
        optimizer.step([param])
        expected_weight = expected_weight - 0.5 * gradient
        if expected_average is None:
            expected_average = expected_weight.copy()
        else:
            expected_average = 0.75 * expected_average + 0.25 * expected_weight
        average = next(v for v in optimizer.variables if v.name.endswith("_average"))
        np.testing.assert_allclose(average.numpy(), expected_average, rtol=1e-6)
        np.testing.assert_allclose(param.detach().numpy(), expected_weight, rtol=1e-6)
    optimizer.finalize_variable_values([param])
    np.testing.assert_allclose(param.detach().numpy(), expected_average, rtol=1e-6)


def test_finalize_variable_values_matches_keras(keras):
    ours, theirs = _pair(keras)
    optimizer = optimizers.Adam(learning_rate=0.1, use_ema=True, ema_momentum=0.6)
    keras_optimizer = keras.optimizers.Adam(learning_rate=0.1, use_ema=True, ema_momentum=0.6)
    for step in range(3):
        optimizer.apply_gradients(zip(_gradients(step), ours))
        keras_optimizer.apply_gradients(zip(_gradients(step), theirs))
    before = [v.numpy().copy() for v in ours]
    optimizer.finalize_variable_values(ours)
    keras_optimizer.finalize_variable_values(theirs)
    for o, t, b in zip(ours, theirs, before):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)
        assert not np.allclose(o.numpy(), b)


def test_finalize_variable_values_without_ema_or_before_build_does_nothing():
    param = torch.nn.Parameter(torch.ones(2))
    optimizers.Adam(use_ema=True).finalize_variable_values([param])  # never built
    optimizer = optimizers.SGD(learning_rate=0.5)
    param.grad = torch.ones(2)
    optimizer.step([param])
    optimizer.finalize_variable_values([param])
    np.testing.assert_array_equal(param.detach().numpy(), [0.5, 0.5])


def test_finalize_variable_values_rejects_unknown_variables():
    known, stranger = Variable(torch.ones(2), name="kernel"), Variable(torch.ones(3), name="stranger")
    optimizer = optimizers.SGD(use_ema=True)
    optimizer.build([known])
    with pytest.raises(ValueError, match=r"Cannot finalize variable stranger: optimizer .* has no moving average"):
        optimizer.finalize_variable_values([known, stranger])
    np.testing.assert_array_equal(known.numpy(), [1.0, 1.0])  # nothing was half-written


def test_overwrite_frequency_counts_updates_not_calls(keras):
    """With accumulation, `ema_overwrite_frequency` counts optimizer updates, as in Keras."""
    ours, theirs = _pair(keras)
    kwargs = {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.5, "ema_overwrite_frequency": 2,
              "gradient_accumulation_steps": 2}
    optimizer, keras_optimizer = optimizers.SGD(**kwargs), keras.optimizers.SGD(**kwargs)
    for call in range(8):
        optimizer.apply_gradients(zip(_gradients(call), ours))
        keras_optimizer.apply_gradients(zip(_gradients(call), theirs))
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-6, atol=1e-7, err_msg=f"call {call + 1}")
    for o, t in zip(optimizer.variables, keras_optimizer.variables):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-6, atol=1e-7, err_msg=o.name)


@pytest.mark.parametrize("shapes", [((2, 3, 4), ()), ((5, 1), (1, 3))])
def test_adafactor_factors_over_the_last_two_axes_like_keras(shapes, keras):
    rng = np.random.default_rng(11)
    arrays = [rng.normal(size=shape).astype("float32") for shape in shapes]
    ours = [Variable(torch.tensor(a), name=f"w{i}") for i, a in enumerate(arrays)]
    theirs = [keras.Variable(a.copy(), name=f"w{i}") for i, a in enumerate(arrays)]
    optimizer, keras_optimizer = optimizers.Adafactor(learning_rate=0.1), keras.optimizers.Adafactor(learning_rate=0.1)
    for step in range(3):
        grads = [torch.tensor(rng.normal(size=shape).astype("float32")) for shape in shapes]
        optimizer.apply_gradients(zip(grads, ours))
        keras_optimizer.apply_gradients(zip(grads, theirs))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)
    assert [(v.name, tuple(v.shape)) for v in optimizer.variables] == [
        (v.name, tuple(v.shape)) for v in keras_optimizer.variables
    ]
    for o, t in zip(optimizer.variables, keras_optimizer.variables):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-5, atol=1e-6, err_msg=o.name)


def test_exclude_from_weight_decay_with_adamw_matches_keras(keras):
    ours, theirs = _pair(keras)
    optimizer, keras_optimizer = optimizers.AdamW(0.1, weight_decay=0.5), keras.optimizers.AdamW(0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    keras_optimizer.exclude_from_weight_decay(var_names=["bias"])
    for step in range(3):
        optimizer.apply_gradients(zip(_gradients(step), ours))
        keras_optimizer.apply_gradients(zip(_gradients(step), theirs))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)

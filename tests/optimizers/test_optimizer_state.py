"""Optimizer state: slots, learning rate, iterations, saving, weight-decay exclusion, the hot path."""

import numpy as np
import pytest
import torch

from ember import optimizers
from ember.backend import Variable
from ember.optimizers import clipping


def _variables():
    return [
        Variable(torch.linspace(-1, 1, 24).reshape(2, 3, 2, 2), name="kernel"),
        Variable(torch.linspace(-0.5, 0.5, 2), name="bias"),
    ]


def _gradients(step):
    generator = torch.Generator().manual_seed(step)
    return [torch.randn(2, 3, 2, 2, generator=generator), torch.randn(2, generator=generator)]


def _keras_twin(keras, variables):
    return [keras.Variable(v.numpy().copy(), name=v.name) for v in variables]


def test_slots_follow_their_variable():
    kernel = Variable(torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last), name="kernel")
    bias = Variable(torch.randn(3, dtype=torch.float64), name="bias")
    optimizer = optimizers.Adam(amsgrad=True)
    optimizer.build([kernel, bias])
    names = [v.name for v in optimizer.variables]
    assert names == [
        "iteration",
        "learning_rate",
        "kernel_momentum",
        "kernel_velocity",
        "bias_momentum",
        "bias_velocity",
        "kernel_velocity_hat",
        "bias_velocity_hat",
    ]
    for slot in optimizer.variables[2:]:
        reference = kernel if slot.name.startswith("kernel") else bias
        assert slot.shape == reference.shape and slot.dtype == reference.dtype and slot.device == reference.device
        assert slot.stride() == reference.stride()
        assert not slot.requires_grad and not slot.numpy().any()
    assert optimizer.iterations.dtype == torch.int64 and optimizer.iterations.name == "iteration"


@pytest.mark.parametrize("name", ["Adagrad", "Ftrl"])
def test_constant_initialized_slots_keep_layout(name):
    kernel = Variable(torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last), name="kernel")
    optimizer = getattr(optimizers, name)(initial_accumulator_value=0.25)
    optimizer.build([kernel])
    accumulator = next(v for v in optimizer.variables if v.name == "kernel_accumulator")
    assert accumulator.stride() == kernel.stride()
    assert (accumulator.numpy() == 0.25).all()


def test_step_accepts_module_parameters_generator():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    twin.load_state_dict(model.state_dict())
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    by_generator, by_apply = optimizers.RMSprop(0.01, momentum=0.5), optimizers.RMSprop(0.01, momentum=0.5)
    for _ in range(3):
        torch.nn.functional.mse_loss(model(x), y).backward()
        by_generator.step(model.parameters())
        by_generator.zero_grad(model.parameters())
        grads = torch.autograd.grad(torch.nn.functional.mse_loss(twin(x), y), list(twin.parameters()))
        by_apply.apply_gradients(zip(grads, twin.parameters()))
    for ours, reference in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(ours, reference, rtol=0, atol=0)
        assert ours.grad is None


def test_step_without_arguments_uses_built_variables():
    variables = _variables()
    optimizer = optimizers.SGD(learning_rate=0.5)
    optimizer.build(variables)
    for variable in variables:
        variable.grad = torch.ones_like(variable)
    before = [v.numpy().copy() for v in variables]
    optimizer.step()
    optimizer.zero_grad()
    for variable, old in zip(variables, before):
        np.testing.assert_allclose(variable.numpy(), old - 0.5)
        assert variable.grad is None


def test_learning_rate_property_like_keras(keras):
    optimizer, keras_optimizer = optimizers.SGD(learning_rate=0.1), keras.optimizers.SGD(learning_rate=0.1)
    assert isinstance(optimizer.learning_rate, Variable)
    assert optimizer.learning_rate.dtype == torch.float32 and optimizer.learning_rate.shape == ()
    assert optimizer.learning_rate.numpy() == keras_optimizer.learning_rate.numpy()
    optimizer.learning_rate = 0.25
    assert float(optimizer.learning_rate) == 0.25
    # The callback idiom: scale the current value (a tensor) and assign it back.
    optimizer.learning_rate = optimizer.learning_rate * 0.5
    keras_optimizer.learning_rate = 0.25
    keras_optimizer.learning_rate = keras_optimizer.learning_rate * 0.5
    assert float(optimizer.learning_rate) == float(keras_optimizer.learning_rate) == 0.125
    optimizer.learning_rate.assign(0.5)  # Keras-style in-place assignment is seen by the next step
    param = torch.nn.Parameter(torch.zeros(1))
    param.grad = torch.ones(1)
    optimizer.step([param])
    assert param.item() == -0.5

    # Switching to a schedule drops the learning-rate variable from the state, as in Keras.
    optimizer.learning_rate = lambda step: 0.125
    keras_optimizer.learning_rate = lambda: 0.125
    assert [v.name for v in optimizer.variables] == [v.name for v in keras_optimizer.variables] == ["iteration"]
    assert float(optimizer.learning_rate) == float(keras_optimizer.learning_rate) == 0.125


def test_schedule_receives_python_step_counts():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1

    calls = []
    optimizer = optimizers.Adam(learning_rate=schedule)
    constant = optimizers.SGD(learning_rate=lambda: calls.append(None) or 0.1)
    param = torch.nn.Parameter(torch.ones(2))
    for _ in range(3):
        param.grad = torch.ones(2)
        optimizer.step([param])
        constant.step([param])
    assert seen == [0, 1, 2] and all(type(step) is int for step in seen)
    assert len(calls) == 3


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.Adam(0.05, amsgrad=True),
        lambda: optimizers.Nadam(0.05),  # its momentum product is state with a Python mirror
        lambda: optimizers.Adafactor(0.05, use_ema=True, ema_overwrite_frequency=3),
        lambda: optimizers.Ftrl(0.05, gradient_accumulation_steps=3),  # stop mid-accumulation
    ],
)
def test_save_and_load_own_variables_resume_exactly(make):
    uninterrupted, variables = make(), _variables()
    for step in range(7):
        uninterrupted.apply_gradients(zip(_gradients(step), variables))

    first, resumed_vars = make(), _variables()
    for step in range(4):
        first.apply_gradients(zip(_gradients(step), resumed_vars))
    store = {}
    first.save_own_variables(store)
    assert sorted(store, key=int) == [str(i) for i in range(len(first.variables))]

    second = make()
    second.build(resumed_vars)
    second.load_own_variables(store)
    assert int(second.iterations) == int(first.iterations)
    for step in range(4, 7):
        second.apply_gradients(zip(_gradients(step), resumed_vars))
    for expected, got in zip(variables, resumed_vars):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    for expected, got in zip(uninterrupted.variables, second.variables):
        np.testing.assert_array_equal(got.numpy(), expected.numpy(), err_msg=got.name)


def test_load_own_variables_with_wrong_count_warns():
    optimizer = optimizers.Adam()
    with pytest.warns(UserWarning, match=r"Skipping variable loading for optimizer .* has 2 variables but the saved optimizer has 1"):
        optimizer.load_own_variables({"0": np.array(3)})
    assert int(optimizer.iterations) == 0


def test_set_weights_restores_state():
    optimizer, variables = optimizers.SGD(0.1, momentum=0.9), _variables()
    optimizer.apply_gradients(zip(_gradients(0), variables))
    weights = [v.numpy() for v in optimizer.variables]
    clone = optimizers.SGD(0.1, momentum=0.9)
    clone.build(variables)
    clone.set_weights(weights)
    for ours, theirs in zip(clone.variables, optimizer.variables):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_exclude_from_weight_decay_matches_keras(keras):
    variables, extra = _variables(), Variable(torch.ones(3), name="scale")
    keras_vars = _keras_twin(keras, variables + [extra])
    optimizer = optimizers.Adam(0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_list=[extra], var_names=["bias"])
    keras_optimizer = keras.optimizers.Adam(0.1, weight_decay=0.5)
    keras_optimizer.exclude_from_weight_decay(var_list=[keras_vars[2]], var_names=["bias"])
    for step in range(3):
        grads = _gradients(step) + [torch.full((3,), 0.1)]
        optimizer.apply_gradients(zip(grads, variables + [extra]))
        keras_optimizer.apply_gradients(zip(grads, keras_vars))
    for ours, theirs in zip(variables + [extra], keras_vars):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_variable_constraint_applied_after_update_like_keras(keras):
    variables = _variables()
    keras_vars = _keras_twin(keras, variables)
    variables[0].constraint = lambda w: torch.clamp(w, -0.2, 0.2)
    keras_vars[0].constraint = lambda w: keras.ops.clip(w, -0.2, 0.2)
    optimizer, keras_optimizer = optimizers.SGD(0.1, momentum=0.5), keras.optimizers.SGD(0.1, momentum=0.5)
    for step in range(2):
        optimizer.apply_gradients(zip(_gradients(step), variables))
        keras_optimizer.apply_gradients(zip(_gradients(step), keras_vars))
    assert variables[0].abs().max().item() == pytest.approx(0.2)
    for ours, theirs in zip(variables, keras_vars):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


def test_scale_loss():
    assert optimizers.Adam(loss_scale_factor=4.0).scale_loss(torch.tensor(2.0)).item() == 8.0
    assert optimizers.Adam().scale_loss(torch.tensor(2.0)).item() == 2.0


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.Adam(learning_rate=lambda step: 0.01 / (1 + step), weight_decay=0.1, global_clipnorm=1.0),
        lambda: optimizers.RMSprop(momentum=0.5, centered=True, clipnorm=0.5),
        lambda: optimizers.SGD(momentum=0.9, nesterov=True, clipvalue=0.1, loss_scale_factor=2.0),
        lambda: optimizers.AdamW(amsgrad=True, use_ema=True, ema_overwrite_frequency=2),
        lambda: optimizers.Adagrad(gradient_accumulation_steps=2, global_clipnorm=1.0),
        lambda: optimizers.Adadelta(weight_decay=0.1, use_ema=True),
        lambda: optimizers.Adamax(gradient_accumulation_steps=3, use_ema=True, ema_overwrite_frequency=1),
        lambda: optimizers.Nadam(learning_rate=lambda step: 0.01 * 0.9**step, gradient_accumulation_steps=2),
        lambda: optimizers.Ftrl(l1_regularization_strength=0.1, beta=0.1, clipnorm=1.0),
        lambda: optimizers.Lion(weight_decay=0.1, use_ema=True),
        lambda: optimizers.Adafactor(gradient_accumulation_steps=2, use_ema=True),
    ],
)
def test_hot_path_never_reads_tensors_back(make, monkeypatch):
    optimizer, variables = make(), _variables()
    params = [variables[0], torch.nn.Parameter(torch.ones(2), requires_grad=True), variables[1]]
    for param in params:
        param.grad = torch.ones_like(param)
    optimizer.step(params)  # build and plan outside the watched region

    def forbidden(*args, **kwargs):
        raise AssertionError("device-to-host read in the optimizer step")

    for method in ("item", "tolist", "numpy", "__float__", "__int__", "__bool__"):
        monkeypatch.setattr(torch.Tensor, method, forbidden)
    for _ in range(3):
        optimizer.step(params)
    params[1].grad = None
    optimizer.step(params)
    monkeypatch.undo()
    assert int(optimizer.iterations) == 5 // (optimizer.gradient_accumulation_steps or 1)


def test_clipping_functions_against_numpy():
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=(3, 4)) * 5, rng.normal(size=(4,)) * 0.01, np.zeros(2)]
    tensors = [torch.tensor(a) for a in arrays]
    for got, a in zip(clipping.clip_by_value(tensors, 0.5), arrays):
        np.testing.assert_allclose(got.numpy(), np.clip(a, -0.5, 0.5))
    for got, a in zip(clipping.clip_by_norm(tensors, 1.0), arrays):
        np.testing.assert_allclose(got.numpy(), a * 1.0 / max(np.linalg.norm(a), 1.0))
    total = np.sqrt(sum((a**2).sum() for a in arrays))
    for got, a in zip(clipping.clip_by_global_norm(tensors, 2.0), arrays):
        np.testing.assert_allclose(got.numpy(), a * 2.0 / max(total, 2.0))
    for got, a in zip(tensors, arrays):  # inputs are left untouched
        np.testing.assert_array_equal(got.numpy(), a)


def test_global_clipnorm_with_infinite_gradient_gives_nan_like_keras(keras):
    grads = [torch.tensor([np.inf, 1.0]), torch.tensor([2.0])]
    ours = clipping.clip_by_global_norm(grads, 1.0)
    from keras.src.optimizers.base_optimizer import clip_by_global_norm

    theirs = clip_by_global_norm(grads, 1.0)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), keras.ops.convert_to_numpy(t))
    assert np.isnan(ours[1].numpy()).all()


def test_keras_style_custom_optimizer(keras):
    """A per-variable `update_step` subclass, written as the Keras guide writes one, matches Keras."""

    def make(base, sign):
        class SignMomentum(base):
            def __init__(self, learning_rate=0.1, beta=0.5, **kwargs):
                super().__init__(learning_rate=learning_rate, **kwargs)
                self.beta = beta

            def build(self, variables):
                if self.built:
                    return
                super().build(variables)
                self.moments = [self.add_variable_from_reference(v, "moment") for v in variables]

            def update_step(self, gradient, variable, learning_rate):
                moment = self.moments[self._get_variable_index(variable)]
                self.assign(moment, moment * self.beta + gradient)
                self.assign_sub(variable, sign(moment) * learning_rate)

        return SignMomentum(weight_decay=0.1, clipvalue=0.5)

    optimizer = make(optimizers.Optimizer, torch.sign)
    keras_optimizer = make(keras.optimizers.Optimizer, keras.ops.sign)
    variables = _variables()
    keras_vars = _keras_twin(keras, variables)
    for step in range(3):
        optimizer.apply_gradients(zip(_gradients(step), variables))
        keras_optimizer.apply_gradients(zip(_gradients(step), keras_vars))
    for ours, theirs in zip(variables, keras_vars):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)
    assert [v.name for v in optimizer.variables] == [v.name for v in keras_optimizer.variables]

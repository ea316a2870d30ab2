"""Every optimizer case against Keras 3: same initial weights, same gradients, same weights after each step.

Each case runs three ways: Keras's ``apply_gradients`` on ``keras.Variable``s (the
oracle), ember's ``apply_gradients``, and ember's PyTorch-style ``step(params)`` on
parameters whose ``.grad`` holds the same gradients.
"""

import math
import re

import numpy as np
import pytest
import torch

from ember import optimizers
from ember.backend import Variable

NAMES = ("kernel", "bias")
SHAPES = ((3, 4), (4,))
# Gradient scale per step: large and small steps so that clipping engages and
# AMSGrad's running maximum differs from the plain second moment.
STEP_SCALES = (3.0, 0.3, 2.0, 0.1, 1.0)


class HalvingSchedule:
    """ember-side schedule: called with the number of completed steps."""

    def __call__(self, step):
        return 0.1 * 0.5**step


def _keras_halving_schedule(keras):
    class KerasHalving(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.1 * keras.ops.power(0.5, keras.ops.cast(step, "float32"))

    return KerasHalving()


def _constant_callable():
    return 0.05


# (optimizer class, keyword arguments, dtypes of the two variables, gradient multiplier)
CASES = [
    ("SGD", {}, ("float32", "float32"), 1.0),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}, ("float32", "float32"), 1.0),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, ("float32", "float32"), 1.0),
    ("SGD", {"learning_rate": 0.1, "nesterov": True}, ("float32", "float32"), 1.0),
    ("SGD", {"learning_rate": 0.1, "weight_decay": 0.05}, ("float32", "float32"), 1.0),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "clipvalue": 0.3}, ("float32", "float32"), 1.0),
    ("SGD", {"learning_rate": _constant_callable, "momentum": 0.9}, ("float32", "float32"), 1.0),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, ("float64", "float32"), 1.0),
    ("RMSprop", {}, ("float32", "float32"), 1.0),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5}, ("float32", "float32"), 1.0),
    ("RMSprop", {"learning_rate": 0.01, "centered": True}, ("float32", "float32"), 1.0),
    (
        "RMSprop",
        {"learning_rate": 0.01, "centered": True, "momentum": 0.3, "rho": 0.8, "epsilon": 1e-3},
        ("float32", "float32"),
        1.0,
    ),
    ("RMSprop", {"learning_rate": 0.01, "clipnorm": 0.5}, ("float32", "float32"), 1.0),
    ("RMSprop", {"learning_rate": "halving", "momentum": 0.5, "weight_decay": 0.1}, ("float32", "float32"), 1.0),
    ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}, ("float32", "float64"), 1.0),
    ("Adam", {}, ("float32", "float32"), 1.0),
    ("Adam", {"learning_rate": 0.05, "amsgrad": True}, ("float32", "float32"), 1.0),
    ("Adam", {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}, ("float32", "float32"), 1.0),
    ("Adam", {"learning_rate": 0.05, "weight_decay": 0.1, "global_clipnorm": 1.0}, ("float32", "float32"), 1.0),
    ("Adam", {"learning_rate": 0.05, "clipnorm": 0.5, "amsgrad": True}, ("float32", "float32"), 1.0),
    ("Adam", {"learning_rate": "halving", "weight_decay": 0.1}, ("float32", "float32"), 1.0),
    ("Adam", {"learning_rate": 0.05, "loss_scale_factor": 128.0}, ("float32", "float32"), 128.0),
    ("Adam", {"learning_rate": 0.05, "global_clipnorm": 1.0, "amsgrad": True}, ("float64", "float32"), 1.0),
    ("AdamW", {}, ("float32", "float32"), 1.0),
    ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.1, "amsgrad": True}, ("float32", "float32"), 1.0),
    ("AdamW", {"learning_rate": "halving", "global_clipnorm": 1.0}, ("float32", "float32"), 1.0),
    ("AdamW", {"learning_rate": 0.05, "beta_1": 0.5, "epsilon": 1e-3}, ("float64", "float32"), 1.0),
    ("Adagrad", {"learning_rate": 0.1}, ("float32", "float32"), 1.0),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-3, "clipnorm": 0.5}, ("float32", "float32"), 1.0),
    ("Adagrad", {"learning_rate": "halving", "weight_decay": 0.1}, ("float32", "float32"), 1.0),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0}, ("float64", "float32"), 1.0),
    ("Adadelta", {"learning_rate": 1.0}, ("float32", "float32"), 1.0),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.5, "epsilon": 1e-3, "clipvalue": 0.5}, ("float32", "float32"), 1.0),
    ("Adadelta", {"learning_rate": 0.5, "weight_decay": 0.1}, ("float64", "float32"), 1.0),
    ("Adamax", {"learning_rate": 0.05}, ("float32", "float32"), 1.0),
    ("Adamax", {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}, ("float32", "float32"), 1.0),
    ("Adamax", {"learning_rate": 0.05, "weight_decay": 0.1, "global_clipnorm": 1.0}, ("float64", "float32"), 1.0),
    ("Nadam", {"learning_rate": 0.05}, ("float32", "float32"), 1.0),
    ("Nadam", {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}, ("float32", "float32"), 1.0),
    ("Nadam", {"learning_rate": "halving", "clipnorm": 0.5}, ("float32", "float32"), 1.0),
    ("Nadam", {"learning_rate": 0.05, "loss_scale_factor": 64.0}, ("float32", "float32"), 64.0),
    ("Nadam", {"learning_rate": 0.05, "weight_decay": 0.1}, ("float64", "float32"), 1.0),
    ("Ftrl", {"learning_rate": 0.1}, ("float32", "float32"), 1.0),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "learning_rate_power": -0.7,
            "initial_accumulator_value": 0.2,
            "l1_regularization_strength": 0.05,
            "l2_regularization_strength": 0.1,
            "l2_shrinkage_regularization_strength": 0.05,
            "beta": 0.3,
        },
        ("float32", "float32"),
        1.0,
    ),
    ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": 0.0, "clipvalue": 1.0}, ("float32", "float32"), 1.0),
    ("Ftrl", {"learning_rate": "halving", "l1_regularization_strength": 0.05, "weight_decay": 0.1}, ("float32", "float32"), 1.0),
    ("Ftrl", {"learning_rate": 0.1, "l2_shrinkage_regularization_strength": 0.1}, ("float64", "float32"), 1.0),
    ("Lion", {"learning_rate": 0.05}, ("float32", "float32"), 1.0),
    ("Lion", {"learning_rate": 0.05, "beta_1": 1.0, "beta_2": 0.5, "weight_decay": 0.1}, ("float32", "float32"), 1.0),
    ("Lion", {"learning_rate": "halving", "clipnorm": 0.5}, ("float64", "float32"), 1.0),
    ("Adafactor", {"learning_rate": 0.05}, ("float32", "float32"), 1.0),
    (
        "Adafactor",
        {"learning_rate": 0.05, "relative_step": False, "clip_threshold": 0.5, "epsilon_2": 0.5, "beta_2_decay": -0.5},
        ("float32", "float32"),
        1.0,
    ),
    ("Adafactor", {"learning_rate": 2.0, "epsilon_1": 1e-3}, ("float32", "float32"), 1.0),
    ("Adafactor", {"learning_rate": "halving", "weight_decay": 0.1, "global_clipnorm": 1.0}, ("float32", "float32"), 1.0),
    ("Adafactor", {"learning_rate": 0.05}, ("float64", "float32"), 1.0),
    # Moving averages of the weights: with and without overwriting the weights.
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "use_ema": True}, ("float32", "float32"), 1.0),
    ("RMSprop", {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.5, "clipvalue": 0.3}, ("float32", "float32"), 1.0),
    ("Adam", {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.5, "ema_overwrite_frequency": 2}, ("float32", "float32"), 1.0),
    ("Adagrad", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.0}, ("float32", "float32"), 1.0),
    ("Lion", {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 1}, ("float32", "float32"), 1.0),
    ("Ftrl", {"learning_rate": 0.1, "use_ema": True, "ema_overwrite_frequency": 3}, ("float32", "float32"), 1.0),
    ("Nadam", {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.7, "weight_decay": 0.1}, ("float64", "float32"), 1.0),
    # Gradient accumulation: alone, with a schedule (called on every call), clipping,
    # weight decay, loss scaling and moving averages.
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "gradient_accumulation_steps": 2}, ("float32", "float32"), 1.0),
    ("Adam", {"learning_rate": "halving", "gradient_accumulation_steps": 2}, ("float32", "float32"), 1.0),
    ("RMSprop", {"learning_rate": 0.01, "gradient_accumulation_steps": 3, "global_clipnorm": 1.0}, ("float32", "float32"), 1.0),
    ("AdamW", {"learning_rate": 0.05, "gradient_accumulation_steps": 2, "use_ema": True, "ema_overwrite_frequency": 1}, ("float32", "float32"), 1.0),
    ("Adagrad", {"learning_rate": 0.1, "gradient_accumulation_steps": 2, "clipnorm": 0.5}, ("float32", "float32"), 1.0),
    ("Adadelta", {"learning_rate": 1.0, "gradient_accumulation_steps": 2, "clipvalue": 0.5}, ("float32", "float32"), 1.0),
    ("Adamax", {"learning_rate": 0.05, "gradient_accumulation_steps": 2, "loss_scale_factor": 8.0}, ("float32", "float32"), 8.0),
    ("Nadam", {"learning_rate": 0.05, "gradient_accumulation_steps": 2, "weight_decay": 0.1}, ("float32", "float32"), 1.0),
    ("Ftrl", {"learning_rate": 0.1, "gradient_accumulation_steps": 3, "use_ema": True}, ("float32", "float32"), 1.0),
    ("Lion", {"learning_rate": 0.05, "gradient_accumulation_steps": 2}, ("float64", "float32"), 1.0),
    ("Adafactor", {"learning_rate": 0.05, "gradient_accumulation_steps": 2, "use_ema": True, "ema_momentum": 0.5}, ("float32", "float32"), 1.0),
]


def _case_id(case):
    name, kwargs, dtypes, _ = case
    args = ",".join(f"{k}={getattr(v, '__name__', v)}" for k, v in kwargs.items())
    return f"{name}({args})-{'/'.join(dtypes)}"


def _data(dtypes, multiplier):
    rng = np.random.default_rng(7)
    weights = [rng.normal(size=shape).astype(dtype) for shape, dtype in zip(SHAPES, dtypes)]
    grads = [
        [(rng.normal(size=shape) * scale * multiplier).astype(dtype) for shape, dtype in zip(SHAPES, dtypes)]
        for scale in STEP_SCALES
    ]
    return weights, grads


def _make(module, name, kwargs, ember_side, keras):
    kwargs = dict(kwargs)
    if kwargs.get("learning_rate") == "halving":
        kwargs["learning_rate"] = HalvingSchedule() if ember_side else _keras_halving_schedule(keras)
    return getattr(module, name)(**kwargs)


def _run_keras(keras, name, kwargs, weights, grads):
    optimizer = _make(keras.optimizers, name, kwargs, False, keras)
    variables = [keras.Variable(w.copy(), dtype=str(w.dtype), name=n) for w, n in zip(weights, NAMES)]
    history = []
    for step_grads in grads:
        optimizer.apply_gradients([(torch.tensor(g), v) for g, v in zip(step_grads, variables)])
        history.append([v.numpy().copy() for v in variables])
    return optimizer, history


def _run_ember_apply(name, kwargs, weights, grads, keras):
    optimizer = _make(optimizers, name, kwargs, True, keras)
    variables = [Variable(torch.tensor(w.copy()), name=n) for w, n in zip(weights, NAMES)]
    history = []
    for step_grads in grads:
        optimizer.apply_gradients([(torch.tensor(g), v) for g, v in zip(step_grads, variables)])
        history.append([v.numpy().copy() for v in variables])
    return optimizer, history


def _run_ember_step(name, kwargs, weights, grads, keras):
    optimizer = _make(optimizers, name, kwargs, True, keras)
    params = [Variable(torch.tensor(w.copy()), name=n) for w, n in zip(weights, NAMES)]
    history = []
    for step_grads in grads:
        for param, grad in zip(params, step_grads):
            param.grad = torch.tensor(grad)
        optimizer.step(params)
        for param, grad in zip(params, step_grads):  # clipping must not rewrite .grad
            np.testing.assert_array_equal(param.grad.numpy(), grad)
        optimizer.zero_grad(params)
        history.append([p.numpy().copy() for p in params])
    return optimizer, history


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_keras_every_step(case, keras):
    name, kwargs, dtypes, multiplier = case
    weights, grads = _data(dtypes, multiplier)
    keras_opt, keras_history = _run_keras(keras, name, kwargs, weights, grads)
    ember_opt, ember_history = _run_ember_apply(name, kwargs, weights, grads, keras)
    _, step_history = _run_ember_step(name, kwargs, weights, grads, keras)

    for step, (expected, got, got_step) in enumerate(zip(keras_history, ember_history, step_history)):
        for var_name, e, g, s in zip(NAMES, expected, got, got_step):
            assert g.dtype == e.dtype
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6, err_msg=f"{var_name} after step {step + 1}")
            np.testing.assert_array_equal(s, g, err_msg=f"step() path, {var_name} after step {step + 1}")
    # The run must actually have moved the weights.
    assert not np.allclose(ember_history[-1][0], weights[0], atol=1e-3)

    # Optimizer state: same names, order, shapes and values as Keras's.
    keras_vars, ember_vars = keras_opt.variables, ember_opt.variables
    assert [v.name for v in ember_vars] == [_session_free_name(v.name) for v in keras_vars]
    for kv, ev in zip(keras_vars, ember_vars):
        np.testing.assert_allclose(ev.numpy(), kv.numpy(), rtol=1e-5, atol=1e-6, err_msg=ev.name)
    assert int(ember_opt.iterations) == int(keras_opt.iterations) == len(STEP_SCALES) // (
        kwargs.get("gradient_accumulation_steps") or 1
    )


def _session_free_name(name):
    """Keras names an unnamed variable "variable", then "variable_1", ... within a session."""
    return re.sub(r"^variable_\d+$", "variable", name)


SUBSET_CASES = [
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("RMSprop", {"learning_rate": 0.1, "momentum": 0.9}),
    ("Adam", {"learning_rate": 0.1}),
    ("AdamW", {"learning_rate": 0.1}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {"learning_rate": 0.1}),
    ("Nadam", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1}),
    ("Lion", {"learning_rate": 0.1}),
    ("Adafactor", {"learning_rate": 0.1}),
    ("Adam", {"learning_rate": 0.1, "gradient_accumulation_steps": 2, "use_ema": True}),
]


@pytest.mark.parametrize("name, kwargs", SUBSET_CASES)
def test_skips_params_without_grad(name, kwargs, keras):
    weights, grads = _data(("float32", "float32"), 1.0)

    # Oracle: Keras built on both variables, applying gradients to the kernel only.
    keras_opt = getattr(keras.optimizers, name)(**kwargs)
    keras_vars = [keras.Variable(w.copy(), name=n) for w, n in zip(weights, NAMES)]
    keras_opt.build(keras_vars)
    for step_grads in grads:
        keras_opt.apply_gradients([(torch.tensor(step_grads[0]), keras_vars[0])])

    optimizer = getattr(optimizers, name)(**kwargs)
    params = [torch.nn.Parameter(torch.tensor(w.copy())) for w in weights]
    for step_grads in grads:
        params[0].grad = torch.tensor(step_grads[0])
        assert params[1].grad is None
        optimizer.step(params)
        optimizer.zero_grad(params)
        assert params[0].grad is None

    np.testing.assert_allclose(params[0].detach().numpy(), keras_vars[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(params[1].detach().numpy(), weights[1])
    assert int(optimizer.iterations) == int(keras_opt.iterations)
    # Every slot, including the untouched bias's, holds what Keras's holds.
    assert len(optimizer.variables) == len(keras_opt.variables)
    for ours, theirs in zip(optimizer.variables, keras_opt.variables):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6, err_msg=theirs.name)


def test_step_without_any_grad_only_counts():
    optimizer = optimizers.Adam()
    param = torch.nn.Parameter(torch.ones(3))
    optimizer.step([param])
    assert int(optimizer.iterations) == 1
    np.testing.assert_array_equal(param.detach().numpy(), np.ones(3))


def test_apply_with_none_gradient_warns_and_skips(keras):
    kernel, bias = Variable(torch.ones(2), name="kernel"), Variable(torch.ones(2), name="bias")
    optimizer = optimizers.SGD(learning_rate=0.5)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['bias'\]"):
        optimizer.apply_gradients([(torch.ones(2), kernel), (None, bias)])
    np.testing.assert_allclose(kernel.numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(bias.numpy(), [1.0, 1.0])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        optimizer.apply_gradients([(None, kernel), (None, bias)])


def test_apply_after_build_takes_gradients_only(keras):
    weights, grads = _data(("float32", "float32"), 1.0)
    _, keras_history = _run_keras(keras, "Adam", {"learning_rate": 0.05}, weights, grads)
    optimizer = optimizers.Adam(learning_rate=0.05)
    variables = [Variable(torch.tensor(w.copy()), name=n) for w, n in zip(weights, NAMES)]
    optimizer.build(variables)
    for step_grads in grads:
        optimizer.apply([torch.tensor(g) for g in step_grads])
    for expected, variable in zip(keras_history[-1], variables):
        np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, by_setter", [("Adam", False), ("Adam", True), ("Nadam", False), ("Adafactor", True)])
def test_changing_learning_rate_and_iterations_mid_training(name, by_setter, keras):
    """Assigning `learning_rate` and `iterations` between steps takes effect, as in Keras."""
    weights, grads = _data(("float32", "float32"), 1.0)
    keras_opt = getattr(keras.optimizers, name)(learning_rate=0.05)
    keras_vars = [keras.Variable(w.copy(), name=n) for w, n in zip(weights, NAMES)]
    optimizer = getattr(optimizers, name)(learning_rate=0.05)
    variables = [Variable(torch.tensor(w.copy()), name=n) for w, n in zip(weights, NAMES)]
    for step, step_grads in enumerate(grads):
        if step == 2:
            keras_opt.learning_rate = 0.01
            optimizer.learning_rate = 0.01
        if step == 3:
            keras_opt.iterations.assign(100)
            if by_setter:
                optimizer.iterations = 100
            else:
                optimizer.iterations.assign(100)
        keras_opt.apply_gradients([(torch.tensor(g), v) for g, v in zip(step_grads, keras_vars)])
        optimizer.apply_gradients([(torch.tensor(g), v) for g, v in zip(step_grads, variables)])
        for kv, ev in zip(keras_vars, variables):
            np.testing.assert_allclose(ev.numpy(), kv.numpy(), rtol=1e-5, atol=1e-6, err_msg=f"step {step + 1}")
    assert int(optimizer.iterations) == int(keras_opt.iterations) == 102
    assert math.isclose(float(optimizer.learning_rate), float(keras_opt.learning_rate))

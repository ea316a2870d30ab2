"""Learning-rate schedules against Keras 3: values at every step, configs, errors, optimizer use."""

import doctest
import importlib
import inspect
import json
import math

import numpy as np
import pytest
import torch

import ember.optimizers.schedules as schedules
from ember import optimizers

CLASS_NAMES = [
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
]

# (class name, arguments): every option, with step counts small enough that 0..STEPS
# crosses staircase periods, boundaries, cycles, warmups and restarts many times.
CASES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.6}),
    ("ExponentialDecay", {"initial_learning_rate": 0.5, "decay_steps": 4, "decay_rate": 0.9, "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [3, 10, 10, 25], "values": [0.1, 0.05, 0.04, 0.01, 0.001]}),
    ("PiecewiseConstantDecay", {"boundaries": [2.5, 7.5], "values": [1, 2, 3]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "end_learning_rate": 0.01, "power": 0.5}),
    (
        "PolynomialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": 0.01, "power": 2.0, "cycle": True},
    ),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 2.0, "staircase": True}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 20}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 20, "alpha": 0.2}),
    (
        "CosineDecay",
        {"initial_learning_rate": 0.01, "decay_steps": 20, "alpha": 0.1, "warmup_target": 0.2, "warmup_steps": 6},
    ),
    ("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 20, "warmup_target": 0.2, "warmup_steps": 0}),
    ("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 20, "warmup_steps": 5}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 5}),
    (
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 3, "t_mul": 1.5, "m_mul": 0.9, "alpha": 0.1},
    ),
    (
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 4, "t_mul": 1.0, "m_mul": 0.5, "alpha": 0.05},
    ),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 1, "t_mul": 3.0}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 8, "t_mul": 0.75, "m_mul": 0.8}),
    # Cycles that shrink run out after first_decay_steps / (1 - t_mul) = 8 steps: nan afterwards, as in Keras.
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 4, "t_mul": 0.5}),
]
STEPS = list(range(150)) + [243, 364, 1000, 12345]


def _case_id(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items() if k != "initial_learning_rate")


def _pair(name, kwargs, keras):
    return getattr(schedules, name)(**kwargs), getattr(keras.optimizers.schedules, name)(**kwargs)


def _keras_values(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


# ----------------------------------------------------------------- values
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_python_steps_match_keras(case, keras):
    ours, theirs = _pair(*case, keras)
    values = [ours(step) for step in STEPS]
    assert all(type(value) is float for value in values)
    np.testing.assert_allclose(values, _keras_values(theirs, STEPS), rtol=1e-5, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_tensor_steps_match_keras(case, keras):
    ours, theirs = _pair(*case, keras)
    steps = torch.tensor(STEPS)
    values = ours(steps)
    assert isinstance(values, torch.Tensor) and values.dtype == torch.float32 and values.shape == steps.shape
    np.testing.assert_allclose(values.numpy(), _keras_values(theirs, STEPS), rtol=1e-5, atol=1e-9, equal_nan=True)
    scalar = ours(torch.tensor(7))
    assert isinstance(scalar, torch.Tensor) and scalar.shape == () and float(scalar) == pytest.approx(float(theirs(7)))


@pytest.mark.parametrize("name, kwargs", CASES[:2] + CASES[-3:-1])
def test_float64_and_numpy_steps(name, kwargs):
    schedule = getattr(schedules, name)(**kwargs)
    steps = np.arange(40)
    from_float64 = schedule(torch.tensor(steps, dtype=torch.float64))
    assert from_float64.dtype == torch.float64
    np.testing.assert_allclose(from_float64.numpy(), [schedule(int(s)) for s in steps], rtol=1e-12, atol=1e-15)
    from_numpy = schedule(steps)
    assert isinstance(from_numpy, torch.Tensor)
    np.testing.assert_allclose(from_numpy.numpy(), [schedule(int(s)) for s in steps], rtol=1e-5, atol=1e-9)
    assert schedule(np.int64(5)) == schedule(5) and type(schedule(np.int64(5))) is float


def test_formulas_against_numpy():
    """An independent check of the textbook formulas, on steps away from any boundary."""
    steps = np.array([0.0, 1.0, 3.0, 6.0, 9.0])
    exponential = schedules.ExponentialDecay(0.2, 4, 0.5)
    np.testing.assert_allclose([exponential(s) for s in steps], 0.2 * 0.5 ** (steps / 4))
    inverse = schedules.InverseTimeDecay(0.2, 4, 0.5)
    np.testing.assert_allclose([inverse(s) for s in steps], 0.2 / (1 + 0.5 * steps / 4))
    polynomial = schedules.PolynomialDecay(0.2, 8, end_learning_rate=0.02, power=3.0)
    clipped = np.minimum(steps, 8)
    np.testing.assert_allclose([polynomial(s) for s in steps], 0.18 * (1 - clipped / 8) ** 3 + 0.02)
    cosine = schedules.CosineDecay(0.2, 8, alpha=0.25)
    expected = 0.2 * (0.75 * 0.5 * (1 + np.cos(np.pi * clipped / 8)) + 0.25)
    np.testing.assert_allclose([cosine(s) for s in steps], expected)


def test_restart_boundaries_are_exact():
    """At the first step of every cycle the rate is back to its (m_mul-scaled) maximum."""
    schedule = schedules.CosineDecayRestarts(1.0, first_decay_steps=1, t_mul=3.0, m_mul=0.5)
    starts = np.cumsum([3**i for i in range(8)])  # 1, 4, 13, 40, 121, 364, ...
    assert [schedule(int(s)) for s in starts] == [0.5 ** (i + 1) for i in range(8)]
    tensor_values = schedule(torch.tensor(starts, dtype=torch.float64))
    assert tensor_values.tolist() == [0.5 ** (i + 1) for i in range(8)]


def test_python_path_builds_no_tensors(monkeypatch):
    """A Python step never touches torch (no kernels, no device reads)."""
    def forbidden(*args, **kwargs):
        raise AssertionError("a torch op ran for a Python step")

    for op in ("floor", "ceil", "cos", "log", "pow", "where", "clamp", "full_like", "tensor", "as_tensor"):
        monkeypatch.setattr(torch, op, forbidden)
    for name, kwargs in CASES:
        schedule = getattr(schedules, name)(**kwargs)
        assert all(type(schedule(step)) is float for step in range(30))


# ----------------------------------------------------------------- configs
@pytest.mark.parametrize("name", CLASS_NAMES)
def test_signature_matches_keras(name, keras):
    ours = inspect.signature(getattr(schedules, name)).parameters
    theirs = inspect.signature(getattr(keras.optimizers.schedules, name)).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_config_matches_keras_and_round_trips(case, keras):
    ours, theirs = _pair(*case, keras)
    config = ours.get_config()
    assert list(config) == list(theirs.get_config()) and config == theirs.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = type(ours).from_config(config)
    keras_clone = type(theirs).from_config(config)
    values = [ours(step) for step in range(40)]
    np.testing.assert_array_equal([clone(step) for step in range(40)], values)
    np.testing.assert_allclose(_keras_values(keras_clone, range(40)), values, rtol=1e-5, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("case", CASES[::3], ids=_case_id)
def test_serialize_interoperates_with_keras(case, keras):
    ours, theirs = _pair(*case, keras)
    serialized = schedules.serialize(ours)
    assert serialized == {
        "module": "ember.optimizers.schedules",
        "class_name": case[0],
        "config": ours.get_config(),
        "registered_name": None,
    }
    from_ours = keras.optimizers.schedules.deserialize(json.loads(json.dumps(serialized)))
    assert type(from_ours) is type(theirs) and from_ours.get_config() == ours.get_config()
    from_keras = schedules.deserialize(keras.optimizers.schedules.serialize(theirs))
    assert type(from_keras) is type(ours) and from_keras.get_config() == ours.get_config()
    assert schedules.get(serialized).get_config() == ours.get_config()


def test_numpy_and_tensor_arguments_become_json_numbers():
    schedule = schedules.PiecewiseConstantDecay(np.array([5, 10]), [np.float32(0.5), torch.tensor(0.25), 0.125])
    assert schedule.get_config() == {"boundaries": [5, 10], "values": [0.5, 0.25, 0.125], "name": "PiecewiseConstant"}
    exponential = schedules.ExponentialDecay(np.float64(0.1), np.int64(10), torch.tensor(0.5))
    assert json.loads(json.dumps(exponential.get_config()))["decay_rate"] == 0.5


class Halving(schedules.LearningRateSchedule):
    def __init__(self, initial_learning_rate):
        self.initial_learning_rate = initial_learning_rate

    def __call__(self, step):
        return self.initial_learning_rate * 0.5**step

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate}


def test_custom_schedule_round_trip():
    serialized = schedules.serialize(Halving(0.4))
    assert serialized["class_name"] == "Halving" and serialized["config"] == {"initial_learning_rate": 0.4}
    clone = schedules.deserialize(serialized, custom_objects={"Halving": Halving})
    assert isinstance(clone, Halving) and clone(2) == 0.1
    assert repr(clone) == "Halving(initial_learning_rate=0.4)"
    assert repr(schedules.PiecewiseConstantDecay([1], [0.1, 0.2])) == (
        "PiecewiseConstantDecay(boundaries=[1], values=[0.1, 0.2], name='PiecewiseConstant')"
    )


def test_get():
    schedule = schedules.CosineDecay(0.1, 10)
    assert schedules.get(schedule) is schedule
    assert schedules.get(None) is None

    def function(step):
        return 0.1

    assert schedules.get(function) is function
    rebuilt = schedules.get({"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 10}})
    assert type(rebuilt) is schedules.CosineDecay and rebuilt(5) == schedule(5)


def test_public_names():
    assert sorted(schedules.__all__) == sorted(
        ["LearningRateSchedule", *CLASS_NAMES, "serialize", "deserialize", "get"]
        + ["exponential_decay", "piecewise_constant_decay", "polynomial_decay", "inverse_time_decay"]
        + ["cosine_decay", "cosine_decay_restarts"]
    )
    for name in schedules.__all__:
        assert hasattr(schedules, name)


MODULES = [
    "step_ops",
    "learning_rate_schedule",
    "exponential_decay",
    "inverse_time_decay",
    "polynomial_decay",
    "piecewise_constant_decay",
    "cosine_decay",
    "registry",
]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(f"ember.optimizers.schedules.{module}"))
    assert result.failed == 0 and result.attempted > 0


# ----------------------------------------------------------------- errors
VALID_ARGUMENTS = {
    "ExponentialDecay": {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5},
    "InverseTimeDecay": {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5},
    "PolynomialDecay": {"initial_learning_rate": 0.1, "decay_steps": 5},
    "CosineDecay": {"initial_learning_rate": 0.1, "decay_steps": 5},
    "CosineDecayRestarts": {"initial_learning_rate": 0.1, "first_decay_steps": 5},
    "PiecewiseConstantDecay": {"boundaries": [1, 2], "values": [0.3, 0.2, 0.1]},
}


@pytest.mark.parametrize(
    "name, bad, pattern",
    [
        ("ExponentialDecay", {"decay_steps": 0}, r"`decay_steps` must be > 0, got decay_steps=0"),
        ("InverseTimeDecay", {"decay_steps": -2}, r"`decay_steps` must be > 0, got decay_steps=-2"),
        ("PolynomialDecay", {"decay_steps": 0}, r"`decay_steps` must be > 0.*e\.g\. decay_steps=1000"),
        ("CosineDecay", {"decay_steps": 0.0}, r"`decay_steps` must be > 0, got decay_steps=0\.0"),
        ("CosineDecayRestarts", {"first_decay_steps": 0}, r"`first_decay_steps` must be > 0, got first_decay_steps=0"),
        ("CosineDecayRestarts", {"t_mul": 0.0}, r"`t_mul` must be > 0, got t_mul=0\.0"),
        ("CosineDecay", {"warmup_steps": -1}, r"`warmup_steps` must be >= 0, got warmup_steps=-1"),
        ("CosineDecay", {"warmup_target": "0.5"}, r"must be a number or None, got warmup_target='0\.5'"),
        ("ExponentialDecay", {"initial_learning_rate": "0.1"}, r"must be a number, got initial_learning_rate='0\.1'"),
        ("ExponentialDecay", {"decay_rate": None}, r"`decay_rate` must be a number, got decay_rate=None"),
        ("ExponentialDecay", {"staircase": "False"}, r"`staircase` must be True or False, got staircase='False'"),
        ("PolynomialDecay", {"cycle": 1}, r"`cycle` must be True or False, got cycle=1"),
        ("PolynomialDecay", {"initial_learning_rate": True}, r"must be a number, got initial_learning_rate=True"),
        ("CosineDecay", {"name": 3}, r"`name` must be a string, got name=3"),
        (
            "PiecewiseConstantDecay",
            {"boundaries": [1, 2], "values": [0.1, 0.2]},
            r"length of `boundaries` must be 1 less than the length of `values`, got boundaries=\[1, 2\] of "
            r"length 2 and values=\[0\.1, 0\.2\] of length 2",
        ),
        ("PiecewiseConstantDecay", {"boundaries": [5, 2]}, r"increasing order.*boundaries\[1\]=2 < boundaries\[0\]=5"),
        ("PiecewiseConstantDecay", {"values": [0.1, "x", 0.2]}, r"`values\[1\]` must be a number, got values\[1\]='x'"),
        ("PiecewiseConstantDecay", {"boundaries": 5}, r"`boundaries` must be a list of numbers, got boundaries=5"),
    ],
)
def test_bad_arguments(name, bad, pattern):
    getattr(schedules, name)(**VALID_ARGUMENTS[name])  # the valid base arguments are accepted
    with pytest.raises(ValueError, match=pattern):
        getattr(schedules, name)(**{**VALID_ARGUMENTS[name], **bad})


@pytest.mark.parametrize(
    "name, bad",
    [
        ("ExponentialDecay", {"decay_steps": 0}),
        ("InverseTimeDecay", {"decay_steps": -1}),
        ("PolynomialDecay", {"decay_steps": 0}),
        ("CosineDecay", {"decay_steps": 0}),
        ("CosineDecayRestarts", {"first_decay_steps": 0}),
        ("PiecewiseConstantDecay", {"values": [0.1, 0.2]}),
    ],
)
def test_keras_rejects_the_same_arguments(name, bad, keras):
    arguments = {**VALID_ARGUMENTS[name], **bad}
    with pytest.raises(ValueError):
        getattr(keras.optimizers.schedules, name)(**arguments)
    with pytest.raises(ValueError, match=r"must be > 0|1 less than"):
        getattr(schedules, name)(**arguments)


@pytest.mark.parametrize("step, pattern", [("3", r"step='3' \(str\)"), (True, "step=True"), (None, "step=None")])
def test_bad_step(step, pattern):
    with pytest.raises(TypeError, match=r"`step` must be a number or a tensor, got " + pattern):
        schedules.ExponentialDecay(0.1, 10, 0.5)(step)
    with pytest.raises(TypeError, match=r"real-valued tensor, got a tensor of dtype torch\.bool"):
        schedules.CosineDecay(0.1, 10)(torch.tensor(True))


def test_base_class_must_be_overridden():
    class Incomplete(schedules.LearningRateSchedule):
        pass

    with pytest.raises(NotImplementedError, match=r"'Incomplete' must override `__call__\(self, step\)`"):
        Incomplete()(0)
    with pytest.raises(NotImplementedError, match=r"'Incomplete' must override `get_config\(\)`"):
        Incomplete().get_config()
    assert repr(Incomplete()).startswith("<")


def test_registry_errors():
    with pytest.raises(ValueError, match=r"Unknown learning-rate schedule 'Nope'.*custom_objects=\{'Nope': "):
        schedules.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match=r"expects a dict with a 'class_name' key.*got 'CosineDecay'"):
        schedules.deserialize("CosineDecay")
    with pytest.raises(ValueError, match=r"need arguments.*string 'CosineDecay'"):
        schedules.get("CosineDecay")
    with pytest.raises(ValueError, match=r"Unknown learning-rate schedule 'cosine'"):
        schedules.get("cosine")
    with pytest.raises(ValueError, match=r"got the class CosineDecay"):
        schedules.get(schedules.CosineDecay)
    with pytest.raises(ValueError, match=r"Could not interpret learning-rate schedule identifier: 0\.1"):
        schedules.get(0.1)
    with pytest.raises(ValueError, match=r"Cannot serialize the learning-rate schedule .*no `get_config\(\)`"):
        schedules.serialize(lambda step: 0.1)


# ----------------------------------------------------------------- in optimizers
def _sgd_steps(learning_rate, steps):
    """Train w (grad 1) with plain SGD; return the learning rate each step used."""
    optimizer = optimizers.SGD(learning_rate=learning_rate)
    param = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
    used = []
    for _ in range(steps):
        before = param.item()
        param.grad = torch.ones((), dtype=torch.float64)
        optimizer.step([param])
        used.append(before - param.item())
    return optimizer, used


@pytest.mark.parametrize("case", CASES[:-1:2], ids=_case_id)
def test_optimizer_uses_schedule_at_completed_steps(case):
    schedule = getattr(schedules, case[0])(**case[1])
    optimizer, used = _sgd_steps(schedule, 25)
    np.testing.assert_allclose(used, [schedule(step) for step in range(25)], rtol=1e-12)
    assert float(optimizer.learning_rate) == pytest.approx(schedule(25), rel=1e-6)


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
def test_optimizer_config_round_trip_with_schedule(optimizer_name):
    schedule = schedules.CosineDecay(0.1, 10, alpha=0.1, warmup_target=0.3, warmup_steps=4)
    optimizer = getattr(optimizers, optimizer_name)(learning_rate=schedule)
    config = optimizer.get_config()
    assert config["learning_rate"] == schedules.serialize(schedule)
    config = json.loads(json.dumps(config))
    clone = getattr(optimizers, optimizer_name).from_config(config)
    assert type(clone._schedule) is schedules.CosineDecay
    assert clone._schedule.get_config() == schedule.get_config()
    restored = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(optimizer))))
    assert [float(restored._schedule(s)) for s in range(20)] == [schedule(s) for s in range(20)]


def test_optimizer_loads_keras_schedule_config(keras):
    keras_schedule = keras.optimizers.schedules.PolynomialDecay(0.1, 5, cycle=True)
    keras_optimizer = keras.optimizers.SGD(learning_rate=keras_schedule)
    ours = optimizers.SGD.from_config(keras_optimizer.get_config())
    assert type(ours._schedule) is schedules.PolynomialDecay
    assert ours._schedule.get_config() == keras_optimizer.get_config()["learning_rate"]["config"]


class NanAfter(schedules.LearningRateSchedule):
    def __init__(self, last_finite_step):
        self.last_finite_step = last_finite_step

    def __call__(self, step):
        return 0.1 if step <= self.last_finite_step else float("nan")

    def get_config(self):
        return {"last_finite_step": self.last_finite_step}


@pytest.mark.parametrize(
    "learning_rate, bad_step, pattern",
    [
        (NanAfter(2), 3, r"NanAfter\(last_finite_step=2\)"),
        (lambda step: 0.1 if step < 4 else math.inf, 4, r"<function <lambda> at"),
        (lambda step: torch.tensor(0.1) if step < 1 else torch.tensor(-math.inf), 1, r"<function <lambda> at"),
        (schedules.CosineDecayRestarts(0.1, first_decay_steps=2, t_mul=0.5), 4, r"CosineDecayRestarts\("),
        (schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=-0.5), 2, r"InverseTimeDecay\("),
    ],
)
def test_non_finite_learning_rate_is_a_clear_error(learning_rate, bad_step, pattern):
    optimizer = optimizers.SGD(learning_rate=learning_rate)
    param = torch.nn.Parameter(torch.zeros(2))
    for _ in range(bad_step):
        param.grad = torch.ones(2)
        optimizer.step([param])
    before = param.detach().clone()
    param.grad = torch.ones(2)
    expected = rf"schedule {pattern}.*non-finite learning rate at step {bad_step}: learning_rate=-?(nan|inf)"
    with pytest.raises(ValueError, match=expected):
        optimizer.step([param])
    assert torch.equal(param.detach(), before)  # nothing was updated with the bad rate
    assert int(optimizer.iterations) == bad_step


def test_zero_argument_callable_returning_nan():
    optimizer = optimizers.Adam(learning_rate=lambda: float("nan"))
    param = torch.nn.Parameter(torch.zeros(2))
    param.grad = torch.ones(2)
    with pytest.raises(ValueError, match=r"at step 0: learning_rate=nan"):
        optimizer.step([param])

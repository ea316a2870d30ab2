"""Signatures, configs, the registry and (de)serialization, checked against Keras."""

import doctest
import inspect
import re

import pytest
import torch

from ember import optimizers
from ember.optimizers import (
    accumulation,
    adadelta,
    adafactor,
    adagrad,
    adam,
    adamax,
    adamw,
    base_optimizer,
    clipping,
    ema,
    ftrl,
    learning_rate_utils,
    lion,
    nadam,
    numerics,
    registry,
    rmsprop,
    sgd,
)

NAMES = ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl", "Lion", "Adafactor"]

CONFIG_CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True, "clipnorm": 1.0}),
    ("RMSprop", {}),
    ("RMSprop", {"rho": 0.8, "momentum": 0.2, "epsilon": 1e-4, "centered": True, "weight_decay": 0.01}),
    ("Adam", {}),
    ("Adam", {"beta_1": 0.8, "beta_2": 0.99, "amsgrad": True, "global_clipnorm": 2.0, "loss_scale_factor": 8.0}),
    ("AdamW", {}),
    ("AdamW", {"weight_decay": 0.1, "amsgrad": True, "use_ema": True, "ema_overwrite_frequency": 5}),
    ("Adagrad", {}),
    ("Adagrad", {"initial_accumulator_value": 0.5, "epsilon": 1e-3, "gradient_accumulation_steps": 4}),
    ("Adadelta", {}),
    ("Adadelta", {"rho": 0.5, "epsilon": 1e-3, "clipvalue": 0.5}),
    ("Adamax", {}),
    ("Adamax", {"beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-3, "use_ema": True, "ema_momentum": 0.9}),
    ("Nadam", {}),
    ("Nadam", {"beta_1": 0.8, "beta_2": 0.9, "epsilon": 1e-3, "weight_decay": 0.01}),
    ("Ftrl", {}),
    (
        "Ftrl",
        {
            "learning_rate_power": -0.7,
            "initial_accumulator_value": 0.2,
            "l1_regularization_strength": 0.1,
            "l2_regularization_strength": 0.2,
            "l2_shrinkage_regularization_strength": 0.3,
            "beta": 0.4,
        },
    ),
    ("Lion", {}),
    ("Lion", {"beta_1": 0.5, "beta_2": 0.9, "global_clipnorm": 1.0}),
    ("Adafactor", {}),
    (
        "Adafactor",
        {"beta_2_decay": -0.5, "epsilon_1": 1e-20, "epsilon_2": 1e-2, "clip_threshold": 2.0, "relative_step": False},
    ),
]


def test_every_optimizer_is_exported_with_its_update_function():
    for name in NAMES:
        assert name in optimizers.__all__
        if name != "AdamW":  # AdamW reuses Adam's update rule
            assert f"{name.lower()}_update" in optimizers.__all__


@pytest.mark.parametrize("name", NAMES)
def test_signature_matches_keras(name, keras):
    ours = inspect.signature(getattr(optimizers, name)).parameters
    theirs = inspect.signature(getattr(keras.optimizers, name)).parameters
    assert list(ours) == list(theirs)
    for arg in theirs:
        assert ours[arg].default == theirs[arg].default, arg


def test_base_signature_matches_keras(keras):
    ours = inspect.signature(optimizers.Optimizer.__init__).parameters
    theirs = inspect.signature(keras.optimizers.Optimizer.__init__).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


@pytest.mark.parametrize("name, kwargs", CONFIG_CASES)
def test_get_config_matches_keras(name, kwargs, keras):
    expected = getattr(keras.optimizers, name)(**kwargs).get_config()
    got = getattr(optimizers, name)(**kwargs).get_config()
    expected.pop("name"), got.pop("name")
    assert list(got) == list(expected)
    assert got == expected


@pytest.mark.parametrize("name, kwargs", CONFIG_CASES)
def test_config_round_trip(name, kwargs):
    optimizer = getattr(optimizers, name)(name="custom", **kwargs)
    config = optimizer.get_config()
    assert type(optimizer).from_config(config).get_config() == config
    clone = optimizers.deserialize(optimizers.serialize(optimizer))
    assert type(clone) is type(optimizer)
    assert clone.get_config() == config


@pytest.mark.parametrize("name, kwargs", CONFIG_CASES)
def test_deserialize_keras_serialized_optimizer(name, kwargs, keras):
    keras_optimizer = getattr(keras.optimizers, name)(**kwargs)
    optimizer = optimizers.deserialize(keras.optimizers.serialize(keras_optimizer))
    assert type(optimizer) is getattr(optimizers, name)
    assert optimizer.get_config() == keras_optimizer.get_config()


def test_default_names_follow_keras():
    assert re.fullmatch(r"sgd(_\d+)?", optimizers.SGD().name)
    assert re.fullmatch(r"rm_sprop(_\d+)?", optimizers.RMSprop().name)
    first, second = optimizers.Adam().name, optimizers.Adam().name
    assert re.fullmatch(r"adam(_\d+)?", first) and first != second


@pytest.mark.parametrize("name", NAMES)
def test_default_name_matches_keras(name, keras):
    pattern = r"(.*?)(_\d+)?"
    ours = re.fullmatch(pattern, getattr(optimizers, name)().name).group(1)
    theirs = re.fullmatch(pattern, getattr(keras.optimizers, name)().name).group(1)
    assert ours == theirs


@pytest.mark.parametrize(
    "identifier, expected",
    [
        ("sgd", "SGD"),
        ("SGD", "SGD"),
        ("rmsprop", "RMSprop"),
        ("RMSprop", "RMSprop"),
        ("RMSProp", "RMSprop"),
        ("adam", "Adam"),
        ("Adam", "Adam"),
        ("adamw", "AdamW"),
        ("AdamW", "AdamW"),
        ("adagrad", "Adagrad"),
        ("adadelta", "Adadelta"),
        ("adamax", "Adamax"),
        ("nadam", "Nadam"),
        ("ftrl", "Ftrl"),
        ("lion", "Lion"),
        ("adafactor", "Adafactor"),
    ],
)
def test_get_by_name_agrees_with_keras(identifier, expected, keras):
    optimizer = optimizers.get(identifier)
    assert type(optimizer).__name__ == expected
    keras_optimizer = keras.optimizers.get(identifier)
    assert {k: v for k, v in optimizer.get_config().items() if k != "name"} == {
        k: v for k, v in keras_optimizer.get_config().items() if k != "name"
    }


def test_get_other_identifiers():
    instance = optimizers.Adam()
    assert optimizers.get(instance) is instance
    assert optimizers.get(None) is None
    assert type(optimizers.get(optimizers.RMSprop)) is optimizers.RMSprop
    from_dict = optimizers.get({"class_name": "SGD", "config": {"momentum": 0.5}})
    assert type(from_dict) is optimizers.SGD and from_dict.momentum == 0.5
    assert registry.ALL_OPTIMIZERS == {name.lower(): getattr(optimizers, name) for name in NAMES}


class StepDecay:
    """A schedule with a config, as a user (or ember.optimizers.schedules) would write it."""

    def __init__(self, initial, rate):
        self.initial, self.rate = initial, rate

    def __call__(self, step):
        return self.initial * self.rate**step

    def get_config(self):
        return {"initial": self.initial, "rate": self.rate}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def test_schedule_config_round_trip():
    optimizer = optimizers.Adam(learning_rate=StepDecay(0.1, 0.5))
    config = optimizers.serialize(optimizer)
    assert config["config"]["learning_rate"]["class_name"] == "StepDecay"
    assert config["config"]["learning_rate"]["config"] == {"initial": 0.1, "rate": 0.5}
    clone = optimizers.deserialize(config, custom_objects={"StepDecay": StepDecay})
    assert isinstance(clone._schedule, StepDecay)
    assert float(clone.learning_rate) == pytest.approx(0.1)


def test_user_defined_optimizer_round_trip():
    class Halving(optimizers.SGD):
        pass

    config = optimizers.serialize(Halving(learning_rate=0.5))
    assert config["class_name"] == "Halving"
    clone = optimizers.deserialize(config, custom_objects={"Halving": Halving})
    assert type(clone) is Halving and float(clone.learning_rate) == 0.5


@pytest.mark.parametrize(
    "module",
    [
        accumulation,
        adadelta,
        adafactor,
        adagrad,
        adam,
        adamax,
        adamw,
        base_optimizer,
        clipping,
        ema,
        ftrl,
        learning_rate_utils,
        lion,
        nadam,
        numerics,
        registry,
        rmsprop,
        sgd,
    ],
)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, extraglobs={"torch": torch}, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0

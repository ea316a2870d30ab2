"""Bad arguments and misuse: clear errors, and the same verdict as Keras where Keras decides."""

import numpy as np
import pytest
import torch

from ember import optimizers
from ember.backend import Variable

# (optimizer class, keyword arguments, expected error, message pattern, Keras also rejects it)
BAD_ARGUMENTS = [
    ("SGD", {"momentum": 1.5}, ValueError, r"`momentum` must be a float between \[0, 1\]\. Received: momentum=1\.5", True),
    ("SGD", {"momentum": -0.1}, ValueError, r"momentum=-0\.1", True),
    ("SGD", {"momentum": "0.9"}, ValueError, r"momentum='0\.9'", True),
    (
        "Adam",
        {"clipnorm": 1.0, "clipvalue": 0.5},
        ValueError,
        r"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set\. Received: clipnorm=1\.0, clipvalue=0\.5",
        True,
    ),
    ("RMSprop", {"clipnorm": 1.0, "global_clipnorm": 2.0}, ValueError, r"global_clipnorm=2\.0", True),
    ("SGD", {"clipvalue": 1.0, "global_clipnorm": 2.0}, ValueError, r"Only one of", True),
    ("Adam", {"learning_rate": "fast"}, ValueError, r"`learning_rate` should be a float.*learning_rate='fast'", True),
    ("Adam", {"learning_rate": None}, ValueError, r"learning_rate=None", True),
    ("Adam", {"learning_rat": 0.1}, ValueError, r"Argument\(s\) not recognized: \{'learning_rat': 0\.1\}", True),
    ("SGD", {"gradient_accumulation_steps": 1}, ValueError, r"must be an integer >= 2 .*Received: gradient_accumulation_steps=1", True),
    ("Adam", {"gradient_accumulation_steps": -2}, ValueError, r"gradient_accumulation_steps=-2", True),
    ("Adam", {"gradient_accumulation_steps": 2.5}, ValueError, r"must be an integer >= 2.*gradient_accumulation_steps=2\.5", False),
    ("Adam", {"gradient_accumulation_steps": "4"}, ValueError, r"gradient_accumulation_steps='4'", False),
    ("Adam", {"use_ema": True, "ema_momentum": 1.5}, ValueError, r"`ema_momentum` must be in the range \[0, 1\]\. Received: ema_momentum=1\.5", True),
    ("SGD", {"use_ema": True, "ema_momentum": -0.1}, ValueError, r"ema_momentum=-0\.1", True),
    ("SGD", {"use_ema": True, "ema_momentum": "high"}, ValueError, r"ema_momentum='high'", False),
    (
        "Adam",
        {"use_ema": True, "ema_overwrite_frequency": 1.5},
        ValueError,
        r"`ema_overwrite_frequency` must be an integer >= 1 or None\. Received: ema_overwrite_frequency=1\.5",
        True,
    ),
    ("Adam", {"use_ema": True, "ema_overwrite_frequency": -1}, ValueError, r"ema_overwrite_frequency=-1", True),
    ("AdamW", {"weight_decay": None}, ValueError, r"`weight_decay` must be a float\. Received: weight_decay=None", True),
    ("Lion", {"beta_1": 0.0}, ValueError, r"`beta_1` must be in the \(0, 1\] range.*Received: beta_1=0\.0", True),
    ("Lion", {"beta_1": 1.5}, ValueError, r"beta_1=1\.5", True),
    ("Ftrl", {"learning_rate_power": 0.5}, ValueError, r"`learning_rate_power` needs to be negative or zero\. Received: learning_rate_power=0\.5", True),
    ("Ftrl", {"initial_accumulator_value": -0.1}, ValueError, r"`initial_accumulator_value` needs to be positive or zero.*=-0\.1", True),
    ("Ftrl", {"l1_regularization_strength": -1.0}, ValueError, r"l1_regularization_strength=-1\.0", True),
    ("Ftrl", {"l2_regularization_strength": -1.0}, ValueError, r"l2_regularization_strength=-1\.0", True),
    ("Ftrl", {"l2_shrinkage_regularization_strength": -1.0}, ValueError, r"l2_shrinkage_regularization_strength=-1\.0", True),
    ("Ftrl", {"beta": "0.1"}, ValueError, r"`beta` must be a number\. Received: beta='0\.1'", False),
    ("Ftrl", {"learning_rate_power": "-0.5"}, ValueError, r"learning_rate_power='-0\.5'", False),
    ("Adagrad", {"learning_rate": [0.1]}, ValueError, r"learning_rate=\[0\.1\]", True),
    ("Nadam", {"epsilonn": 1e-3}, ValueError, r"Argument\(s\) not recognized: \{'epsilonn': 0\.001\}", True),
    ("RMSprop", {"weight_decay": "0.1"}, ValueError, r"`weight_decay` must be a number or None, got weight_decay='0\.1'", False),
    ("Adam", {"clipnorm": [1.0]}, ValueError, r"`clipnorm` must be a number or None", False),
]


def _bad_id(case):
    return f"{case[0]}-{'-'.join(case[1])}-{case[1][next(iter(case[1]))]!r}"


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=_bad_id)
def test_bad_constructor_arguments(case, keras):
    name, kwargs, error, pattern, keras_rejects = case
    with pytest.raises(error, match=pattern):
        getattr(optimizers, name)(**kwargs)
    if keras_rejects:
        with pytest.raises(ValueError):
            getattr(keras.optimizers, name)(**kwargs)


# Arguments that look odd but that Keras accepts; ember accepts them too.
ACCEPTED = [
    ("Adam", {"learning_rate": -0.1}),
    ("RMSprop", {"rho": 2.0, "epsilon": -1.0}),
    ("Adam", {"beta_1": 2.0}),
    ("SGD", {"momentum": 1.0, "clipnorm": 0.0}),
    ("SGD", {"gradient_accumulation_steps": 0}),
    ("Adam", {"use_ema": True, "ema_overwrite_frequency": 0}),
    ("Adam", {"ema_momentum": 5.0}),  # EMA arguments are only checked with use_ema=True
    ("Adafactor", {"clip_threshold": -1.0, "beta_2_decay": 0.5}),
    ("Ftrl", {"beta": -1.0}),
    ("Lion", {"beta_1": np.float32(0.5)}),
    ("Ftrl", {"l1_regularization_strength": np.float64(0.5)}),
]


@pytest.mark.parametrize("name, kwargs", ACCEPTED)
def test_accepts_what_keras_accepts(name, kwargs, keras):
    expected = getattr(keras.optimizers, name)(**kwargs).get_config()
    got = getattr(optimizers, name)(**kwargs).get_config()
    for key, value in kwargs.items():
        assert got[key] == pytest.approx(expected[key])


def test_decay_argument_warns_and_is_ignored():
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        optimizer = optimizers.SGD(decay=0.1)
    assert "decay" not in optimizer.get_config()


def _two_variables():
    return [Variable(torch.ones(2, 2), name="kernel"), Variable(torch.zeros(2), name="bias")]


def test_apply_without_variables_before_build():
    with pytest.raises(ValueError, match=r"must already be built.*optimizer\.build\(trainable_variables\)"):
        optimizers.Adam().apply([torch.ones(2)])


def test_apply_with_wrong_number_of_gradients():
    optimizer = optimizers.Adam()
    optimizer.build(_two_variables())
    with pytest.raises(ValueError, match=r"Got 1 gradients for 2 variables"):
        optimizer.apply([torch.ones(2, 2)])


def test_unknown_variable_after_build():
    optimizer = optimizers.SGD(momentum=0.9)
    variables = _two_variables()
    optimizer.apply_gradients([(torch.ones(2, 2), variables[0]), (torch.ones(2), variables[1])])
    stranger = Variable(torch.ones(3), name="stranger")
    with pytest.raises(ValueError, match=r"Unknown variable: <Variable name='stranger' shape=\(3,\)>.*create a new optimizer"):
        optimizer.apply_gradients([(torch.ones(3), stranger)])
    stranger.grad = torch.ones(3)
    with pytest.raises(ValueError, match=r"Unknown variable"):
        optimizer.step([stranger])


def test_step_without_params_before_build():
    with pytest.raises(ValueError, match=r"`step\(\)` needs `params`"):
        optimizers.SGD().step()


def test_exclude_from_weight_decay_after_build():
    optimizer = optimizers.Adam(weight_decay=0.1)
    optimizer.build(_two_variables())
    with pytest.raises(ValueError, match=r"only be configured before the optimizer is built"):
        optimizer.exclude_from_weight_decay(var_names=["bias"])


def test_setting_float_learning_rate_on_schedule(keras):
    optimizer = optimizers.Adam(learning_rate=lambda step: 0.1)
    with pytest.raises(TypeError, match=r"not settable to a float"):
        optimizer.learning_rate = 0.5
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    with pytest.raises(TypeError):
        keras.optimizers.Adam(learning_rate=schedule).learning_rate = 0.5


def test_setting_learning_rate_to_non_number():
    optimizer = optimizers.SGD()
    with pytest.raises(ValueError, match=r"learning_rate='0\.5'"):
        optimizer.learning_rate = "0.5"
    with pytest.raises(ValueError, match=r"learning_rate=tensor\(\[1\., 1\.\]\)"):
        optimizer.learning_rate = torch.ones(2)
    optimizer.learning_rate = np.array(0.5)
    assert float(optimizer.learning_rate) == 0.5


def test_get_config_with_unserializable_schedule():
    optimizer = optimizers.SGD(learning_rate=lambda step: 0.1)
    with pytest.raises(ValueError, match=r"Cannot serialize the learning-rate callable.*get_config"):
        optimizer.get_config()


def test_from_config_with_unknown_schedule():
    config = optimizers.SGD().get_config()
    config["learning_rate"] = {"class_name": "MySchedule", "config": {}}
    with pytest.raises(ValueError, match=r"Unknown learning-rate schedule 'MySchedule'.*custom_objects"):
        optimizers.SGD.from_config(config)


@pytest.mark.parametrize(
    "identifier, pattern",
    [
        ("nope", r"Could not interpret optimizer identifier: 'nope'.*\['adadelta', 'adafactor', 'adagrad', 'adam', 'adamax'"),
        (3, r"Could not interpret optimizer identifier: 3"),
        ({"class_name": "Adagrad2", "config": {}}, r"'Adagrad2'.*'nadam', 'rmsprop', 'sgd'\]"),
        (torch.optim.SGD, r"Could not interpret optimizer identifier"),
    ],
)
def test_get_unknown_identifier(identifier, pattern):
    with pytest.raises(ValueError, match=pattern):
        optimizers.get(identifier)


def test_deserialize_and_serialize_reject_wrong_types():
    with pytest.raises(ValueError, match=r"'class_name'"):
        optimizers.deserialize({"config": {}})
    with pytest.raises(ValueError, match=r"expects an Optimizer instance"):
        optimizers.serialize("adam")


def test_set_weights_checks_count_and_shapes():
    optimizer = optimizers.SGD(momentum=0.9)
    with pytest.raises(ValueError, match=r"before `set_weights\(\)`"):
        optimizer.set_weights([])
    optimizer.build(_two_variables())
    with pytest.raises(ValueError, match=r"Expected 4 weights"):
        optimizer.set_weights([np.zeros(())])
    with pytest.raises(ValueError, match=r"'kernel_momentum' has shape \(2, 2\), but the weight has shape \(3,\)"):
        optimizer.set_weights([np.array(0), np.array(0.1), np.zeros(3), np.zeros(2)])


def test_add_variable_rejects_unknown_initializer():
    with pytest.raises(ValueError, match=r"`initializer` must be 'zeros', 'ones'.*'glorot'"):
        optimizers.SGD().add_variable((2,), initializer="glorot")


def test_custom_optimizer_without_update_rule():
    class Incomplete(optimizers.Optimizer):
        pass

    param = torch.nn.Parameter(torch.ones(2))
    param.grad = torch.ones(2)
    with pytest.raises(NotImplementedError, match=r"Incomplete must override `update_step`"):
        Incomplete(learning_rate=0.1).step([param])

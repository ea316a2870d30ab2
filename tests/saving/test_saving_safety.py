"""Files name classes and functions, never hold code; unknown names fail with the fix."""

import json

import numpy as np
import pytest
import torch

import ember
from ember import layers
from ember.saving.archive import read_archive, write_archive

from .custom_objects import Scale


class Unregistered(layers.Layer):
    """A custom layer nobody registered."""

    def __init__(self, offset=1.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def call(self, inputs):
        return inputs + self.offset

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


def unregistered_activation(x):
    return x * 3.0


def _edit_config(path, edit):
    """Change config.json and re-record its checksum, as a forged but well-formed file would."""
    _, members = read_archive(path)
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    write_archive(path, members)


def _layer_entry(config, class_name):
    return next(entry for entry in config["config"]["layers"] if entry["class_name"] == class_name)


@pytest.fixture
def unregistered_model_file(tmp_path):
    inputs = ember.Input(shape=(2,))
    model = ember.Model(inputs, Unregistered(offset=0.5, name="shift")(inputs))
    model.save(tmp_path / "custom.ember")
    return tmp_path / "custom.ember"


def test_unregistered_class_says_how_to_register_it(unregistered_model_file):
    with pytest.raises(
        ValueError,
        match=r"Unknown class 'Unregistered'.*not registered.*@ember\.saving\.register_serializable\(\).*"
        r"custom_objects=\{'Unregistered': Unregistered\}.*safe_mode=False",
    ):
        ember.models.load_model(unregistered_model_file)


def test_custom_objects_and_trusted_import(unregistered_model_file):
    x = np.ones((2, 2), dtype="float32")
    loaded = ember.models.load_model(unregistered_model_file, custom_objects={"Unregistered": Unregistered})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), x + 0.5)
    trusted = ember.models.load_model(unregistered_model_file, safe_mode=False)
    assert type(trusted.get_layer("shift")) is Unregistered
    np.testing.assert_array_equal(trusted.predict(x, verbose=0), x + 0.5)


def test_unregistered_function_needs_registration_or_trust(tmp_path):
    inputs = ember.Input(shape=(2,))
    model = ember.Model(inputs, layers.Dense(2, activation=unregistered_activation)(inputs))
    model.save(tmp_path / "act.ember")
    with pytest.raises(ValueError, match=r"Unknown function 'unregistered_activation'.*register_serializable"):
        ember.models.load_model(tmp_path / "act.ember")
    loaded = ember.models.load_model(tmp_path / "act.ember", custom_objects={"unregistered_activation": unregistered_activation})
    assert loaded.layers[1].activation is unregistered_activation
    assert ember.models.load_model(tmp_path / "act.ember", safe_mode=False).layers[1].activation is unregistered_activation


def test_lambdas_cannot_be_saved(tmp_path):
    inputs = ember.Input(shape=(2,))
    model = ember.Model(inputs, layers.Activation(lambda x: x + 1)(inputs))
    with pytest.raises(ValueError, match="lambdas and functions defined inside other functions.*names only"):
        model.save(tmp_path / "lambda.ember")

    def local_function(x):
        return x

    model = ember.Model(inputs, layers.Activation(local_function)(inputs))
    with pytest.raises(ValueError, match="local_function.*register_serializable"):
        model.save(tmp_path / "local.ember")


def test_a_lambda_in_a_file_is_refused_in_both_modes(tmp_path):
    inputs = ember.Input(shape=(2,))
    ember.Model(inputs, layers.Activation("relu", name="act")(inputs)).save(tmp_path / "m.ember")

    def forge(config):
        _layer_entry(config, "Activation")["config"]["activation"] = {
            "class_name": "__lambda__",
            "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMIAAAAfABkARcAUwApAk7pAQAAAKkAKQHaAXhyAgAAAHICAAAA"},
        }

    _edit_config(tmp_path / "m.ember", forge)
    with pytest.raises(ValueError, match=r"contains Python code.*safe_mode=True refuses.*register_serializable"):
        ember.models.load_model(tmp_path / "m.ember")
    with pytest.raises(ValueError, match="Even with safe_mode=False ember never runs code"):
        ember.models.load_model(tmp_path / "m.ember", safe_mode=False)


def test_only_tensor_functions_are_loaded_by_name(tmp_path):
    inputs = ember.Input(shape=(3,))
    ember.Model(inputs, torch.abs(inputs)).save(tmp_path / "op.ember")

    def forge(config):
        _layer_entry(config, "TorchOpLayer")["config"]["function"]["config"]["name"] = "torch.save"

    _edit_config(tmp_path / "op.ember", forge)
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match="torch function 'torch.save', which is not a tensor function"):
            ember.models.load_model(tmp_path / "op.ember", safe_mode=safe_mode)


def test_graph_nodes_that_are_not_torch_functions_cannot_be_saved(tmp_path):
    inputs = ember.Input(shape=(3,))
    captured = ember.Model(inputs, torch.nn.Linear(3, 2)(inputs))
    with pytest.raises(ValueError, match="parameter .* plain torch module.*Wrap that module in a Layer"):
        captured.save(tmp_path / "captured.ember")
    wrapped = ember.Model(torch.nn.Linear(3, 2))
    with pytest.raises(ValueError, match="wraps the torch module Linear.*save_weights"):
        wrapped.save(tmp_path / "wrapped.ember")
    with_wrapper = ember.Model(inputs, layers.TorchModuleWrapper(torch.nn.Tanh())(inputs))
    with pytest.raises(ValueError, match="has no config.*register_serializable.*save_weights"):
        with_wrapper.save(tmp_path / "wrapper.ember")


def test_unknown_builtin_layer_name(tmp_path):
    inputs = ember.Input(shape=(2,))
    ember.Model(inputs, layers.Dense(1)(inputs)).save(tmp_path / "m.ember")
    _edit_config(tmp_path / "m.ember", lambda config: _layer_entry(config, "Dense").update(class_name="Dense9000"))
    with pytest.raises(ValueError, match=r"Unknown layer class 'Dense9000'.*Built-in layers: .*'Dense'.*register_serializable"):
        ember.models.load_model(tmp_path / "m.ember")


def test_custom_layer_whose_config_misses_an_argument(tmp_path):
    @ember.saving.register_serializable(package="SavingSafetyTests")
    class NeedsUnits(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def call(self, inputs):
            return inputs

    inputs = ember.Input(shape=(2,))
    ember.Model(inputs, NeedsUnits(3)(inputs)).save(tmp_path / "m.ember")
    with pytest.raises(TypeError, match=r"Could not recreate NeedsUnits.*get_config\(\) must return every constructor argument"):
        ember.models.load_model(tmp_path / "m.ember")


def test_register_serializable():
    assert ember.saving.get_registered_name(Scale) == "SavingTests>Scale"
    assert ember.saving.get_registered_object("SavingTests>Scale") is Scale
    assert ember.saving.get_registered_object("Nope>Scale") is None
    assert ember.saving.get_registered_object("x", custom_objects={"x": Scale}) is Scale

    @ember.saving.register_serializable(package="SavingSafetyTests", name="renamed")
    def some_function(x):
        return x

    assert ember.saving.get_registered_name(some_function) == "SavingSafetyTests>renamed"
    with pytest.raises(ValueError, match="already registered"):
        ember.saving.register_serializable(package="SavingSafetyTests", name="renamed")(lambda x: x)
    with pytest.raises(ValueError, match="package.*without '>'"):
        ember.saving.register_serializable(package="a>b")
    with pytest.raises(ValueError, match="no name"):
        ember.saving.register_serializable()(lambda x: x)

    class NoConfig:
        pass

    with pytest.raises(ValueError, match="no `get_config\\(\\)` method"):
        ember.saving.register_serializable()(NoConfig)

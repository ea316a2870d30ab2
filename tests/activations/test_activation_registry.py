"""``activations.get`` / ``serialize`` / ``deserialize`` and the public names, checked against Keras 3."""

import json

import pytest
import torch

from ember import activations

KERAS_LOOKUP_FUNCTIONS = {"get", "serialize", "deserialize"}


def _keras_activation_names(keras):
    return {
        name
        for name in dir(keras.activations)
        if not name.startswith("_") and name not in KERAS_LOOKUP_FUNCTIONS and callable(getattr(keras.activations, name))
    }


def test_registry_holds_exactly_keras_activation_names(keras):
    assert set(activations.ALL_ACTIVATIONS) == _keras_activation_names(keras)


def test_public_names_are_exported():
    expected = set(activations.ALL_ACTIVATIONS) | {"ALL_ACTIVATIONS", "get", "serialize", "deserialize"}
    assert set(activations.__all__) == expected
    for name in activations.__all__:
        assert hasattr(activations, name)


@pytest.mark.parametrize("name", sorted(activations.ALL_ACTIVATIONS))
def test_get_by_name_and_serialize_match_keras(keras, name):
    fn = activations.get(name)
    assert fn is getattr(activations, name)
    assert activations.serialize(fn) == keras.activations.serialize(keras.activations.get(name))
    assert activations.get(activations.serialize(fn)) is fn


def test_aliases_serialize_to_canonical_names():
    assert activations.swish is activations.silu
    assert activations.hard_swish is activations.hard_silu
    assert activations.serialize(activations.swish) == "silu"
    assert activations.serialize("hard_swish") == "hard_silu"


def test_get_none_is_linear_and_callables_pass_through():
    assert activations.get(None) is activations.linear
    assert activations.serialize(None) == "linear"
    custom = torch.nn.functional.hardtanh
    assert activations.get(custom) is custom
    module = torch.nn.ReLU()
    assert activations.get(module) is module


def test_deserialize_reads_keras_saved_function_config(keras):
    config = keras.saving.serialize_keras_object(keras.activations.gelu)
    config = json.loads(json.dumps(config))
    assert activations.deserialize(config) is activations.gelu
    assert activations.get(config) is activations.gelu


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown activation 'Relu'\. Valid names .*\brelu\b.*\bsoftmax\b"):
        activations.get("Relu")


@pytest.mark.parametrize("bad", [5, 1.5, ["relu"]])
def test_get_rejects_other_types(bad):
    with pytest.raises(ValueError, match="Could not interpret activation identifier"):
        activations.get(bad)


def test_deserialize_rejects_a_malformed_dict():
    with pytest.raises(ValueError, match="Activation config must be a name"):
        activations.deserialize({"class_name": "Dense", "config": {}})


def test_serialize_rejects_unregistered_callables():
    def my_activation(x):
        return x * 2

    with pytest.raises(ValueError, match="Cannot serialize activation .*my_activation.*built-in"):
        activations.serialize(my_activation)
    with pytest.raises(ValueError, match="Unknown activation 'nope'"):
        activations.serialize("nope")

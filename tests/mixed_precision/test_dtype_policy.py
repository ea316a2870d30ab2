"""Dtype policies: names and dtypes as Keras 3, the global policy, layers' policies and configs."""

import numpy as np
import pytest
import torch

import ember
from ember import layers, mixed_precision

NAMES = ["mixed_float16", "mixed_bfloat16", "float32", "bfloat16", "float16", "float64"]


@pytest.fixture(autouse=True)
def _restore_policy():
    yield
    mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", NAMES)
def test_policy_matches_keras(keras, name):
    ours, theirs = mixed_precision.DTypePolicy(name), keras.mixed_precision.DTypePolicy(name)
    assert (ours.name, ours.compute_dtype, ours.variable_dtype) == (
        theirs.name,
        theirs.compute_dtype,
        theirs.variable_dtype,
    )
    assert repr(ours) == repr(theirs)
    assert ours.get_config() == theirs.get_config()
    assert mixed_precision.Policy.from_config(ours.get_config()) == ours


def test_aliases_are_keras_names():
    assert mixed_precision.Policy is mixed_precision.DTypePolicy
    assert mixed_precision.dtype_policy is mixed_precision.global_policy
    assert mixed_precision.set_dtype_policy is mixed_precision.set_global_policy


def test_global_policy_default_set_and_errors():
    assert mixed_precision.global_policy().name == "float32"
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert mixed_precision.global_policy() == mixed_precision.DTypePolicy("mixed_bfloat16")
    mixed_precision.set_global_policy(mixed_precision.DTypePolicy("float16"))
    assert mixed_precision.global_policy().compute_dtype == "float16"
    with pytest.raises(ValueError, match="Cannot convert 'mixed_float64'.*'mixed_bfloat16'"):
        mixed_precision.set_global_policy("mixed_float64")
    with pytest.raises(ValueError, match=r"Invalid `policy` argument.*policy=5"):
        mixed_precision.set_global_policy(5)
    with pytest.raises(ValueError, match="policy=None"):
        mixed_precision.set_global_policy(None)
    assert mixed_precision.global_policy().name == "float16"  # unchanged by the failed calls


@pytest.mark.parametrize("name", ["mixed_bfloat16", "mixed_float16", "bfloat16", "float32"])
def test_layer_dtype_argument_matches_keras(keras, name):
    ours, theirs = layers.Dense(2, dtype=name), keras.layers.Dense(2, dtype=name)
    for attribute in ("dtype", "compute_dtype", "variable_dtype"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert ours.dtype_policy.name == theirs.dtype_policy.name
    ours.build((1, 3))
    assert ours.kernel.dtype == ember.backend.to_torch_dtype(theirs.variable_dtype)


def test_layers_take_the_global_policy_at_creation(keras):
    mixed_precision.set_global_policy("mixed_float16")
    dense = layers.Dense(2)
    mixed_precision.set_global_policy("float32")
    assert dense.dtype_policy.name == "mixed_float16"
    assert layers.Dense(2).dtype_policy.name == "float32"


def test_mixed_policy_serializes_in_layer_config(keras):
    dense = layers.Dense(3, dtype="mixed_bfloat16")
    config = dense.get_config()
    expected = keras.layers.Dense(3, dtype="mixed_bfloat16").get_config()["dtype"]
    assert config["dtype"]["class_name"] == expected["class_name"] == "DTypePolicy"
    assert config["dtype"]["config"] == expected["config"] == {"name": "mixed_bfloat16"}
    restored = layers.Dense.from_config(config)
    assert restored.dtype_policy.name == "mixed_bfloat16"
    assert layers.Dense(3).get_config()["dtype"] == "float32"


def test_mixed_policy_survives_save_and_load(tmp_path):
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = ember.Sequential([ember.Input((3,)), layers.Dense(4), layers.Dense(1, dtype="float32")])
    mixed_precision.set_global_policy("float32")
    model.save(tmp_path / "m.ember")
    loaded = ember.models.load_model(tmp_path / "m.ember", compile=False)
    assert [layer.dtype_policy.name for layer in loaded.layers] == ["mixed_bfloat16", "float32"]
    x = torch.rand(5, 3)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())


def test_bad_layer_dtype_is_a_clear_error():
    with pytest.raises(ValueError, match="Cannot convert 'mixed_int8'"):
        layers.Dense(2, dtype="mixed_int8")

"""``initializers.get`` / ``serialize`` / ``deserialize`` and config round trips."""

import json

import numpy as np
import pytest
import torch

from ember import initializers

ROUND_TRIP_CASES = [
    initializers.GlorotUniform(seed=1),
    initializers.GlorotNormal(seed=2, input_axes=[0, 1], output_axes=[2]),
    initializers.HeNormal(),
    initializers.HeUniform(seed=3),
    initializers.LecunNormal(seed=4),
    initializers.LecunUniform(),
    initializers.Zeros(),
    initializers.Ones(),
    initializers.Constant(2.0),
    initializers.Constant([[1.0, 2.0]]),
    initializers.RandomNormal(mean=0.1, stddev=0.2, seed=5),
    initializers.RandomUniform(minval=-0.5, maxval=0.25, seed=6),
    initializers.TruncatedNormal(mean=-0.2, stddev=0.3, seed=7),
    initializers.VarianceScaling(scale=0.3, mode="fan_avg", distribution="untruncated_normal", seed=8),
    initializers.Orthogonal(gain=1.7, seed=9),
    initializers.Identity(gain=0.5),
]


@pytest.mark.parametrize("init", ROUND_TRIP_CASES, ids=lambda i: type(i).__name__)
def test_config_round_trip_reproduces_values(init):
    config = json.loads(json.dumps(initializers.serialize(init)))  # JSON-safe
    restored = initializers.deserialize(config)
    assert type(restored) is type(init)
    assert restored.get_config() == init.get_config()
    assert type(init).from_config(init.get_config()).get_config() == init.get_config()
    assert init.clone().get_config() == init.get_config()
    shape = (3, 4, 2) if isinstance(init, initializers.GlorotNormal) else (5, 2)
    if getattr(init, "seed", 0) is not None:  # unseeded draws differ by design
        assert torch.equal(init(shape), restored(shape))


@pytest.mark.parametrize("name", sorted(initializers.ALL_INITIALIZERS))
def test_get_by_name_builds_a_fresh_instance(name):
    first = initializers.get(name)
    assert isinstance(first, initializers.ALL_INITIALIZERS[name])
    assert initializers.get(name) is not first


def test_get_accepts_every_identifier_form():
    assert initializers.get(None) is None
    init = initializers.HeNormal(seed=1)
    assert initializers.get(init) is init
    assert isinstance(initializers.get(initializers.Orthogonal), initializers.Orthogonal)

    def fn(shape, dtype=None):
        return torch.full(shape, 4.0)

    assert initializers.get(fn) is fn
    from_dict = initializers.get({"class_name": "random_normal", "config": {"stddev": 2.0, "seed": 1}})
    assert isinstance(from_dict, initializers.RandomNormal) and from_dict.stddev == 2.0


def test_snake_case_names_are_the_classes():
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.variance_scaling is initializers.VarianceScaling
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)


def test_get_from_a_fixed_array():
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    init = initializers.get(value)
    out = init((2, 3))
    np.testing.assert_array_equal(out.numpy(), value)
    out += 1  # a copy each time
    np.testing.assert_array_equal(init((2, 3), dtype="float64").numpy(), value)
    assert initializers.get(torch.ones(2))((2,)).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match=r"fixed value of shape \(2, 3\), but was asked for shape \(3, 2\)"):
        init((3, 2))


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot'\. Valid names .*glorot_uniform"):
        initializers.get("glorot")
    with pytest.raises(ValueError, match=r"Unknown initializer 'Glorot_Uniform'"):
        initializers.deserialize({"class_name": "Glorot_Uniform", "config": {}})


@pytest.mark.parametrize("bad", [5, 1.5, [1, 2]])
def test_get_rejects_other_types(bad):
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        initializers.get(bad)


def test_get_rejects_a_class_that_is_not_an_initializer():
    with pytest.raises(ValueError, match="must subclass ember.initializers.Initializer"):
        initializers.get(dict)


def test_deserialize_rejects_malformed_configs():
    with pytest.raises(ValueError, match="must be a dict like"):
        initializers.deserialize({"config": {}})
    with pytest.raises(ValueError, match=r"config\['config'\] must be a dict"):
        initializers.deserialize({"class_name": "Zeros", "config": [1]})


def test_serialize_rejects_plain_functions():
    assert initializers.serialize(None) is None
    with pytest.raises(ValueError, match="only Initializer instances carry a config"):
        initializers.serialize(lambda shape, dtype=None: torch.zeros(shape))


class Twos(initializers.Initializer):
    def __init__(self, scale=2.0):
        self.scale = scale

    def __call__(self, shape, dtype=None):
        return torch.full(shape, self.scale)

    def get_config(self):
        return {"scale": self.scale}


def test_custom_initializers_round_trip_through_custom_objects():
    config = initializers.serialize(Twos(3.0))
    assert config["class_name"] == "Twos" and config["registered_name"] == "Twos"
    with pytest.raises(ValueError, match="custom_objects"):
        initializers.deserialize(config)
    restored = initializers.deserialize(config, custom_objects={"Twos": Twos})
    assert restored((2,)).tolist() == [3.0, 3.0]


def test_base_class_must_be_overridden():
    with pytest.raises(NotImplementedError, match="must implement __call__"):
        initializers.Initializer()((2,))


def test_public_names_are_exported():
    for name in initializers.__all__:
        assert hasattr(initializers, name)
    assert {"get", "serialize", "deserialize", "Initializer", "GlorotUniform", "Identity"} <= set(initializers.__all__)

"""Constraint identifiers, configs and argument checks, against Keras 3 where it applies."""

import doctest
import importlib
import json

import pytest
import torch

from ember import constraints

ALL = [
    pytest.param("MaxNorm", {"max_value": 3, "axis": [0, 1, 2]}, id="MaxNorm"),
    pytest.param("NonNeg", {}, id="NonNeg"),
    pytest.param("UnitNorm", {"axis": 1}, id="UnitNorm"),
    pytest.param("MinMaxNorm", {"min_value": 0.5, "max_value": 2.0, "rate": 0.5, "axis": -1}, id="MinMaxNorm"),
]


@pytest.mark.parametrize(
    "name, cls",
    [
        ("max_norm", "MaxNorm"),
        ("MaxNorm", "MaxNorm"),
        ("non_neg", "NonNeg"),
        ("NonNeg", "NonNeg"),
        ("unit_norm", "UnitNorm"),
        ("UnitNorm", "UnitNorm"),
        ("min_max_norm", "MinMaxNorm"),
        ("MinMaxNorm", "MinMaxNorm"),
    ],
)
def test_get_by_name_builds_keras_defaults(keras, name, cls):
    ours = constraints.get(name)
    theirs = keras.constraints.get(name)
    assert type(ours) is getattr(constraints, cls)
    assert type(theirs).__name__ == cls
    assert ours.get_config() == theirs.get_config()


def test_snake_case_aliases_are_the_classes(keras):
    for alias in ("max_norm", "min_max_norm", "non_neg", "unit_norm"):
        assert getattr(constraints, alias).__name__ == getattr(keras.constraints, alias).__name__


@pytest.mark.parametrize("name, kwargs", ALL)
def test_config_round_trip(name, kwargs):
    obj = getattr(constraints, name)(**kwargs)
    assert obj.get_config() == kwargs
    assert type(obj).from_config(obj.get_config()).get_config() == kwargs
    config = json.loads(json.dumps(constraints.serialize(obj)))
    restored = constraints.deserialize(config)
    assert type(restored) is type(obj) and restored.get_config() == kwargs
    assert constraints.get(config).get_config() == kwargs


@pytest.mark.parametrize("name, kwargs", ALL)
def test_serialized_configs_match_keras(keras, name, kwargs):
    ours = constraints.serialize(getattr(constraints, name)(**kwargs))
    theirs = keras.constraints.serialize(getattr(keras.constraints, name)(**kwargs))
    assert ours == theirs
    assert keras.constraints.deserialize(ours).get_config() == kwargs
    assert constraints.deserialize(theirs).get_config() == kwargs


def test_get_passes_objects_and_callables_through_and_builds_classes():
    obj = constraints.UnitNorm()
    assert constraints.get(obj) is obj

    def clip(w):
        return torch.clamp(w, -1, 1)

    assert constraints.get(clip) is clip
    assert constraints.get(None) is None
    assert type(constraints.get(constraints.NonNeg)) is constraints.NonNeg


def test_custom_subclass_round_trips_with_custom_objects():
    class Clip(constraints.Constraint):
        def __init__(self, limit=1.0):
            self.limit = limit

        def __call__(self, w):
            return torch.clamp(w, -self.limit, self.limit)

        def get_config(self):
            return {"limit": self.limit}

    config = constraints.serialize(Clip(0.5))
    assert config["registered_name"] == "Clip" and config["config"] == {"limit": 0.5}
    restored = constraints.deserialize(config, custom_objects={"Clip": Clip})
    assert torch.equal(restored(torch.tensor([-2.0, 0.1])), torch.tensor([-0.5, 0.1]))


@pytest.mark.parametrize(
    "identifier, match",
    [
        ("nope", r"Unknown constraint 'nope'\. Valid names .*max_norm"),
        ("maxnorm", r"Unknown constraint 'maxnorm'"),
        (3, r"Could not interpret constraint identifier 3"),
        ({"config": {}}, r"Constraint config must be a dict like"),
        ({"class_name": "Foo"}, r"Unknown constraint 'Foo'"),
        ({"class_name": "MaxNorm", "config": 2}, r"config\['config'\] must be a dict"),
        (float, r"Constraint classes must subclass ember\.constraints\.Constraint"),
    ],
)
def test_get_errors(keras, identifier, match):
    with pytest.raises(ValueError, match=match):
        constraints.get(identifier)
    if isinstance(identifier, (str, int)):  # Keras rejects these too
        with pytest.raises(ValueError):
            keras.constraints.get(identifier)


def test_serialize_none_and_plain_function():
    assert constraints.serialize(None) is None
    with pytest.raises(ValueError, match="only Constraint instances carry a config"):
        constraints.serialize(lambda w: w)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: constraints.MaxNorm(-1), r"`max_value` must be a non-negative number, got max_value=-1"),
        (lambda: constraints.MaxNorm("2"), r"MaxNorm argument `max_value` .* got max_value='2'"),
        (lambda: constraints.MaxNorm(axis="0"), r"MaxNorm argument `axis` must be an int or a non-empty list"),
        (lambda: constraints.MaxNorm(axis=[]), r"MaxNorm argument `axis`"),
        (lambda: constraints.UnitNorm(axis=1.0), r"UnitNorm argument `axis` .* got axis=1\.0"),
        (lambda: constraints.MinMaxNorm(2.0, 1.0), r"min_value <= max_value, got min_value=2\.0 and max_value=1\.0"),
        (lambda: constraints.MinMaxNorm(rate=1.5), r"`rate` must be a number in \[0, 1\], got rate=1\.5"),
        (lambda: constraints.MinMaxNorm(min_value=-1), r"MinMaxNorm argument `min_value`"),
        (lambda: constraints.MinMaxNorm(axis=(0, True)), r"MinMaxNorm argument `axis`"),
    ],
)
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_repr_shows_the_config():
    assert repr(constraints.MaxNorm(3)) == "MaxNorm(max_value=3, axis=0)"
    assert repr(constraints.NonNeg()) == "NonNeg()"


def test_public_names():
    assert sorted(constraints.__all__) == sorted(
        [
            "ALL_CONSTRAINTS", "Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm",
            "deserialize", "get", "max_norm", "min_max_norm", "non_neg", "serialize", "unit_norm",
        ]
    )
    for name in constraints.__all__:
        assert hasattr(constraints, name)


@pytest.mark.parametrize("module", ["base", "norms", "registry"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(f"ember.constraints.{module}"))
    assert result.attempted > 0
    assert result.failed == 0

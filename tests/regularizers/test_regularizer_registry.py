"""Regularizer identifiers, configs and argument checks, against Keras 3 where it applies."""

import doctest
import importlib
import json

import pytest

from ember import regularizers

def _assert_configs_close(ours, theirs):
    """Same keys and values; numbers up to Keras's float32 storage of some factors."""
    assert sorted(ours) == sorted(theirs)
    for key, value in ours.items():
        if isinstance(value, str):
            assert theirs[key] == value, key
        else:
            assert theirs[key] == pytest.approx(value, rel=1e-6), key


ALL = [
    pytest.param("L1", {"l1": 0.25}, id="L1"),
    pytest.param("L2", {"l2": 0.5}, id="L2"),
    pytest.param("L1L2", {"l1": 0.1, "l2": 0.2}, id="L1L2"),
    pytest.param("OrthogonalRegularizer", {"factor": 0.3, "mode": "columns"}, id="Orthogonal"),
]


@pytest.mark.parametrize(
    "name, cls, expected_config",
    [
        ("l1", "L1", {"l1": 0.01}),
        ("L1", "L1", {"l1": 0.01}),
        ("l2", "L2", {"l2": 0.01}),
        ("L2", "L2", {"l2": 0.01}),
        ("l1_l2", "L1L2", {"l1": 0.0, "l2": 0.0}),
        ("l1l2", "L1L2", {"l1": 0.0, "l2": 0.0}),
        ("L1L2", "L1L2", {"l1": 0.0, "l2": 0.0}),
        ("orthogonal_regularizer", "OrthogonalRegularizer", {"factor": 0.01, "mode": "rows"}),
        ("OrthogonalRegularizer", "OrthogonalRegularizer", {"factor": 0.01, "mode": "rows"}),
    ],
)
def test_get_by_name_builds_the_defaults(keras, name, cls, expected_config):
    obj = regularizers.get(name)
    assert type(obj) is getattr(regularizers, cls)
    assert obj.get_config() == expected_config
    # Keras agrees on the class and (up to its float32 storage of `l1`/`factor`) on the defaults.
    # Keras 3.15's get() rejects the string "l1_l2" (it accepts "l1l2"); ember takes both.
    theirs = keras.regularizers.get(name if name != "l1_l2" else "l1l2")
    assert type(theirs).__name__ == cls
    _assert_configs_close(expected_config, theirs.get_config())


def test_snake_case_aliases_are_the_classes(keras):
    for alias in ("l1", "l2", "l1_l2", "orthogonal_regularizer"):
        assert getattr(regularizers, alias).__name__ == getattr(keras.regularizers, alias).__name__


@pytest.mark.parametrize("name, kwargs", ALL)
def test_config_round_trip(name, kwargs):
    obj = getattr(regularizers, name)(**kwargs)
    assert obj.get_config() == kwargs
    clone = type(obj).from_config(obj.get_config())
    assert clone.get_config() == kwargs
    config = json.loads(json.dumps(regularizers.serialize(obj)))
    restored = regularizers.deserialize(config)
    assert type(restored) is type(obj) and restored.get_config() == kwargs
    assert regularizers.get(config).get_config() == kwargs


@pytest.mark.parametrize("name, kwargs", ALL)
def test_serialized_configs_load_in_keras_and_back(keras, name, kwargs):
    ours = getattr(regularizers, name)(**kwargs)
    theirs = getattr(keras.regularizers, name)(**kwargs)
    assert regularizers.serialize(ours) == {
        "module": "keras.regularizers",
        "class_name": name,
        "config": kwargs,
        "registered_name": None,
    }
    from_ours = keras.regularizers.deserialize(regularizers.serialize(ours))
    assert type(from_ours) is type(theirs)
    _assert_configs_close(kwargs, from_ours.get_config())
    from_theirs = regularizers.deserialize(keras.regularizers.serialize(theirs))
    assert type(from_theirs) is type(ours)
    _assert_configs_close(kwargs, from_theirs.get_config())


def test_get_passes_objects_and_callables_through_and_builds_classes():
    reg = regularizers.L2(0.3)
    assert regularizers.get(reg) is reg

    def fn(x):
        return x.sum()

    assert regularizers.get(fn) is fn
    assert regularizers.get(None) is None
    built = regularizers.get(regularizers.L1)
    assert type(built) is regularizers.L1 and built.l1 == 0.01


def test_serialize_none_and_custom_class():
    assert regularizers.serialize(None) is None

    class Scaled(regularizers.Regularizer):
        def __init__(self, scale=1.0):
            self.scale = scale

        def __call__(self, x):
            return self.scale * x.sum()

        def get_config(self):
            return {"scale": self.scale}

    config = regularizers.serialize(Scaled(2.0))
    assert config["class_name"] == "Scaled" and config["registered_name"] == "Scaled"
    assert config["config"] == {"scale": 2.0}
    restored = regularizers.deserialize(config, custom_objects={"Scaled": Scaled})
    assert isinstance(restored, Scaled) and restored.scale == 2.0


def test_none_factors_mean_the_defaults(keras):
    assert regularizers.L1(None).l1 == 0.01
    assert regularizers.L2(None).l2 == 0.01
    assert regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert keras.regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.L2(1).l2 == 1.0 and isinstance(regularizers.L2(1).l2, float)


@pytest.mark.parametrize(
    "identifier, match",
    [
        ("nope", r"Unknown regularizer 'nope'\. Valid names .*l1_l2"),
        ("L3", r"Unknown regularizer 'L3'"),
        (3, r"Could not interpret regularizer identifier 3"),
        ({"config": {}}, r"Regularizer config must be a dict like"),
        ({"class_name": "Foo", "config": {}}, r"Unknown regularizer 'Foo'"),
        ({"class_name": "L2", "config": [1]}, r"config\['config'\] must be a dict"),
        (int, r"Regularizer classes must subclass ember\.regularizers\.Regularizer"),
    ],
)
def test_get_errors(keras, identifier, match):
    with pytest.raises(ValueError, match=match):
        regularizers.get(identifier)
    if isinstance(identifier, (str, int)):  # Keras rejects these too
        with pytest.raises(ValueError):
            keras.regularizers.get(identifier)


def test_serialize_rejects_plain_function():
    with pytest.raises(ValueError, match="only Regularizer instances carry a config"):
        regularizers.serialize(lambda x: x.sum())


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: regularizers.L1(-1), r"L1 argument `l1` must be a non-negative float, got l1=-1"),
        (lambda: regularizers.L2("a"), r"L2 argument `l2` must be a non-negative float, got l2='a'"),
        (lambda: regularizers.L1L2(l1=-0.1), r"L1L2 argument `l1` .* got l1=-0\.1"),
        (lambda: regularizers.L1L2(l2=True), r"L1L2 argument `l2` .* got l2=True"),
        (lambda: regularizers.L2(float("inf")), r"L2 argument `l2` .* got l2=inf"),
        (lambda: regularizers.OrthogonalRegularizer(factor=-1), r"`factor` must be a non-negative float"),
        (lambda: regularizers.OrthogonalRegularizer(mode="x"), r"`mode` must be one of \('rows', 'columns'\)"),
    ],
)
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_keras_rejects_the_same_bad_arguments(keras):
    for build in (
        lambda: keras.regularizers.L1(-1),
        lambda: keras.regularizers.L2("a"),
        lambda: keras.regularizers.OrthogonalRegularizer(factor=-1),
        lambda: keras.regularizers.OrthogonalRegularizer(mode="x"),
    ):
        with pytest.raises(ValueError):
            build()


def test_base_get_config_says_what_to_implement():
    with pytest.raises(NotImplementedError, match="Regularizer does not implement get_config"):
        regularizers.Regularizer().get_config()


def test_repr_shows_the_config():
    assert repr(regularizers.L1L2(l1=0.1)) == "L1L2(l1=0.1, l2=0.0)"
    assert repr(regularizers.OrthogonalRegularizer()) == "OrthogonalRegularizer(factor=0.01, mode='rows')"


def test_public_names():
    assert sorted(regularizers.__all__) == sorted(
        [
            "ALL_REGULARIZERS", "L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer",
            "deserialize", "get", "l1", "l1_l2", "l2", "orthogonal_regularizer", "serialize",
        ]
    )
    for name in regularizers.__all__:
        assert hasattr(regularizers, name)


@pytest.mark.parametrize("module", ["base", "norm_penalties", "orthogonal", "registry"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(f"ember.regularizers.{module}"))
    assert result.attempted > 0
    assert result.failed == 0

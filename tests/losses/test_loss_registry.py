"""``ember.losses.get`` / ``serialize`` / ``deserialize``."""

import json

import numpy as np
import pytest
import torch

from ember import losses
from ember.losses import Loss, LossFunctionWrapper

NAMES = {
    "mse": losses.MeanSquaredError,
    "MSE": losses.MeanSquaredError,
    "mean_squared_error": losses.MeanSquaredError,
    "MeanSquaredError": losses.MeanSquaredError,
    "mae": losses.MeanAbsoluteError,
    "MAE": losses.MeanAbsoluteError,
    "mean_absolute_error": losses.MeanAbsoluteError,
    "MeanAbsoluteError": losses.MeanAbsoluteError,
    "bce": losses.BinaryCrossentropy,
    "binary_crossentropy": losses.BinaryCrossentropy,
    "BinaryCrossentropy": losses.BinaryCrossentropy,
    "categorical_crossentropy": losses.CategoricalCrossentropy,
    "CategoricalCrossentropy": losses.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": losses.SparseCategoricalCrossentropy,
    "SparseCategoricalCrossentropy": losses.SparseCategoricalCrossentropy,
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_get_string_gives_a_fresh_default_instance(keras, name):
    loss = losses.get(name)
    assert type(loss) is NAMES[name]
    assert loss is not losses.get(name)
    # Same default name as the Keras class the string stands for.
    keras_name = getattr(keras.losses, NAMES[name].__name__)().name
    assert loss.name == keras_name


def test_get_passes_instances_through_and_instantiates_classes():
    loss = losses.BinaryCrossentropy(from_logits=True)
    assert losses.get(loss) is loss
    assert type(losses.get(losses.CategoricalCrossentropy)) is losses.CategoricalCrossentropy
    assert losses.get(None) is None


def test_get_wraps_plain_callables_named_after_them():
    def my_loss(y_true, y_pred):
        return torch.mean(torch.abs(y_true - y_pred), dim=-1)

    class HalfSquare:
        def __call__(self, y_true, y_pred):
            return 0.5 * torch.sum((y_true - y_pred) ** 2, dim=-1)

    wrapped = losses.get(my_loss)
    assert isinstance(wrapped, LossFunctionWrapper) and wrapped.fn is my_loss
    assert wrapped.name == "my_loss"
    assert float(wrapped([[1.0, 3.0]], [[0.0, 0.0]])) == pytest.approx(2.0)
    wrapped = losses.get(HalfSquare())
    assert wrapped.name == "half_square"
    assert float(wrapped([[1.0, 3.0]], [[0.0, 0.0]])) == pytest.approx(5.0)


def test_get_dict_config():
    loss = losses.get({"class_name": "BinaryCrossentropy", "config": {"from_logits": True, "reduction": "sum"}})
    assert type(loss) is losses.BinaryCrossentropy
    assert loss.from_logits is True and loss.reduction == "sum"


def test_get_unknown_string_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown loss identifier 'msee'\. Valid names: \[.*'mse'.*\]"):
        losses.get("msee")


@pytest.mark.parametrize("identifier", [3, 2.5, int])
def test_get_uninterpretable(identifier):
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get(identifier)


@pytest.mark.parametrize(
    "loss",
    [
        losses.MeanSquaredError(reduction="sum"),
        losses.MeanAbsoluteError(name="l1"),
        losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        losses.CategoricalCrossentropy(axis=1),
        losses.SparseCategoricalCrossentropy(ignore_class=0, reduction=None),
        LossFunctionWrapper(losses.categorical_crossentropy, from_logits=True),
    ],
)
def test_serialize_round_trip_through_json(loss):
    config = json.loads(json.dumps(losses.serialize(loss)))
    assert config["class_name"] == type(loss).__name__
    assert config["module"] == "ember.losses"
    clone = losses.deserialize(config)
    assert type(clone) is type(loss)
    assert clone.get_config() == loss.get_config()


def test_serialize_functions_by_name():
    config = losses.serialize(losses.mean_squared_error)
    assert config["class_name"] == "function" and config["config"] == "mean_squared_error"
    assert losses.deserialize(config) is losses.mean_squared_error
    assert losses.serialize(None) is None
    assert type(losses.deserialize("mse")) is losses.MeanSquaredError


def test_deserialize_keras_configs(keras):
    config = keras.losses.serialize(keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2))
    loss = losses.deserialize(config)
    assert type(loss) is losses.BinaryCrossentropy
    assert loss.get_config() == {**config["config"]}


class ScaledMSE(Loss):
    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * torch.mean((y_true - y_pred) ** 2, dim=-1)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def custom_l1(y_true, y_pred):
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def test_custom_objects():
    config = losses.serialize(ScaledMSE(scale=3.0, reduction="sum"))
    assert config["registered_name"] == "ScaledMSE"
    with pytest.raises(ValueError, match=r"Unknown loss class 'ScaledMSE'.*custom_objects"):
        losses.deserialize(config)
    clone = losses.deserialize(config, custom_objects={"ScaledMSE": ScaledMSE})
    assert isinstance(clone, ScaledMSE) and clone.scale == 3.0 and clone.reduction == "sum"
    wrapped = losses.serialize(LossFunctionWrapper(custom_l1))
    with pytest.raises(ValueError, match=r"Unknown loss function 'custom_l1'.*custom_objects"):
        losses.deserialize(wrapped)
    clone = losses.deserialize(wrapped, custom_objects={"custom_l1": custom_l1})
    assert clone.fn is custom_l1
    np.testing.assert_allclose(float(clone([[1.0, -1.0]], [[0.0, 0.0]])), 1.0)


def test_serialize_errors():
    with pytest.raises(ValueError, match="only named functions can be saved"):
        losses.serialize(LossFunctionWrapper(lambda t, p: t - p, name="diff"))
    with pytest.raises(TypeError, match="expected a Loss instance or a loss function"):
        losses.serialize("mse")
    with pytest.raises(ValueError, match="expected a name or a dict with 'class_name'"):
        losses.deserialize({"config": {}})

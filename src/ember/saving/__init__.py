"""Saving and loading: whole models (``.ember``) and weights (``.weights.safetensors``).

As ``keras.saving``: ``model.save("model.ember")`` / ``load_model``;
``model.save_weights("w.weights.safetensors")`` / ``model.load_weights``;
``@register_serializable()`` (alias ``register_keras_serializable``, Keras's
name) for custom classes and functions. Files hold
JSON configs and safetensors arrays, never pickled objects or code.
"""

from ember.saving import serialization as serialization
from ember.saving.object_registry import get_registered_name as get_registered_name
from ember.saving.object_registry import get_registered_object as get_registered_object
from ember.saving.object_registry import register_serializable as register_keras_serializable
from ember.saving.object_registry import register_serializable as register_serializable
from ember.saving.saving_api import load_model as load_model
from ember.saving.saving_api import save_model as save_model
from ember.saving.weights_io import load_weights as load_weights
from ember.saving.weights_io import save_weights as save_weights

__all__ = [
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "register_keras_serializable",
    "register_serializable",
    "save_model",
    "save_weights",
    "serialization",
]

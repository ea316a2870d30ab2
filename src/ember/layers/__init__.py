"""Layers: the ``Layer`` base and the built-in layers."""

from ember.layers.core import Activation as Activation
from ember.layers.core import Dense as Dense
from ember.layers.core import Dropout as Dropout
from ember.layers.input_layer import Input as Input
from ember.layers.input_layer import InputLayer as InputLayer
from ember.layers.layer import Layer as Layer
from ember.layers.reshaping import Flatten as Flatten
from ember.layers.reshaping import Reshape as Reshape
from ember.layers.torch_module import TorchModuleWrapper as TorchModuleWrapper

__all__ = [
    "Activation",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "Layer",
    "Reshape",
    "TorchModuleWrapper",
]

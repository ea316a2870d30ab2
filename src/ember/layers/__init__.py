"""Layers: the ``Layer`` base and the built-in layers."""

from ember.layers.conv import Conv1D as Conv1D
from ember.layers.conv import Conv2D as Conv2D
from ember.layers.core import Activation as Activation
from ember.layers.core import Dense as Dense
from ember.layers.core import Dropout as Dropout
from ember.layers.input_layer import Input as Input
from ember.layers.input_layer import InputLayer as InputLayer
from ember.layers.layer import Layer as Layer
from ember.layers.merge import Add as Add
from ember.layers.merge import Concatenate as Concatenate
from ember.layers.merge import add as add
from ember.layers.merge import concatenate as concatenate
from ember.layers.pooling import GlobalAveragePooling1D as GlobalAveragePooling1D
from ember.layers.pooling import GlobalAveragePooling2D as GlobalAveragePooling2D
from ember.layers.pooling import GlobalMaxPooling1D as GlobalMaxPooling1D
from ember.layers.pooling import GlobalMaxPooling2D as GlobalMaxPooling2D
from ember.layers.reshaping import Flatten as Flatten
from ember.layers.reshaping import Reshape as Reshape
from ember.layers.torch_module import TorchModuleWrapper as TorchModuleWrapper

__all__ = [
    "Activation",
    "Add",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Layer",
    "Reshape",
    "TorchModuleWrapper",
    "add",
    "concatenate",
]

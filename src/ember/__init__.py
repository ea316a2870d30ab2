"""ember: Keras's model-building and training API, implemented natively on PyTorch.

Example:
    >>> import ember
    >>> inputs = ember.Input(shape=(784,), name="digits")
    >>> x = ember.layers.Dense(64, activation="relu")(inputs)
    >>> outputs = ember.layers.Dense(10, activation="softmax")(x)
    >>> model = ember.Model(inputs=inputs, outputs=outputs)
"""

from ember import activations as activations
from ember import backend as backend
from ember import callbacks as callbacks
from ember import constraints as constraints
from ember import datasets as datasets
from ember import distribute as distribute
from ember import initializers as initializers
from ember import layers as layers
from ember import losses as losses
from ember import metrics as metrics
from ember import mixed_precision as mixed_precision
from ember import models as models
from ember import optimizers as optimizers
from ember import regularizers as regularizers
from ember import saving as saving
from ember import utils as utils
from ember.layers import Input as Input
from ember.models import Model as Model
from ember.models import Sequential as Sequential

__version__ = "0.1.0"

__all__ = [
    "Input",
    "Model",
    "Sequential",
    "activations",
    "backend",
    "callbacks",
    "constraints",
    "datasets",
    "distribute",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "optimizers",
    "regularizers",
    "saving",
    "utils",
]

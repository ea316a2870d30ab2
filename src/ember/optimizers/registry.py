"""String identifiers for optimizers: ``get``, ``serialize`` and ``deserialize``.

``ALL_OPTIMIZERS`` maps lower-case names to classes; lookups are case-insensitive,
so ``"adam"``, ``"Adam"`` and ``"RMSProp"`` all resolve.
"""

from ember.optimizers.adadelta import Adadelta
from ember.optimizers.adafactor import Adafactor
from ember.optimizers.adagrad import Adagrad
from ember.optimizers.adam import Adam
from ember.optimizers.adamax import Adamax
from ember.optimizers.adamw import AdamW
from ember.optimizers.base_optimizer import Optimizer
from ember.optimizers.ftrl import Ftrl
from ember.optimizers.lion import Lion
from ember.optimizers.loss_scale_optimizer import LossScaleOptimizer
from ember.optimizers.nadam import Nadam
from ember.optimizers.rmsprop import RMSprop
from ember.optimizers.sgd import SGD

__all__ = ["ALL_OPTIMIZERS", "get", "serialize", "deserialize"]

ALL_OPTIMIZERS = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adamax": Adamax,
    "nadam": Nadam,
    "ftrl": Ftrl,
    "lion": Lion,
    "adafactor": Adafactor,
}
# Optimizers that wrap another: found by `deserialize` (model files), not offered as a plain name.
_WRAPPERS = {"lossscaleoptimizer": LossScaleOptimizer}


def _unknown(identifier):
    return ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. Expected an Optimizer "
        f"instance or class, a config dict, or one of the names {sorted(ALL_OPTIMIZERS)}."
    )


def _lookup(class_name, custom_objects=None):
    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name]
    if isinstance(class_name, str) and class_name.lower() in ALL_OPTIMIZERS:
        return ALL_OPTIMIZERS[class_name.lower()]
    if isinstance(class_name, str) and class_name.lower() in _WRAPPERS:
        return _WRAPPERS[class_name.lower()]
    raise _unknown(class_name)


def serialize(optimizer):
    """The optimizer's class and ``get_config()`` as a dict (no state).

    Example:
        >>> serialize(SGD(momentum=0.5))["config"]["momentum"]
        0.5
    """
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"`serialize` expects an Optimizer instance, got {optimizer!r}.")
    return {
        "module": "ember.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def deserialize(config, custom_objects=None):
    """Create an optimizer from ``serialize``'s dict (``class_name`` + ``config``).

    Args:
        config: a dict with ``"class_name"`` and optionally ``"config"``.
        custom_objects: extra ``{class_name: class}`` to look up first.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"`deserialize` expects a dict with a 'class_name' key, got {config!r}.")
    cls = _lookup(config["class_name"], custom_objects)
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier):
    """Resolve ``identifier`` to an optimizer instance.

    Args:
        identifier: an ``Optimizer`` (returned as is), an ``Optimizer`` subclass
            (instantiated with defaults), a name such as ``"adam"`` (any case), a
            config dict, or None (returns None).

    Example:
        >>> type(get("rmsprop")).__name__
        'RMSprop'
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise _unknown(identifier)

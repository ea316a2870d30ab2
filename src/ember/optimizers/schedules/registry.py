"""Schedule classes by name: ``serialize``, ``deserialize`` and ``get``.

``ALL_SCHEDULES`` maps each built-in class name (Keras's ``class_name`` in saved
configs) to its class. Configs saved by Keras (``module`` ``keras.optimizers.schedules``)
load too: lookups use only ``class_name``.
"""

from ember.optimizers.schedules.cosine_decay import CosineDecay, CosineDecayRestarts
from ember.optimizers.schedules.exponential_decay import ExponentialDecay
from ember.optimizers.schedules.inverse_time_decay import InverseTimeDecay
from ember.optimizers.schedules.learning_rate_schedule import LearningRateSchedule
from ember.optimizers.schedules.piecewise_constant_decay import PiecewiseConstantDecay
from ember.optimizers.schedules.polynomial_decay import PolynomialDecay

__all__ = ["ALL_SCHEDULES", "serialize", "deserialize", "get"]

ALL_SCHEDULES = {
    cls.__name__: cls
    for cls in (
        CosineDecay,
        CosineDecayRestarts,
        ExponentialDecay,
        InverseTimeDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
    )
}

MSG_NOT_SERIALIZABLE = (
    "Cannot serialize the learning-rate schedule {!r}: it has no `get_config()`. Subclass "
    "`LearningRateSchedule` and implement `get_config()`, or use a built-in schedule such as "
    "`ExponentialDecay`."
)
MSG_UNKNOWN = (
    "Unknown learning-rate schedule {name!r}. Built-in schedules: {known}. For your own schedule "
    "class, pass custom_objects={{{name!r}: YourSchedule}}."
)
MSG_NEEDS_ARGUMENTS = (
    "Learning-rate schedules need arguments, so they cannot be created from the string {!r}. "
    "Pass an instance, e.g. ExponentialDecay(initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.96), "
    "or a config dict."
)


def serialize(learning_rate_schedule):
    """The schedule's class and ``get_config()`` as a JSON-friendly dict.

    Example:
        >>> serialize(ExponentialDecay(0.1, 10, 0.5))["class_name"]
        'ExponentialDecay'
    """
    if not callable(getattr(learning_rate_schedule, "get_config", None)):
        raise ValueError(MSG_NOT_SERIALIZABLE.format(learning_rate_schedule))
    cls = type(learning_rate_schedule)
    builtin = ALL_SCHEDULES.get(cls.__name__) is cls
    return {
        "module": "ember.optimizers.schedules" if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": learning_rate_schedule.get_config(),
        "registered_name": None if builtin else cls.__name__,
    }


def deserialize(config, custom_objects=None):
    """Create a schedule from ``serialize``'s dict (ember's or Keras's).

    Args:
        config: a dict with ``"class_name"`` and ``"config"``.
        custom_objects: ``{class_name: class}`` for your own schedules, looked up first.

    Example:
        >>> deserialize({"class_name": "ExponentialDecay", "config": {
        ...     "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}})(10)
        0.05
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"`deserialize` expects a dict with a 'class_name' key (as returned by `serialize`), got {config!r}."
        )
    name = config["class_name"]
    custom_objects = custom_objects or {}
    cls = custom_objects.get(name) or custom_objects.get(config.get("registered_name")) or ALL_SCHEDULES.get(name)
    if cls is None:
        raise ValueError(MSG_UNKNOWN.format(name=name, known=sorted(ALL_SCHEDULES)))
    arguments = dict(config.get("config") or {})
    from_config = getattr(cls, "from_config", None)
    return from_config(arguments) if from_config is not None else cls(**arguments)


def get(identifier):
    """Resolve ``identifier`` to a schedule.

    Args:
        identifier: a ``LearningRateSchedule`` or any other callable (returned
            as is), a config dict (see ``deserialize``), or None (returns None).

    Example:
        >>> get({"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [5], "values": [0.1, 0.01]}})(6)
        0.01
    """
    if identifier is None or isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in ALL_SCHEDULES:
            raise ValueError(MSG_NEEDS_ARGUMENTS.format(identifier))
        raise ValueError(MSG_UNKNOWN.format(name=identifier, known=sorted(ALL_SCHEDULES)))
    if isinstance(identifier, type):
        raise ValueError(
            f"`get` expects a schedule instance, got the class {identifier.__name__}. Create it with its "
            "arguments first."
        )
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret learning-rate schedule identifier: {identifier!r}. Expected a "
        "LearningRateSchedule, a callable `step -> learning rate`, a config dict or None."
    )

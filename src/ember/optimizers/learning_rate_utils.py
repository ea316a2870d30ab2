"""Learning-rate arguments: validation, schedule calling convention, (de)serialization."""

import importlib
import inspect
import math

import numpy as np
import torch

MSG_BAD_LEARNING_RATE = (
    "Argument `learning_rate` should be a float, or a callable schedule (that takes the "
    "current iteration count and returns the learning rate). Received instead: "
    "learning_rate={!r}"
)
MSG_NOT_SETTABLE = (
    "This optimizer was created with a learning-rate schedule (a callable) as its "
    "`learning_rate`, hence its learning rate is not settable to a float. Create the "
    "optimizer with a float `learning_rate` to change it during training, or assign a "
    "new schedule."
)
MSG_NOT_FINITE = (
    "The learning-rate schedule {schedule!r} returned a non-finite learning rate at step "
    "{step}: learning_rate={value}. Training cannot continue with nan or inf; fix the "
    "schedule's arguments or its formula so that it stays finite at every step."
)
MSG_NOT_SERIALIZABLE = (
    "Cannot serialize the learning-rate callable {!r}: it has no `get_config()`. Use a "
    "schedule class with `get_config()` (e.g. from `ember.optimizers.schedules`) or a "
    "float learning rate."
)


def check_float_learning_rate(value):
    """Return ``value`` (a number, or a one-element tensor or array) as a float.

    Tensors are accepted so that ``opt.learning_rate = opt.learning_rate * 0.5`` works.

    Raises:
        ValueError: anything else, naming the argument.
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype != torch.bool:
        return float(value.item())
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.item())
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(MSG_BAD_LEARNING_RATE.format(value))
    return float(value)


def takes_step_argument(schedule):
    """Whether ``schedule`` is called with the step (True) or with no arguments (False).

    Example:
        >>> takes_step_argument(lambda step: 0.1), takes_step_argument(lambda: 0.1)
        (True, False)
    """
    try:
        parameters = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature
        return True
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
    )
    return any(parameter.kind in positional for parameter in parameters)


def checked_schedule_value(value, step, schedule):
    """The learning rate a schedule returned at ``step``, as a float; it must be finite.

    A tensor is read to the host by the ``float()`` conversion that the update
    rules need anyway, so the check adds no synchronisation for any value.

    Raises:
        ValueError: the value is nan or infinite, naming the step and the value.
    """
    learning_rate = float(value)
    if not math.isfinite(learning_rate):
        raise ValueError(MSG_NOT_FINITE.format(schedule=schedule, step=step, value=learning_rate))
    return learning_rate


def serialize_schedule(schedule):
    """The config dict of a schedule object that has ``get_config()`` (via ``schedules.serialize``)."""
    if not hasattr(schedule, "get_config"):
        raise ValueError(MSG_NOT_SERIALIZABLE.format(schedule))
    from ember.optimizers import schedules  # not at module level: ember.optimizers imports this module

    return schedules.serialize(schedule)


def deserialize_schedule(config, custom_objects=None):
    """Rebuild a schedule from ``serialize_schedule``'s dict.

    The class is looked up in ``custom_objects`` first, then in
    ``ember.optimizers.schedules``.
    """
    class_name = config.get("class_name")
    if custom_objects and class_name in custom_objects:
        cls = custom_objects[class_name]
        if hasattr(cls, "from_config"):
            return cls.from_config(config.get("config", {}))
        return cls(**config.get("config", {}))
    try:
        schedules = importlib.import_module("ember.optimizers.schedules")
    except ModuleNotFoundError as error:
        if error.name != "ember.optimizers.schedules":
            raise
        schedules = None
    if schedules is not None and hasattr(schedules, "deserialize"):
        return schedules.deserialize(config, custom_objects=custom_objects)
    raise ValueError(
        f"Unknown learning-rate schedule {class_name!r}. Pass its class in "
        f"`custom_objects={{{class_name!r}: cls}}`."
    )

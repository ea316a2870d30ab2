"""``LearningRateSchedule``: the base class of serializable learning-rate schedules."""

__all__ = ["LearningRateSchedule"]


class LearningRateSchedule:
    """A serializable callable mapping a training step to a learning rate.

    Pass an instance as an optimizer's ``learning_rate``. Before every update the
    optimizer calls it with the number of steps completed so far, a Python
    ``int`` (0 for the first update), and uses the returned value.

    Subclassing: override ``__call__(step)`` and ``get_config()``;
    ``from_config(config)`` calls ``cls(**config)``, so ``get_config`` should
    return the constructor's arguments. ``__call__`` should accept a Python
    number (and then return a Python ``float``, which keeps the training loop
    free of device synchronisation) and, if you want to plot or inspect the
    schedule on tensors, a tensor of steps (then return a tensor). A schedule
    that returns ``nan`` or ``inf`` stops training with a ``ValueError`` naming
    the step.

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __init__(self, initial_learning_rate):
        ...         self.initial_learning_rate = initial_learning_rate
        ...
        ...     def __call__(self, step):
        ...         return self.initial_learning_rate * 0.5**step
        ...
        ...     def get_config(self):
        ...         return {"initial_learning_rate": self.initial_learning_rate}
        >>> schedule = Halving(0.1)
        >>> schedule(2)
        0.025
        >>> Halving.from_config(schedule.get_config())(0)
        0.1
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning-rate schedule {type(self).__name__!r} must override `__call__(self, step)` "
            "to return the learning rate at `step`."
        )

    def get_config(self):
        """The constructor arguments as a JSON-friendly dict (override in subclasses)."""
        raise NotImplementedError(
            f"Learning-rate schedule {type(self).__name__!r} must override `get_config()` to be "
            "serializable (return its constructor arguments as a dict)."
        )

    @classmethod
    def from_config(cls, config):
        """Create a schedule from ``get_config()``'s output: ``cls(**config)``."""
        return cls(**config)

    def __repr__(self):
        try:
            config = self.get_config()
        except NotImplementedError:
            return object.__repr__(self)
        arguments = ", ".join(f"{key}={value!r}" for key, value in config.items())
        return f"{type(self).__name__}({arguments})"

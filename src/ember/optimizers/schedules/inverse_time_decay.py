"""Inverse-time decay: the rate falls as ``1 / (1 + decay_rate * step / decay_steps)``."""

from ember.optimizers.schedules import step_ops as ops
from ember.optimizers.schedules import validation
from ember.optimizers.schedules.learning_rate_schedule import LearningRateSchedule

__all__ = ["InverseTimeDecay", "inverse_time_decay"]


def inverse_time_decay(step, *, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    Args:
        step: a Python float or a floating-point tensor (see ``step_ops.as_step``).
        initial_learning_rate: the rate at step 0.
        decay_steps: how often the decay is applied (the unit of ``step``).
        decay_rate: the decay rate.
        staircase: use whole periods, ``floor(step / decay_steps)``.

    Returns:
        A float for a float step, a tensor for a tensor step.

    Example:
        >>> inverse_time_decay(20.0, initial_learning_rate=1.0, decay_steps=10, decay_rate=0.5)
        0.5
    """
    progress = step / decay_steps
    if staircase:
        progress = ops.floor(progress)
    return ops.divide(initial_learning_rate, 1 + decay_rate * progress)


class InverseTimeDecay(LearningRateSchedule):
    """A learning rate that decays as the inverse of time (Keras's ``InverseTimeDecay``).

    ``lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps)``,
    with ``step / decay_steps`` rounded down when ``staircase=True``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a number > 0 of steps: how often the decay is applied.
        decay_rate: the decay rate.
        staircase: if True, decay at discrete intervals.
        name: the schedule's name.

    Example:
        >>> schedule = InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0, staircase=True)
        >>> schedule(9), schedule(10)
        (0.1, 0.05)
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        self.initial_learning_rate = validation.check_number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = validation.check_positive("decay_steps", decay_steps)
        self.decay_rate = validation.check_number("decay_rate", decay_rate)
        self.staircase = validation.check_bool("staircase", staircase)
        self.name = validation.check_name(name)

    def __call__(self, step):
        """The learning rate after ``step`` completed steps (a float for a number, a tensor for a tensor)."""
        return ops.to_learning_rate(
            inverse_time_decay(
                ops.as_step(step),
                initial_learning_rate=self.initial_learning_rate,
                decay_steps=self.decay_steps,
                decay_rate=self.decay_rate,
                staircase=self.staircase,
            )
        )

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }

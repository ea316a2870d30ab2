"""Exponential decay: the rate shrinks by ``decay_rate`` every ``decay_steps`` steps."""

from ember.optimizers.schedules import step_ops as ops
from ember.optimizers.schedules import validation
from ember.optimizers.schedules.learning_rate_schedule import LearningRateSchedule

__all__ = ["ExponentialDecay", "exponential_decay"]


def exponential_decay(step, *, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Args:
        step: a Python float or a floating-point tensor (see ``step_ops.as_step``).
        initial_learning_rate: the rate at step 0.
        decay_steps: the number of steps over which the rate is multiplied by ``decay_rate``.
        decay_rate: the decay factor.
        staircase: decay in whole periods, ``floor(step / decay_steps)``.

    Returns:
        A float for a float step, a tensor for a tensor step.

    Example:
        >>> exponential_decay(15.0, initial_learning_rate=1.0, decay_steps=10, decay_rate=0.5, staircase=True)
        0.5
    """
    progress = step / decay_steps
    if staircase:
        progress = ops.floor(progress)
    return initial_learning_rate * ops.power(decay_rate, progress)


class ExponentialDecay(LearningRateSchedule):
    """A learning rate that decays exponentially (Keras's ``ExponentialDecay``).

    ``lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps)``, with
    the exponent rounded down to a whole number when ``staircase=True``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a number > 0 of steps; the rate is multiplied by
            ``decay_rate`` every ``decay_steps`` steps.
        decay_rate: the decay factor.
        staircase: if True, decay at discrete intervals.
        name: the schedule's name.

    Example:
        >>> schedule = ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)
        >>> schedule(0), schedule(100), round(schedule(50), 6)
        (0.1, 0.05, 0.070711)
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        self.initial_learning_rate = validation.check_number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = validation.check_positive("decay_steps", decay_steps)
        self.decay_rate = validation.check_number("decay_rate", decay_rate)
        self.staircase = validation.check_bool("staircase", staircase)
        self.name = validation.check_name(name)

    def __call__(self, step):
        """The learning rate after ``step`` completed steps (a float for a number, a tensor for a tensor)."""
        return ops.to_learning_rate(
            exponential_decay(
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

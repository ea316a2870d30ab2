"""Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``, optionally cycling."""

from ember.optimizers.schedules import step_ops as ops
from ember.optimizers.schedules import validation
from ember.optimizers.schedules.learning_rate_schedule import LearningRateSchedule

__all__ = ["PolynomialDecay", "polynomial_decay"]


def polynomial_decay(step, *, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``.

    Without ``cycle`` the step stops at ``decay_steps`` (the rate then stays at
    ``end_learning_rate``). With ``cycle`` the decay period is stretched to the
    first multiple of ``decay_steps`` that is >= ``step`` (``decay_steps`` itself
    at step 0), so the rate jumps back up right after each multiple.

    Args:
        step: a Python float or a floating-point tensor (see ``step_ops.as_step``).
        initial_learning_rate: the rate at step 0.
        decay_steps: the length of the decay.
        end_learning_rate: the final rate.
        power: the polynomial's power (1.0 is linear).
        cycle: restart the decay after each ``decay_steps`` period.

    Returns:
        A float for a float step, a tensor for a tensor step.

    Example:
        >>> polynomial_decay(5.0, initial_learning_rate=1.0, decay_steps=10, end_learning_rate=0.0)
        0.5
    """
    if cycle:
        periods = ops.where(step == 0, 1.0, ops.ceil(step / decay_steps))
        decay_steps = decay_steps * periods
    else:
        step = ops.minimum(step, decay_steps)
    remaining = 1 - ops.divide(step, decay_steps)
    return (initial_learning_rate - end_learning_rate) * ops.power(remaining, power) + end_learning_rate


class PolynomialDecay(LearningRateSchedule):
    """A learning rate that follows a polynomial decay (Keras's ``PolynomialDecay``).

    ``lr(step) = (initial_learning_rate - end_learning_rate)
    * (1 - min(step, decay_steps) / decay_steps) ** power + end_learning_rate``.
    With ``cycle=True`` the decay restarts after every ``decay_steps`` period,
    each time over a longer period (see ``polynomial_decay``).

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a number > 0 of steps to decay over.
        end_learning_rate: the rate at and after ``decay_steps``.
        power: the power of the polynomial (1.0: linear).
        cycle: whether to restart the decay after ``decay_steps``.
        name: the schedule's name.

    Example:
        >>> schedule = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01)
        >>> round(schedule(5), 6), schedule(10), schedule(20)
        (0.055, 0.01, 0.01)
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        self.initial_learning_rate = validation.check_number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = validation.check_positive("decay_steps", decay_steps)
        self.end_learning_rate = validation.check_number("end_learning_rate", end_learning_rate)
        self.power = validation.check_number("power", power)
        self.cycle = validation.check_bool("cycle", cycle)
        self.name = validation.check_name(name)

    def __call__(self, step):
        """The learning rate after ``step`` completed steps (a float for a number, a tensor for a tensor)."""
        return ops.to_learning_rate(
            polynomial_decay(
                ops.as_step(step),
                initial_learning_rate=self.initial_learning_rate,
                decay_steps=self.decay_steps,
                end_learning_rate=self.end_learning_rate,
                power=self.power,
                cycle=self.cycle,
            )
        )

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }

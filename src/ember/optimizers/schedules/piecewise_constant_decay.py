"""Piecewise-constant learning rate: fixed values between step boundaries."""

import bisect

import torch

from ember.optimizers.schedules import step_ops as ops
from ember.optimizers.schedules import validation
from ember.optimizers.schedules.learning_rate_schedule import LearningRateSchedule

__all__ = ["PiecewiseConstantDecay", "piecewise_constant_decay"]

MSG_LENGTHS = (
    "The length of `boundaries` must be 1 less than the length of `values`, got "
    "boundaries={} of length {} and values={} of length {}. Give one value for each interval, "
    "e.g. boundaries=[100, 200], values=[0.1, 0.01, 0.001]."
)


def piecewise_constant_decay(step, *, boundaries, values):
    """``values[i]`` for ``boundaries[i - 1] < step <= boundaries[i]``.

    ``values[0]`` up to and including ``boundaries[0]``, ``values[-1]`` after
    ``boundaries[-1]``.

    Args:
        step: a Python float or a floating-point tensor (see ``step_ops.as_step``).
        boundaries: increasing step boundaries.
        values: ``len(boundaries) + 1`` learning rates.

    Returns:
        A float for a float step, a tensor for a tensor step.

    Example:
        >>> [piecewise_constant_decay(s, boundaries=[2, 4], values=[1.0, 0.5, 0.1]) for s in (2.0, 3.0, 5.0)]
        [1.0, 0.5, 0.1]
    """
    if isinstance(step, torch.Tensor):
        # Python scalars in torch.where: no small tensors are copied to the step's device.
        rate = torch.full_like(step, float(values[-1]))
        for boundary, value in zip(reversed(boundaries), reversed(values[:-1])):
            rate = torch.where(step <= boundary, float(value), rate)
        return rate
    return float(values[bisect.bisect_left(boundaries, step)])


class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant learning rate on each interval between boundaries (Keras's ``PiecewiseConstantDecay``).

    Args:
        boundaries: a list of increasing step numbers.
        values: a list of ``len(boundaries) + 1`` learning rates: ``values[0]``
            while ``step <= boundaries[0]``, ``values[i]`` while
            ``boundaries[i - 1] < step <= boundaries[i]``, ``values[-1]`` after
            the last boundary.
        name: the schedule's name.

    Example:
        >>> schedule = PiecewiseConstantDecay(boundaries=[100, 110], values=[1.0, 0.5, 0.1])
        >>> schedule(100), schedule(101), schedule(111)
        (1.0, 0.5, 0.1)
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        checked_boundaries = validation.check_number_list("boundaries", boundaries)
        checked_values = validation.check_number_list("values", values)
        if len(checked_boundaries) != len(checked_values) - 1:
            raise ValueError(MSG_LENGTHS.format(boundaries, len(checked_boundaries), values, len(checked_values)))
        for i, (low, high) in enumerate(zip(checked_boundaries, checked_boundaries[1:])):
            if high < low:
                raise ValueError(
                    f"`boundaries` must be in increasing order, got boundaries={boundaries} "
                    f"(boundaries[{i + 1}]={high!r} < boundaries[{i}]={low!r}). Sort them, and their values."
                )
        self.boundaries = checked_boundaries
        self.values = checked_values
        self.name = validation.check_name(name)

    def __call__(self, step):
        """The learning rate after ``step`` completed steps (a float for a number, a tensor for a tensor)."""
        return ops.to_learning_rate(
            piecewise_constant_decay(ops.as_step(step), boundaries=self.boundaries, values=self.values)
        )

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}

"""Cosine decay, with an optional linear warmup, and cosine decay with warm restarts (SGDR)."""

import math

from ember.optimizers.schedules import step_ops as ops
from ember.optimizers.schedules import validation
from ember.optimizers.schedules.learning_rate_schedule import LearningRateSchedule

__all__ = ["CosineDecay", "CosineDecayRestarts", "cosine_decay", "cosine_decay_restarts"]


def _cosine_factor(fraction, alpha):
    """From 1 at ``fraction=0`` down to ``alpha`` at ``fraction=1`` along half a cosine."""
    return (1 - alpha) * 0.5 * (1 + ops.cos(math.pi * fraction)) + alpha


def cosine_decay(step, *, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    """Cosine decay over ``decay_steps``, after an optional linear warmup.

    Without ``warmup_target``: ``initial_learning_rate * ((1 - alpha) * c + alpha)``
    with ``c = 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))``.
    With it: a linear ramp from ``initial_learning_rate`` to ``warmup_target``
    over the first ``warmup_steps`` steps, then the same cosine decay starting
    from ``warmup_target`` over the next ``decay_steps`` steps.

    Args:
        step: a Python float or a floating-point tensor (see ``step_ops.as_step``).
        initial_learning_rate: the rate at step 0.
        decay_steps: the length of the cosine decay.
        alpha: the final rate as a fraction of the decay's starting rate.
        warmup_target: the rate at the end of the warmup, or None for no warmup.
        warmup_steps: the length of the warmup (used only with ``warmup_target``).

    Returns:
        A float for a float step, a tensor for a tensor step.

    Example:
        >>> cosine_decay(5.0, initial_learning_rate=1.0, decay_steps=10)
        0.5
        >>> cosine_decay(1.0, initial_learning_rate=0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
        0.25
    """
    if warmup_target is None:
        return initial_learning_rate * _cosine_factor(ops.minimum(step, decay_steps) / decay_steps, alpha)
    step = ops.minimum(step, decay_steps + warmup_steps)
    warming_up = initial_learning_rate + (warmup_target - initial_learning_rate) * ops.divide(step, warmup_steps)
    decaying = warmup_target * _cosine_factor((step - warmup_steps) / decay_steps, alpha)
    return ops.where(step < warmup_steps, warming_up, decaying)


def _finished_cycles_length(restarts, t_mul):
    """Total length, in units of the first cycle, of the first ``restarts`` cycles: a geometric sum."""
    return (1 - ops.power(t_mul, restarts)) / (1 - t_mul)


def _restart_count(fraction, t_mul):
    """The index of the cycle that ``fraction`` (steps / first cycle length) falls in."""
    restarts = ops.floor(ops.log(1 - fraction * (1 - t_mul)) / math.log(t_mul))
    # Exactly at a restart the logarithm ratio can round to just off a whole number; step onto the right cycle.
    restarts = ops.where(_finished_cycles_length(restarts + 1, t_mul) <= fraction, restarts + 1, restarts)
    return ops.where(_finished_cycles_length(restarts, t_mul) > fraction, restarts - 1, restarts)


def cosine_decay_restarts(step, *, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """Cosine decay that restarts after each cycle (SGDR, Loshchilov & Hutter, 2017).

    Cycle ``i`` (from 0) lasts ``first_decay_steps * t_mul ** i`` steps and
    starts at ``initial_learning_rate * m_mul ** i``; within a cycle at
    completed fraction ``f``, the rate is
    ``initial_learning_rate * ((1 - alpha) * m_mul ** i * 0.5 * (1 + cos(pi * f)) + alpha)``.
    With ``t_mul < 1`` the cycles shrink and their total length is finite
    (``first_decay_steps / (1 - t_mul)``); after it the rate is ``nan``.

    Args:
        step: a Python float or a floating-point tensor (see ``step_ops.as_step``).
        initial_learning_rate: the rate at step 0.
        first_decay_steps: the length of the first cycle.
        t_mul: each cycle is ``t_mul`` times longer than the previous one.
        m_mul: each cycle starts ``m_mul`` times lower than the previous one.
        alpha: the minimum rate as a fraction of ``initial_learning_rate``.

    Returns:
        A float for a float step, a tensor for a tensor step.

    Example:
        >>> [cosine_decay_restarts(s, initial_learning_rate=1.0, first_decay_steps=2, m_mul=0.5)
        ...  for s in (0.0, 1.0, 2.0)]
        [1.0, 0.5, 0.5]
    """
    fraction = step / first_decay_steps
    if t_mul == 1:
        restarts = ops.floor(fraction)
        fraction = fraction - restarts
    else:
        restarts = _restart_count(fraction, t_mul)
        fraction = ops.divide(fraction - _finished_cycles_length(restarts, t_mul), ops.power(t_mul, restarts))
    cosine = 0.5 * ops.power(m_mul, restarts) * (1 + ops.cos(math.pi * fraction))
    return initial_learning_rate * ((1 - alpha) * cosine + alpha)


class CosineDecay(LearningRateSchedule):
    """Cosine decay with an optional linear warmup (Keras's ``CosineDecay``).

    Without warmup the rate follows half a cosine from ``initial_learning_rate``
    down to ``alpha * initial_learning_rate`` over ``decay_steps`` steps, then
    stays there. With ``warmup_target`` it first rises linearly from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps`` steps,
    then decays from ``warmup_target`` (see ``cosine_decay``).

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a number > 0 of steps to decay over.
        alpha: the minimum rate as a fraction of the decay's starting rate.
        name: the schedule's name.
        warmup_target: the rate reached at the end of the warmup, or None for no
            warmup (``warmup_steps`` is then ignored, as in Keras).
        warmup_steps: a number >= 0 of warmup steps.

    Example:
        >>> schedule = CosineDecay(0.0, decay_steps=10, warmup_target=0.1, warmup_steps=5)
        >>> round(schedule(2), 6), schedule(5), round(schedule(10), 6), schedule(15)
        (0.04, 0.1, 0.05, 0.0)
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        self.initial_learning_rate = validation.check_number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = validation.check_positive("decay_steps", decay_steps)
        self.alpha = validation.check_number("alpha", alpha)
        self.name = validation.check_name(name)
        self.warmup_target = validation.check_number("warmup_target", warmup_target, allow_none=True)
        self.warmup_steps = validation.check_number("warmup_steps", warmup_steps)
        if self.warmup_steps < 0:
            raise ValueError(
                f"Argument `warmup_steps` must be >= 0, got warmup_steps={warmup_steps!r}. "
                "Use 0 for no warmup."
            )

    def __call__(self, step):
        """The learning rate after ``step`` completed steps (a float for a number, a tensor for a tensor)."""
        return ops.to_learning_rate(
            cosine_decay(
                ops.as_step(step),
                initial_learning_rate=self.initial_learning_rate,
                decay_steps=self.decay_steps,
                alpha=self.alpha,
                warmup_target=self.warmup_target,
                warmup_steps=self.warmup_steps,
            )
        )

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (Keras's ``CosineDecayRestarts``).

    The first cycle decays from ``initial_learning_rate`` to
    ``alpha * initial_learning_rate`` over ``first_decay_steps`` steps; each
    following cycle is ``t_mul`` times longer and starts ``m_mul`` times lower
    (see ``cosine_decay_restarts``).

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: a number > 0 of steps in the first cycle.
        t_mul: a number > 0: the cycle-length factor.
        m_mul: the factor applied to each cycle's starting rate.
        alpha: the minimum rate as a fraction of ``initial_learning_rate``.
        name: the schedule's name.

    Example:
        >>> schedule = CosineDecayRestarts(1.0, first_decay_steps=10)
        >>> schedule(0), schedule(5), schedule(10), schedule(20), schedule(30)
        (1.0, 0.5, 1.0, 0.5, 1.0)
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        self.initial_learning_rate = validation.check_number("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = validation.check_positive("first_decay_steps", first_decay_steps)
        self.t_mul = validation.check_number("t_mul", t_mul)
        if not self.t_mul > 0:
            raise ValueError(
                f"Argument `t_mul` must be > 0, got t_mul={t_mul!r}. It scales each cycle's length; "
                "1.0 keeps cycles equal, 2.0 doubles them."
            )
        self.m_mul = validation.check_number("m_mul", m_mul)
        self.alpha = validation.check_number("alpha", alpha)
        self.name = validation.check_name(name)

    def __call__(self, step):
        """The learning rate after ``step`` completed steps (a float for a number, a tensor for a tensor)."""
        return ops.to_learning_rate(
            cosine_decay_restarts(
                ops.as_step(step),
                initial_learning_rate=self.initial_learning_rate,
                first_decay_steps=self.first_decay_steps,
                t_mul=self.t_mul,
                m_mul=self.m_mul,
                alpha=self.alpha,
            )
        )

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }

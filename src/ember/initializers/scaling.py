"""``VarianceScaling`` and its named special cases (Glorot, He, LeCun).

All of them pick the spread of the distribution from the weight's fans (see
``compute_fans``): with ``n`` the fan chosen by ``mode``, a normal draw has
standard deviation ``sqrt(scale / n)`` and a uniform draw has limits
``±sqrt(3 * scale / n)``.
"""

import math
import numbers

from ember.initializers import _sampling
from ember.initializers.base import RandomInitializer, compute_fans, normalize_shape, resolve_dtype

__all__ = [
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
]

# Standard deviation of a unit normal truncated to [-2, 2]. Dividing by it
# makes the *truncated* samples have the requested standard deviation.
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
# "normal" is the older spelling of "truncated_normal"; configs still carry it.
_DISTRIBUTION_ALIASES = {"normal": "truncated_normal"}


class VarianceScaling(RandomInitializer):
    """Draw values whose variance is ``scale / n``, ``n`` being a fan of the weight.

    ``n`` is ``fan_in`` (``mode="fan_in"``), ``fan_out`` (``"fan_out"``) or
    their mean (``"fan_avg"``), at least 1. With ``"truncated_normal"`` the
    samples lie within two (pre-truncation) standard deviations and their own
    standard deviation is ``sqrt(scale / n)``; ``"untruncated_normal"`` is a
    plain normal; ``"uniform"`` draws from ``[-limit, limit]`` with
    ``limit = sqrt(3 * scale / n)``.

    Args:
        scale: Positive scaling factor.
        mode: One of ``"fan_in"``, ``"fan_out"``, ``"fan_avg"``.
        distribution: One of ``"truncated_normal"``, ``"untruncated_normal"``,
            ``"uniform"``.
        seed: Int for deterministic values, ``None`` for torch's global RNG.
        input_axes: Optional axes whose sizes multiply to ``fan_in``.
        output_axes: Optional axes whose sizes multiply to ``fan_out``. Used
            only when ``input_axes`` is given too.

    Example:
        >>> init = VarianceScaling(scale=3.0, mode="fan_in", distribution="uniform", seed=1)
        >>> bool(init((9, 4)).abs().max() <= 1.0)
        True
    """

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        name = type(self).__name__
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not scale > 0.0:
            raise ValueError(f"{name}: scale must be a positive float, got scale={scale!r}.")
        if mode not in MODES:
            raise ValueError(f"{name}: mode must be one of {MODES}, got mode={mode!r}.")
        distribution = _DISTRIBUTION_ALIASES.get(distribution, distribution)
        if distribution not in DISTRIBUTIONS:
            raise ValueError(
                f"{name}: distribution must be one of {DISTRIBUTIONS}, got distribution={distribution!r}."
            )
        self.scale = float(scale)
        self.mode = mode
        self.distribution = distribution
        self.input_axes = None if input_axes is None else [int(a) for a in input_axes]
        self.output_axes = None if output_axes is None else [int(a) for a in output_axes]
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = normalize_shape(shape)
        dtype = resolve_dtype(dtype, floating=True, name=type(self).__name__)
        try:
            fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        except IndexError:
            raise ValueError(
                f"{type(self).__name__}: input_axes={self.input_axes} / output_axes={self.output_axes} "
                f"do not fit shape={shape} of rank {len(shape)}."
            ) from None
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV
            return _sampling.truncated_normal(shape, 0.0, stddev, dtype, self.seed)
        if self.distribution == "untruncated_normal":
            return _sampling.normal(shape, 0.0, math.sqrt(variance), dtype, self.seed)
        limit = math.sqrt(3.0 * variance)
        return _sampling.uniform(shape, -limit, limit, dtype, self.seed)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _NamedVarianceScaling(VarianceScaling):
    """A ``VarianceScaling`` whose scale, mode and distribution are fixed by its name."""

    _SETTINGS = None  # (scale, mode, distribution), set by each subclass

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, distribution = self._SETTINGS
        super().__init__(scale, mode, distribution, seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_NamedVarianceScaling):
    """Glorot (Xavier) uniform: ``U[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``.

    The default kernel initializer of Keras's ``Dense`` and convolution layers.

    Args:
        seed: Int for deterministic values, ``None`` for torch's global RNG.
        input_axes: Optional axes whose sizes multiply to ``fan_in``.
        output_axes: Optional axes whose sizes multiply to ``fan_out``.

    Example:
        >>> bool(GlorotUniform(seed=0)((3, 3)).abs().max() <= 1.0)
        True
    """

    _SETTINGS = (1.0, "fan_avg", "uniform")


class GlorotNormal(_NamedVarianceScaling):
    """Glorot (Xavier) normal: truncated normal, ``stddev = sqrt(2 / (fan_in + fan_out))``.

    Args:
        seed: Int for deterministic values, ``None`` for torch's global RNG.
        input_axes: Optional axes whose sizes multiply to ``fan_in``.
        output_axes: Optional axes whose sizes multiply to ``fan_out``.

    Example:
        >>> tuple(GlorotNormal(seed=0)((3, 3, 4, 8)).shape)
        (3, 3, 4, 8)
    """

    _SETTINGS = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_NamedVarianceScaling):
    """He normal: truncated normal, ``stddev = sqrt(2 / fan_in)``.

    Args:
        seed: Int for deterministic values, ``None`` for torch's global RNG.
        input_axes: Optional axes whose sizes multiply to ``fan_in``.
        output_axes: Optional axes whose sizes multiply to ``fan_out``.

    Example:
        >>> tuple(HeNormal(seed=0)((4, 2)).shape)
        (4, 2)
    """

    _SETTINGS = (2.0, "fan_in", "truncated_normal")


class HeUniform(_NamedVarianceScaling):
    """He uniform: ``U[-limit, limit]``, ``limit = sqrt(6 / fan_in)``.

    Args:
        seed: Int for deterministic values, ``None`` for torch's global RNG.
        input_axes: Optional axes whose sizes multiply to ``fan_in``.
        output_axes: Optional axes whose sizes multiply to ``fan_out``.

    Example:
        >>> bool(HeUniform(seed=0)((6, 2)).abs().max() <= 1.0)
        True
    """

    _SETTINGS = (2.0, "fan_in", "uniform")


class LecunNormal(_NamedVarianceScaling):
    """LeCun normal: truncated normal, ``stddev = sqrt(1 / fan_in)``; pairs with ``selu``.

    Args:
        seed: Int for deterministic values, ``None`` for torch's global RNG.
        input_axes: Optional axes whose sizes multiply to ``fan_in``.
        output_axes: Optional axes whose sizes multiply to ``fan_out``.

    Example:
        >>> tuple(LecunNormal(seed=0)((4, 2)).shape)
        (4, 2)
    """

    _SETTINGS = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_NamedVarianceScaling):
    """LeCun uniform: ``U[-limit, limit]``, ``limit = sqrt(3 / fan_in)``.

    Args:
        seed: Int for deterministic values, ``None`` for torch's global RNG.
        input_axes: Optional axes whose sizes multiply to ``fan_in``.
        output_axes: Optional axes whose sizes multiply to ``fan_out``.

    Example:
        >>> bool(LecunUniform(seed=0)((3, 2)).abs().max() <= 1.0)
        True
    """

    _SETTINGS = (1.0, "fan_in", "uniform")

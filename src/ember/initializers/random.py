"""Initializers drawing from fixed distributions, and ``Orthogonal``."""

from ember.initializers import _sampling
from ember.initializers.base import RandomInitializer, normalize_shape, resolve_dtype

__all__ = ["RandomNormal", "RandomUniform", "TruncatedNormal", "Orthogonal"]


def _check_stddev(owner, stddev):
    if float(stddev) < 0:
        raise ValueError(f"{owner}: stddev must be >= 0, got stddev={stddev}.")


class RandomNormal(RandomInitializer):
    """Draw from a normal distribution ``N(mean, stddev**2)``.

    Args:
        mean: Mean of the distribution.
        stddev: Standard deviation of the distribution (>= 0).
        seed: Int for deterministic values, ``None`` for torch's global RNG.

    Example:
        >>> RandomNormal(stddev=0.0, mean=1.0)((2,)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        _check_stddev("RandomNormal", stddev)
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = resolve_dtype(dtype, floating=True, name="RandomNormal")
        return _sampling.normal(normalize_shape(shape), self.mean, self.stddev, dtype, self.seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Draw from a uniform distribution on ``[minval, maxval)``.

    Args:
        minval: Lower bound.
        maxval: Upper bound (>= ``minval``).
        seed: Int for deterministic values, ``None`` for torch's global RNG.

    Example:
        >>> values = RandomUniform(-1.0, 1.0, seed=3)((100,))
        >>> bool(values.abs().max() <= 1.0)
        True
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        if float(minval) > float(maxval):
            raise ValueError(
                f"RandomUniform: minval must be <= maxval, got minval={minval}, maxval={maxval}."
            )
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = resolve_dtype(dtype, floating=True, name="RandomUniform")
        return _sampling.uniform(normalize_shape(shape), self.minval, self.maxval, dtype, self.seed)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class TruncatedNormal(RandomInitializer):
    """Draw from ``N(mean, stddev**2)`` keeping only values within 2 stddev of the mean.

    Values outside ``[mean - 2 * stddev, mean + 2 * stddev]`` are never
    produced; ``stddev`` is the standard deviation before truncation.

    Args:
        mean: Mean of the distribution.
        stddev: Standard deviation before truncation (>= 0).
        seed: Int for deterministic values, ``None`` for torch's global RNG.

    Example:
        >>> values = TruncatedNormal(stddev=1.0, seed=0)((1000,))
        >>> bool(values.abs().max() <= 2.0)
        True
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        _check_stddev("TruncatedNormal", stddev)
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = resolve_dtype(dtype, floating=True, name="TruncatedNormal")
        return _sampling.truncated_normal(normalize_shape(shape), self.mean, self.stddev, dtype, self.seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class Orthogonal(RandomInitializer):
    """Draw a random orthogonal matrix, scaled by ``gain``.

    A shape of rank > 2 is treated as the matrix
    ``(prod(shape[:-1]), shape[-1])`` and reshaped back. The columns are
    orthonormal when there are at least as many rows as columns, otherwise
    the rows are.

    Args:
        gain: Multiplier applied to the orthogonal matrix.
        seed: Int for deterministic values, ``None`` for torch's global RNG.

    Example:
        >>> import torch
        >>> q = Orthogonal(seed=0)((4, 3))
        >>> torch.allclose(q.T @ q, torch.eye(3), atol=1e-6)
        True
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = normalize_shape(shape)
        dtype = resolve_dtype(dtype, floating=True, name="Orthogonal")
        if len(shape) < 2:
            raise ValueError(
                f"Orthogonal needs a shape of rank >= 2; got shape={shape} of rank {len(shape)}."
            )
        return _sampling.orthogonal(shape, self.gain, dtype, self.seed)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}

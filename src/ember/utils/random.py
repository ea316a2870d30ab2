"""Seeding every random number generator a training run uses."""

import random

import numpy as np
import torch

__all__ = ["set_random_seed"]


def set_random_seed(seed):
    """Seed Python's ``random``, NumPy's global RNG and torch (CPU and every CUDA device).

    Initializers, dropout, shuffling and ``torch.randperm`` then repeat exactly
    from run to run (on the same hardware and library versions).

    Args:
        seed: A non-negative integer.

    Example:
        >>> set_random_seed(1337)
        >>> a = torch.rand(2)
        >>> set_random_seed(1337)
        >>> bool(torch.equal(a, torch.rand(2)))
        True
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device

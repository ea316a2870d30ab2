"""Scalar arithmetic in a variable's precision.

Keras computes an optimizer's scalar coefficients (bias corrections, decay powers)
as tensors of the variables' dtype. Doing the same arithmetic with NumPy scalars of
that dtype reproduces Keras's rounding exactly while staying on the host: no
device kernel and no device-to-host read per step.
"""

import numpy as np
import torch

__all__ = ["scalar_type"]


def scalar_type(dtype: torch.dtype):
    """The NumPy scalar type used for coefficients of variables of ``dtype``.

    ``np.float64`` for float64 variables, else ``np.float32`` (half-precision
    variables also get float32 coefficients).

    Example:
        >>> scalar_type(torch.float64).__name__, scalar_type(torch.bfloat16).__name__
        ('float64', 'float32')
    """
    return np.float64 if dtype == torch.float64 else np.float32

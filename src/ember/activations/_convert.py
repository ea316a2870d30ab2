"""Input conversion shared by the activation functions."""

import numpy as np
import torch


def as_tensor(x):
    """Return ``x`` as a tensor: tensors pass through untouched, NumPy arrays keep
    their dtype, and Python numbers or lists become float32 (Keras's default float)."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        return torch.from_numpy(np.array(x))
    return torch.as_tensor(x, dtype=torch.float32)

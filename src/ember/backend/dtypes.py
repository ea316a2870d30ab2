"""Dtype names: Keras spells them as strings ("float32"), PyTorch as objects."""

import numpy as np
import torch

_BY_NAME = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
_BY_TORCH = {v: k for k, v in _BY_NAME.items()}
_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "int": "int64"}


def standardize_dtype(dtype):
    """Return Keras's string name for ``dtype`` (a string, torch dtype or NumPy dtype)."""
    if dtype is None:
        return "float32"
    if isinstance(dtype, torch.dtype):
        if dtype not in _BY_TORCH:
            raise ValueError(f"Unsupported dtype {dtype}.")
        return _BY_TORCH[dtype]
    if isinstance(dtype, str):
        name = _ALIASES.get(dtype, dtype)
        if name in ("string", "str"):
            return "string"  # batches of strings are NumPy arrays; there is no torch dtype for them
    else:
        name = np.dtype(dtype).name
    if name not in _BY_NAME:
        raise ValueError(f"Unknown dtype {dtype!r}; expected one of {sorted(_BY_NAME)}.")
    return name


def to_torch_dtype(dtype):
    """Return the ``torch.dtype`` for any dtype spelling (``None`` means float32)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    name = standardize_dtype(dtype)
    if name == "string":
        raise TypeError("dtype 'string' has no torch dtype: strings are kept as NumPy arrays of str/object dtype.")
    return _BY_NAME[name]

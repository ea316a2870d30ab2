"""Batches of strings: NumPy arrays of ``str`` or ``object`` dtype (torch has no string tensors).

String data never becomes a tensor and never moves to a device; it is sliced and
gathered like any other array and handed to the layers that read it
(``StringLookup``, ``TextVectorization``).
"""

import numpy as np

__all__ = ["is_string_array", "to_string_array"]


def is_string_array(value):
    """True for a NumPy array of ``str``, ``bytes`` or ``object`` dtype."""
    return isinstance(value, np.ndarray) and value.dtype.kind in "OUS"


def to_string_array(value, name="inputs", encoding="utf-8"):
    """``value`` (a str, a nested list of str, a str/bytes/object array) as an object array of str.

    Raises:
        TypeError: when ``value`` is a tensor or a numeric array.
    """
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, np.ndarray):
        if hasattr(value, "dtype") and hasattr(value, "shape"):  # a torch tensor or another numeric array
            raise TypeError(
                f"`{name}` must hold strings (a NumPy array of str/object dtype or a list of str), got "
                f"{type(value).__name__} of dtype {value.dtype}."
            )
        value = np.asarray(value, dtype=object)
    if value.dtype.kind == "S":
        value = np.char.decode(value, encoding)
    if value.dtype.kind == "U":
        return value.astype(object)
    if value.dtype.kind != "O":
        raise TypeError(
            f"`{name}` must hold strings (a NumPy array of str/object dtype or a list of str), got a NumPy "
            f"array of dtype {value.dtype}."
        )
    return value

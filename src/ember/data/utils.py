"""Packing and unpacking ``(x, y, sample_weight)`` batches, as Keras does."""

__all__ = ["pack_x_y_sample_weight", "unpack_x_y_sample_weight"]


def unpack_x_y_sample_weight(data):
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` → ``(x, y, sample_weight)``.

    Only tuples are unpacked: a list is one multi-input ``x``.
    """
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data
        raise ValueError(
            "Data should be `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`; got a tuple of "
            f"{len(data)} elements."
        )
    return data, None, None


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)

"""Argument checks shared by the regularizers (internal)."""

import math

__all__ = ["check_non_negative_float"]


def check_non_negative_float(value, arg_name, owner, default=None):
    """``value`` as a Python float, or a ``ValueError`` naming ``owner`` and ``arg_name``.

    ``None`` becomes ``default`` when one is given (as Keras does for the
    regularization factors).
    """
    if value is None and default is not None:
        return float(default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(
            f"{owner} argument `{arg_name}` must be a non-negative float, got {arg_name}={value!r}. "
            f"Pass a number such as {arg_name}=0.01."
        )
    return float(value)


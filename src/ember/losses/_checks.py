"""Validation of loss constructor arguments (internal).

Each check raises a ``ValueError`` naming the argument, what was expected and
what was given, so a bad configuration fails when the loss is built rather
than as a shape or NaN surprise during training.
"""

import numbers


def check_axis(axis, name="axis"):
    """``axis`` must be a Python int (not a bool)."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`{name}` must be an int, got {name}={axis!r} of type {type(axis).__name__}.")


def check_axes(axis, name="axis"):
    """``axis`` must be ``None`` (all axes), an int, or a tuple / list of distinct ints."""
    if axis is None:
        return
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes) or len(set(axes)) != len(axes):
        raise ValueError(
            f"`{name}` must be None (reduce over all axes), an int or a tuple of distinct ints, "
            f"got {name}={axis!r}."
        )


def check_label_smoothing(label_smoothing):
    """``label_smoothing`` must be a number in [0, 1]."""
    if not isinstance(label_smoothing, numbers.Real) or not 0 <= label_smoothing <= 1:
        raise ValueError(f"`label_smoothing` must be in [0, 1], got label_smoothing={label_smoothing!r}.")


def check_number(name, value, low=None, high=None, low_inclusive=True):
    """``value`` must be a real number in the range given by ``low`` / ``high`` (``high`` inclusive)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        left = "(-inf" if low is None else ("[" if low_inclusive else "(") + f"{low}"
        right = "inf)" if high is None else f"{high}]"
        raise ValueError(f"`{name}` must be a number in {left}, {right}, got {name}={value!r}.")



def check_same_shape(y_true, y_pred, loss_name, hint):
    """``y_true`` and ``y_pred`` must have the same shape (a host-side check; no device sync)."""
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"In {loss_name}, `y_true` and `y_pred` must have the same shape, got "
            f"y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)}. {hint}"
        )

"""One entry point from user data to a batch source: ``adapter_for``."""

import math


from ember.data.array_adapter import ArrayAdapter, is_array
from ember.tree import flatten, map_structure

__all__ = ["adapter_for", "split_validation"]


def _all_arrays(structure):
    leaves = flatten(structure)
    return bool(leaves) and all(is_array(leaf) for leaf in leaves)


def adapter_for(x, y=None, sample_weight=None, batch_size=None, shuffle=False, class_weight=None, argument="x"):
    """Return a re-iterable batch source for ``x`` (arrays or tensors, possibly nested).

    Each ``iter()`` is one pass over the data yielding ``(x, y, sample_weight)``
    tuples; ``num_batches`` is the number of batches per pass.
    """
    if x is None:
        raise ValueError(f"`{argument}` is required; got None.")
    if _all_arrays(x):
        if y is not None and not _all_arrays(y):
            raise TypeError(
                f"When `{argument}` is an array, `y` must be an array too (or a list/dict of arrays), "
                f"got {type(y).__name__}."
            )
        return ArrayAdapter(
            x, y, sample_weight, batch_size=32 if batch_size is None else batch_size, shuffle=shuffle,
            class_weight=class_weight,
        )
    raise TypeError(
        f"Unsupported type for `{argument}`: {type(x).__name__}. Pass NumPy arrays or torch tensors "
        "(or lists/dicts of them)."
    )


def split_validation(x, y, sample_weight, validation_split):
    """Split off the LAST ``validation_split`` fraction of the arrays, before any shuffling."""
    if not isinstance(validation_split, (int, float)) or not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be a float in (0, 1) (e.g. 0.2 for 20% of the data), got "
            f"{validation_split!r}."
        )
    if not _all_arrays(x) or (y is not None and not _all_arrays(y)):
        raise ValueError(
            "`validation_split` is only supported for NumPy arrays and torch tensors, because it "
            "needs to index samples. For other data, pass `validation_data` instead."
        )
    n = int(flatten(x)[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"`validation_split={validation_split}` leaves no samples for "
            f"{'training' if split_at == 0 else 'validation'} with only {n} samples."
        )

    def head(a):
        return None if a is None else a[:split_at]

    def tail(a):
        return None if a is None else a[split_at:]

    train = tuple(map_structure(head, s) if s is not None else None for s in (x, y, sample_weight))
    val = tuple(map_structure(tail, s) if s is not None else None for s in (x, y, sample_weight))
    return train, val



"""Automatic, session-unique object names (``dense``, ``dense_1``, ...)."""

import collections
import re
import threading

_lock = threading.Lock()
_counts = collections.defaultdict(int)


def to_snake_case(name):
    """``GlobalMaxPooling2D`` -> ``global_max_pooling2d``; ``Dense`` -> ``dense``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def unique_name(base):
    """Return ``base`` the first time, then ``base_1``, ``base_2``, ..."""
    with _lock:
        count = _counts[base]
        _counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def clear_session():
    """Reset automatic naming, so the next ``Dense`` is named ``dense`` again."""
    with _lock:
        _counts.clear()

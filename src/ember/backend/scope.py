"""The symbolic scope: set while layers are traced on symbolic inputs.

Inside it, side effects of a layer's ``call`` (``add_loss``, metric updates)
are skipped, because the tensors are stand-ins used only for shape inference.
"""

import contextlib
import threading

_state = threading.local()


def in_symbolic_scope():
    return getattr(_state, "depth", 0) > 0


@contextlib.contextmanager
def symbolic_scope():
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1

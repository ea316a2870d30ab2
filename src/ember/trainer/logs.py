"""``Logs``: the per-step logs mapping, read from device only when someone looks."""

from collections.abc import Mapping

import torch

__all__ = ["Logs", "to_float"]


def to_float(value):
    """A Python float for scalars; a NumPy array for metrics with several values (as Keras logs them)."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
        return float(value) if value.numel() == 1 else value.cpu().numpy()
    return float(value) if isinstance(value, (int, float)) else value


class Logs(Mapping):
    """A read-only ``{name: float}`` mapping computed lazily.

    Reading a metric's result forces a device→host copy; building the mapping
    after every step is free, so callbacks and the progress bar pay only when
    they actually read it.

    Args:
        source: Either a list of metrics (each with ``name`` and ``result()``)
            or a dict of values (floats or tensors).
    """

    __slots__ = ("_source", "_values")

    def __init__(self, source):
        self._source = source
        self._values = None

    def _materialize(self):
        if self._values is None:
            if isinstance(self._source, Mapping):
                items = self._source.items()
            else:
                items = ((m.name, m.result()) for m in self._source)
            values = {}
            for name, value in items:
                if isinstance(value, Mapping):  # a metric returning several values
                    for key, inner in value.items():
                        values[key] = to_float(inner)
                else:
                    values[name] = to_float(value)
            self._values = values
        return self._values

    def __getitem__(self, key):
        return self._materialize()[key]

    def __iter__(self):
        return iter(self._materialize())

    def __len__(self):
        return len(self._materialize())

    def __repr__(self):
        return f"Logs({self._materialize()!r})"

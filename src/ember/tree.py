"""Nested structures (lists, tuples, dicts of leaves), as Keras's ``keras.tree``.

Dicts keep insertion order; ``None`` is a leaf.
"""

__all__ = ["flatten", "map_structure", "pack_sequence_as", "is_nested"]


def is_nested(value):
    return isinstance(value, (list, tuple, dict))


def flatten(structure):
    """Leaves of ``structure`` in depth-first order."""
    if isinstance(structure, dict):
        out = []
        for v in structure.values():
            out.extend(flatten(v))
        return out
    if isinstance(structure, (list, tuple)):
        out = []
        for v in structure:
            out.extend(flatten(v))
        return out
    return [structure]


def map_structure(fn, structure):
    """Apply ``fn`` to every leaf, keeping the nesting."""
    if isinstance(structure, dict):
        return type(structure)((k, map_structure(fn, v)) for k, v in structure.items())
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*(map_structure(fn, v) for v in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, v) for v in structure)
    return fn(structure)


def pack_sequence_as(structure, flat):
    """Inverse of ``flatten``: rebuild ``structure``'s nesting from ``flat`` leaves."""
    flat = list(flat)
    position = [0]

    def build(s):
        if isinstance(s, dict):
            return type(s)((k, build(v)) for k, v in s.items())
        if isinstance(s, tuple) and hasattr(s, "_fields"):
            return type(s)(*(build(v) for v in s))
        if isinstance(s, (list, tuple)):
            return type(s)(build(v) for v in s)
        value = flat[position[0]]
        position[0] += 1
        return value

    result = build(structure)
    if position[0] != len(flat):
        raise ValueError(f"Structure has {position[0]} leaves but {len(flat)} values were given.")
    return result

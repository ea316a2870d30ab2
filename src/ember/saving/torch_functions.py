"""Torch functions of functional graphs, stored by their public dotted name.

``torch.sum(x) * 0.1`` on symbolic tensors records graph nodes that apply
``torch.sum`` and ``torch.mul``. They are saved as ``"torch.sum"`` and
``"torch.mul"`` and looked up again by name. Only functions that PyTorch
dispatches on tensor arguments (``torch.overrides.get_overridable_functions``:
``torch.*``, ``torch.nn.functional.*``, ``torch.linalg.*``, ``torch.fft.*``,
``torch.special.*`` and ``torch.Tensor`` methods, operators included) are
accepted, so a file cannot name ``torch.load``, ``torch.save`` or any other
function with effects outside the computation.
"""

import operator

import torch

from ember.graph.keras_tensor import _getitem

__all__ = ["torch_function_name", "resolve_torch_function"]

# Public namespaces searched for a name, in order of preference.
_NAMESPACES = (
    ("torch", torch),
    ("torch.nn.functional", torch.nn.functional),
    ("torch.linalg", torch.linalg),
    ("torch.fft", torch.fft),
    ("torch.special", torch.special),
    ("torch.Tensor", torch.Tensor),
)
# Overridable, but they take callables, act outside the computation or are Python object protocols.
_EXCLUDED = frozenset(
    {"apply_", "map_", "map2_", "register_hook", "register_post_accumulate_grad_hook", "backward"}
    | {
        f"__{name}__"
        for name in (
            "setstate reduce_ex deepcopy dlpack dlpack_device array array_wrap format repr setitem "
            "bool len contains index int float long complex nonzero reversed"
        ).split()
    }
)
# ``x[index]`` on a symbolic tensor records ember's indexing function.
_GETITEM_NAME = "operator.getitem"

_name_of = None  # function -> dotted name, built on first use
_function_of = None  # dotted name -> function


def _tables():
    global _name_of, _function_of
    if _name_of is None:
        overridable = {fn for fns in torch.overrides.get_overridable_functions().values() for fn in fns}
        name_of, function_of = {}, {}
        for prefix, namespace in _NAMESPACES:
            for attribute in dir(namespace):
                if attribute in _EXCLUDED or (attribute.startswith("_") and not attribute.startswith("__")):
                    continue
                fn = getattr(namespace, attribute, None)
                try:
                    if fn not in overridable:
                        continue
                except TypeError:  # unhashable attribute
                    continue
                dotted = f"{prefix}.{attribute}"
                function_of[dotted] = fn
                name_of.setdefault(fn, dotted)
        name_of[_getitem] = _GETITEM_NAME
        function_of[_GETITEM_NAME] = _getitem
        _name_of, _function_of = name_of, function_of
    return _name_of, _function_of


def torch_function_name(fn):
    """The dotted name of a tensor function (``"torch.sum"``), or ``None`` if it is not one."""
    if fn is operator.getitem:
        return _GETITEM_NAME
    try:
        return _tables()[0].get(fn)
    except TypeError:
        return None


def resolve_torch_function(name):
    """The tensor function saved as ``name``.

    Raises:
        ValueError: if ``name`` is not a tensor function of the allowed namespaces.
    """
    fn = _tables()[1].get(name) if isinstance(name, str) else None
    if fn is None:
        raise ValueError(
            f"The file names the torch function {name!r}, which is not a tensor function of torch, "
            "torch.nn.functional, torch.linalg, torch.fft, torch.special or torch.Tensor. Only such "
            "functions are loaded by name; wrap other code in a Layer subclass registered with "
            "@ember.saving.register_serializable()."
        )
    return fn

"""Dtype policies: which dtype a layer's variables use and which dtype it computes in.

A policy is named after a dtype (``"float32"``, ``"bfloat16"``, ...: variables
and computation both in that dtype) or is a mixed policy
(``"mixed_float16"``, ``"mixed_bfloat16"``: float32 variables, computation in
the 16-bit dtype). Layers created without ``dtype=`` take the global policy
current at their creation (``set_global_policy``), as in Keras.
"""

import threading

import torch

from ember.backend.dtypes import standardize_dtype, to_torch_dtype

__all__ = [
    "DTypePolicy",
    "Policy",
    "deserialize",
    "dtype_policy",
    "get",
    "global_policy",
    "serialize",
    "set_dtype_policy",
    "set_global_policy",
]

MIXED_POLICIES = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}

MSG_BAD_NAME = (
    "Cannot convert {name!r} to a mixed precision DTypePolicy. Valid policies include 'mixed_float16', "
    "'mixed_bfloat16', and the name of any float dtype such as 'float32'."
)
MSG_BAD_POLICY = (
    "Invalid `policy` argument. Expected the string name of a policy (such as 'mixed_float16') or a "
    "`DTypePolicy` instance. Received: policy={policy!r} (of type {kind})."
)


_MIXED_USED = False


def mixed_policy_used():
    """Whether a mixed policy was ever created in this process (layers skip input casting until then)."""
    return _MIXED_USED


class DTypePolicy:
    """A dtype policy: ``variable_dtype`` for weights, ``compute_dtype`` for computation.

    Args:
        name: ``"mixed_float16"``, ``"mixed_bfloat16"`` or a dtype name
            (``"float32"``, ``"bfloat16"``, ``"float16"``, ``"float64"``, ...).
            Default: the global policy's name.

    Example:
        >>> policy = DTypePolicy("mixed_bfloat16")
        >>> policy.compute_dtype, policy.variable_dtype
        ('bfloat16', 'float32')
    """

    def __init__(self, name=None):
        if name is None:
            name = global_policy().name
        if not isinstance(name, str):
            raise TypeError(f"`name` must be a string such as 'mixed_float16', got {name!r}.")
        if name in MIXED_POLICIES:
            compute, variable = MIXED_POLICIES[name], "float32"
        else:
            try:
                compute = variable = standardize_dtype(name)
            except ValueError:
                raise ValueError(MSG_BAD_NAME.format(name=name)) from None
            name = compute
        if compute != variable:
            global _MIXED_USED
            _MIXED_USED = True
        self._name = name
        self._compute_dtype = compute
        self._variable_dtype = variable
        self._is_mixed = compute != variable

    @property
    def name(self):
        """The policy's name, e.g. ``"mixed_float16"``."""
        return self._name

    @property
    def compute_dtype(self):
        """The dtype layers compute in (a string, as Keras)."""
        return self._compute_dtype

    @property
    def variable_dtype(self):
        """The dtype of the layers' weights."""
        return self._variable_dtype

    @property
    def is_mixed(self):
        """Whether computation runs in a lower precision than the variables."""
        return self._is_mixed

    @property
    def torch_compute_dtype(self):
        """``compute_dtype`` as a ``torch.dtype``."""
        return to_torch_dtype(self._compute_dtype)

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(("DTypePolicy", self._name))

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


Policy = DTypePolicy

_state = threading.local()
_DEFAULT = DTypePolicy("float32")


def global_policy():
    """The policy new layers get when created without ``dtype=`` (``"float32"`` by default)."""
    return getattr(_state, "policy", None) or _DEFAULT


def set_global_policy(policy):
    """Set the policy of layers created from now on.

    Args:
        policy: a policy name (``"mixed_bfloat16"``, ``"mixed_float16"``,
            ``"float32"``, ...) or a ``DTypePolicy``.

    Example:
        >>> set_global_policy("mixed_bfloat16")
        >>> global_policy().compute_dtype
        'bfloat16'
        >>> set_global_policy("float32")
    """
    if isinstance(policy, DTypePolicy):
        _state.policy = policy
    elif isinstance(policy, str):
        _state.policy = DTypePolicy(policy)
    else:
        raise ValueError(MSG_BAD_POLICY.format(policy=policy, kind=type(policy)))


dtype_policy = global_policy
set_dtype_policy = set_global_policy


def get(identifier):
    """A ``DTypePolicy`` from a layer's ``dtype=`` argument.

    Args:
        identifier: ``None`` (the global policy), a ``DTypePolicy``, a policy or
            dtype name, a ``torch.dtype``, or ``serialize``'s dict.
    """
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict) and "config" in identifier:
        return DTypePolicy.from_config(identifier["config"])
    if isinstance(identifier, torch.dtype):
        return DTypePolicy(standardize_dtype(identifier))
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(standardize_dtype(identifier))  # a NumPy dtype
    except (TypeError, ValueError):
        raise ValueError(MSG_BAD_POLICY.format(policy=identifier, kind=type(identifier))) from None


def serialize(policy):
    """A policy as a JSON-friendly dict, the form Keras writes into layer configs."""
    return {
        "module": "ember.mixed_precision",
        "class_name": "DTypePolicy",
        "config": policy.get_config(),
        "registered_name": None,
    }


def deserialize(config, custom_objects=None):
    """A ``DTypePolicy`` from ``serialize``'s dict (Keras's layout is accepted too)."""
    if not isinstance(config, dict) or config.get("class_name") not in ("DTypePolicy", "Policy"):
        raise ValueError(f"Expected a serialized DTypePolicy (class_name 'DTypePolicy'), got {config!r}.")
    return DTypePolicy.from_config(dict(config.get("config") or {}))

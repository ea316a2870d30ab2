"""String identifiers for activations: ``get``, ``serialize``, ``deserialize``.

``ALL_ACTIVATIONS`` is the single registry. Canonical names come first, so
``serialize`` maps an alias (``swish``) to its canonical name (``silu``),
as Keras does.
"""

from ember.activations.gated import gelu, glu, hard_silu, mish, silu
from ember.activations.normalizing import log_softmax, softmax, sparsemax
from ember.activations.rectifiers import celu, elu, leaky_relu, relu, relu6, selu, softplus, sparse_plus, squareplus
from ember.activations.shrinkage import hard_shrink, soft_shrink, tanh_shrink, threshold
from ember.activations.squashing import (
    exponential,
    hard_sigmoid,
    hard_tanh,
    linear,
    log_sigmoid,
    sigmoid,
    softsign,
    sparse_sigmoid,
    tanh,
)

__all__ = ["ALL_ACTIVATIONS", "get", "serialize", "deserialize"]

ALL_ACTIVATIONS = {
    "celu": celu,
    "elu": elu,
    "exponential": exponential,
    "gelu": gelu,
    "glu": glu,
    "hard_shrink": hard_shrink,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_tanh": hard_tanh,
    "leaky_relu": leaky_relu,
    "linear": linear,
    "log_sigmoid": log_sigmoid,
    "log_softmax": log_softmax,
    "mish": mish,
    "relu": relu,
    "relu6": relu6,
    "selu": selu,
    "sigmoid": sigmoid,
    "silu": silu,
    "soft_shrink": soft_shrink,
    "softmax": softmax,
    "softplus": softplus,
    "softsign": softsign,
    "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid,
    "sparsemax": sparsemax,
    "squareplus": squareplus,
    "tanh": tanh,
    "tanh_shrink": tanh_shrink,
    "threshold": threshold,
    # Aliases (the same function objects as above).
    "swish": silu,
    "hard_swish": hard_silu,
}

_NAME_OF = {}
for _name, _fn in ALL_ACTIVATIONS.items():
    _NAME_OF.setdefault(_fn, _name)
del _name, _fn


def _lookup(name):
    if name in ALL_ACTIVATIONS:
        return ALL_ACTIVATIONS[name]
    raise ValueError(
        f"Unknown activation {name!r}. Valid names (case-sensitive): {', '.join(sorted(ALL_ACTIVATIONS))}. "
        "Any callable taking a tensor can also be passed directly."
    )


def get(identifier):
    """Return the activation function for ``identifier``.

    Args:
        identifier: A registered name (``"relu"``), a config dict written by
            ``serialize`` inside a layer config, a callable (returned as-is), or
            ``None`` (meaning ``linear``).

    Returns:
        A callable taking and returning a tensor.

    Raises:
        ValueError: for an unknown name or an identifier of another type.

    Example:
        >>> get("relu") is relu, get(None) is linear
        (True, True)
    """
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret activation identifier {identifier!r}: expected a name such as 'relu', "
        "a callable, or None."
    )


def serialize(activation):
    """Return the registered name of ``activation`` (``None`` gives ``"linear"``).

    Raises:
        ValueError: for a callable that is not a registered activation, which
            cannot be stored by name.

    Example:
        >>> serialize(get("swish"))
        'silu'
    """
    if activation is None or isinstance(activation, str):
        activation = get(activation)
    try:
        return _NAME_OF[activation]
    except (KeyError, TypeError):
        raise ValueError(
            f"Cannot serialize activation {activation!r}: only the built-in activations "
            f"({', '.join(sorted(_NAME_OF.values()))}) have a registered name. Use one of them, "
            "or wrap a custom activation in a layer that implements get_config()."
        ) from None


def deserialize(config):
    """Return the activation named by ``config``.

    Args:
        config: A registered name, or a dict in Keras's function layout
            ``{"class_name": "function", "config": "relu", ...}``.

    Example:
        >>> deserialize({"class_name": "function", "config": "tanh"}) is tanh
        True
    """
    if isinstance(config, str):
        return _lookup(config)
    if isinstance(config, dict) and config.get("class_name") == "function" and isinstance(config.get("config"), str):
        return _lookup(config["config"])
    raise ValueError(
        "Activation config must be a name such as 'relu' or a dict like "
        f"{{'class_name': 'function', 'config': 'relu'}}, got {config!r}."
    )

"""String names of the built-in losses, ``get``, ``serialize`` and ``deserialize``.

To add a loss, write its function and class, then add one row to
``_BUILTINS``: ``(class, function, aliases)``. Its class name, its function
name and every alias then resolve to the class.
"""

import inspect

from ember.losses._serialization import deserialize_object, serialize_function, serialize_object
from ember.losses._utils import object_name
from ember.losses.cosine_similarity import CosineSimilarity, cosine_similarity
from ember.losses.distributional import KLDivergence, Poisson, kl_divergence, poisson
from ember.losses.focal import (
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
)
from ember.losses.hinge import CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge
from ember.losses.loss import Loss, LossFunctionWrapper
from ember.losses.overlap import Dice, Tversky, dice, tversky
from ember.losses.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
)
from ember.losses.regression import (
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from ember.losses.robust import Huber, LogCosh, huber, log_cosh

_BUILTINS = (
    (MeanSquaredError, mean_squared_error, ("mse", "MSE")),
    (MeanAbsoluteError, mean_absolute_error, ("mae", "MAE")),
    (BinaryCrossentropy, binary_crossentropy, ("bce", "BCE")),
    (CategoricalCrossentropy, categorical_crossentropy, ()),
    (SparseCategoricalCrossentropy, sparse_categorical_crossentropy, ()),
    (MeanAbsolutePercentageError, mean_absolute_percentage_error, ("mape", "MAPE")),
    (MeanSquaredLogarithmicError, mean_squared_logarithmic_error, ("msle", "MSLE")),
    (CosineSimilarity, cosine_similarity, ()),
    (Huber, huber, ()),
    # "logcosh" and "kullback_leibler_divergence" are tf.keras 2 spellings, kept for ported code.
    (LogCosh, log_cosh, ("logcosh",)),
    (BinaryFocalCrossentropy, binary_focal_crossentropy, ()),
    (CategoricalFocalCrossentropy, categorical_focal_crossentropy, ()),
    (KLDivergence, kl_divergence, ("kld", "KLD", "kullback_leibler_divergence")),
    (Poisson, poisson, ()),
    (Hinge, hinge, ()),
    (SquaredHinge, squared_hinge, ()),
    (CategoricalHinge, categorical_hinge, ()),
    (Tversky, tversky, ()),
    (Dice, dice, ()),
)

#: name -> loss class, for every string ``get`` accepts.
LOSSES = {
    **{cls.__name__: cls for cls, _, _ in _BUILTINS},
    **{fn.__name__: cls for cls, fn, _ in _BUILTINS},
    **{alias: cls for cls, _, aliases in _BUILTINS for alias in aliases},
}
#: function name -> loss function (for wrapped functions in saved configs).
FUNCTIONS = {fn.__name__: fn for _, fn, _ in _BUILTINS}

# Classes that only make sense with a config (base and wrapper): deserialisable, not ``get``-able by name.
_CLASSES = {**LOSSES, "Loss": Loss, "LossFunctionWrapper": LossFunctionWrapper}


def serialize(loss):
    """Return a JSON-compatible config dict for a ``Loss`` or a loss function.

    Example:
        >>> serialize(MeanSquaredError())["class_name"]
        'MeanSquaredError'
    """
    if loss is None:
        return None
    if isinstance(loss, Loss):
        return serialize_object(loss, "ember.losses", _CLASSES)
    if inspect.isfunction(loss):
        return serialize_function(loss)
    raise TypeError(f"Cannot serialize {loss!r}: expected a Loss instance or a loss function.")


def deserialize(config, custom_objects=None):
    """Rebuild a loss from ``serialize``'s output (or a registered name).

    Args:
        config: a config dict or a name such as ``"mse"``.
        custom_objects: optional dict mapping names to custom ``Loss``
            subclasses or functions.

    Returns:
        A ``Loss`` instance (a function for a serialised plain function).
    """
    return deserialize_object(config, _CLASSES, FUNCTIONS, custom_objects, "loss")


def get(identifier):
    """Resolve anything ``compile(loss=...)`` accepts to a ``Loss`` instance.

    Args:
        identifier: ``None``; a name (``"mse"``, ``"mean_squared_error"``,
            ``"MeanSquaredError"``, ...); a ``Loss`` instance (returned as is);
            a ``Loss`` subclass (instantiated with defaults); a config dict;
            or a function ``(y_true, y_pred) -> per-sample losses`` (wrapped
            in a ``LossFunctionWrapper`` named after it).

    Returns:
        A ``Loss``, or ``None`` for ``None``.

    Example:
        >>> get("mse").name
        'mean_squared_error'
    """
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier not in LOSSES:
            raise ValueError(
                f"Unknown loss identifier {identifier!r}. Valid names: {sorted(LOSSES)}. For a custom "
                "loss pass a Loss instance or a function (y_true, y_pred) -> per-sample losses."
            )
        return LOSSES[identifier]()
    if isinstance(identifier, dict):
        return get(deserialize(identifier))
    if inspect.isclass(identifier):
        if not issubclass(identifier, Loss):
            raise ValueError(f"Could not interpret loss identifier {identifier!r}: a class must subclass Loss.")
        return identifier()
    if callable(identifier):
        return LossFunctionWrapper(identifier, name=object_name(identifier))
    raise ValueError(
        f"Could not interpret loss identifier {identifier!r} of type {type(identifier).__name__}: expected "
        "a name, a Loss, a Loss subclass, a config dict or a function (y_true, y_pred) -> losses."
    )

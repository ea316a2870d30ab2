"""String names of the built-in metrics, ``get``, ``serialize`` and ``deserialize``.

To add a metric, write its class (and function, if any), then add the class
to ``_BUILTINS`` (with any short aliases) and the function to
``_FUNCTIONS``. Its class name and snake-cased class name then resolve to it.
"""

import inspect

from ember.losses._serialization import deserialize_object, serialize_function, serialize_object
from ember.losses._utils import object_name, to_snake_case
from ember.losses.probabilistic import binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy
from ember.losses.regression import mean_absolute_error, mean_squared_error
from ember.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)
from ember.metrics.auc_metric import AUC
from ember.metrics.confusion_metrics import (
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from ember.metrics.correlation_metrics import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from ember.metrics.f_score_metrics import F1Score, FBetaScore
from ember.metrics.metric import Metric
from ember.metrics.hinge_metrics import CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge
from ember.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from ember.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    kl_divergence,
    poisson,
)
from ember.metrics.r2_metrics import R2Score
from ember.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from ember.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    cosine_similarity,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
)
from ember.metrics.sensitivity_specificity_metrics import (
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from ember.metrics.topk_metrics import (
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from ember.metrics.torchmetrics_adapter import TorchMetricWrapper, is_torchmetrics_like

_BUILTINS = (
    (Mean, ()),
    (Sum, ()),
    (Accuracy, ("acc",)),
    (BinaryAccuracy, ()),
    (CategoricalAccuracy, ()),
    (SparseCategoricalAccuracy, ()),
    (MeanSquaredError, ("mse", "MSE")),
    (MeanAbsoluteError, ("mae", "MAE")),
    (BinaryCrossentropy, ("bce", "BCE")),
    (CategoricalCrossentropy, ()),
    (SparseCategoricalCrossentropy, ()),
    (TopKCategoricalAccuracy, ()),
    (SparseTopKCategoricalAccuracy, ()),
    (RootMeanSquaredError, ()),
    (MeanAbsolutePercentageError, ("mape", "MAPE")),
    (MeanSquaredLogarithmicError, ("msle", "MSLE")),
    (CosineSimilarity, ()),
    (LogCoshError, ()),
    (R2Score, ()),
    (KLDivergence, ()),
    (Poisson, ()),
    (Hinge, ()),
    (SquaredHinge, ()),
    (CategoricalHinge, ()),
    (BinaryIoU, ()),
    (PearsonCorrelation, ()),
    (ConcordanceCorrelation, ()),
    (TruePositives, ()),
    (FalsePositives, ()),
    (TrueNegatives, ()),
    (FalseNegatives, ()),
    (Precision, ()),
    (Recall, ()),
    (AUC, ()),
    (F1Score, ()),
    (FBetaScore, ()),
)

_FUNCTIONS = (
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    mean_squared_error,
    mean_absolute_error,
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
    top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    cosine_similarity,
    log_cosh,
    kl_divergence,
    poisson,
    hinge,
    squared_hinge,
    categorical_hinge,
    pearson_correlation,
    concordance_correlation,
)

#: name -> metric class, for every string ``get`` accepts.
METRICS = {
    **{cls.__name__: cls for cls, _ in _BUILTINS},
    **{to_snake_case(cls.__name__): cls for cls, _ in _BUILTINS},
    **{alias: cls for cls, aliases in _BUILTINS for alias in aliases},
}
#: function name -> metric function (for wrapped functions in saved configs).
FUNCTIONS = {fn.__name__: fn for fn in _FUNCTIONS}

# Classes that need a config to be built: deserialisable, not ``get``-able by name.
_CLASSES = {**METRICS, "Metric": Metric, "MeanMetricWrapper": MeanMetricWrapper}
# Metrics with a required argument (a class count, a wrapped object): built from configs only.
_CLASSES.update({cls.__name__: cls for cls in (IoU, MeanIoU, OneHotIoU, OneHotMeanIoU, TorchMetricWrapper)})
# Metrics with a required argument (a target rate): built from configs only.
_CLASSES.update(
    {
        cls.__name__: cls
        for cls in (PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity)
    }
)


def serialize(metric):
    """Return a JSON-compatible config dict for a ``Metric`` or a metric function.

    Example:
        >>> serialize(Mean())["config"]
        {'name': 'mean', 'dtype': 'float32'}
    """
    if metric is None:
        return None
    if isinstance(metric, Metric):
        return serialize_object(metric, "ember.metrics", _CLASSES)
    if inspect.isfunction(metric):
        return serialize_function(metric)
    raise TypeError(f"Cannot serialize {metric!r}: expected a Metric instance or a metric function.")


def deserialize(config, custom_objects=None):
    """Rebuild a metric from ``serialize``'s output (or a registered name).

    Args:
        config: a config dict or a name such as ``"accuracy"``.
        custom_objects: optional dict mapping names to custom ``Metric``
            subclasses or functions.

    Returns:
        A ``Metric`` instance (a function for a serialised plain function).
    """
    return deserialize_object(config, _CLASSES, FUNCTIONS, custom_objects, "metric")


def get(identifier):
    """Resolve anything ``compile(metrics=[...])`` accepts to a ``Metric`` instance.

    Args:
        identifier: ``None``; a name (``"accuracy"``, ``"mse"``,
            ``"sparse_categorical_accuracy"``, ``"SparseCategoricalAccuracy"``,
            ...), giving a new instance with the class's default name; a
            ``Metric`` instance (returned as is); a ``Metric`` subclass
            (instantiated with defaults); a config dict; or a function
            ``(y_true, y_pred) -> values`` (wrapped in a ``MeanMetricWrapper``
            named after it; a ``Loss`` instance works too); or a
            ``torchmetrics.Metric`` (any object with ``update``, ``compute``
            and ``reset``), wrapped in a ``TorchMetricWrapper``.

    Returns:
        A ``Metric``, or ``None`` for ``None``.

    Example:
        >>> get("accuracy")
        <Accuracy name=accuracy>
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if is_torchmetrics_like(identifier):
        return TorchMetricWrapper(identifier)
    if isinstance(identifier, str):
        if identifier not in METRICS:
            raise ValueError(
                f"Unknown metric identifier {identifier!r}. Valid names: {sorted(METRICS)}. For a custom "
                "metric pass a Metric instance or a function (y_true, y_pred) -> per-sample values."
            )
        return METRICS[identifier]()
    if isinstance(identifier, dict):
        return get(deserialize(identifier))
    if inspect.isclass(identifier):
        if not issubclass(identifier, Metric):
            raise ValueError(
                f"Could not interpret metric identifier {identifier!r}: a class must subclass Metric."
            )
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=object_name(identifier))
    raise ValueError(
        f"Could not interpret metric identifier {identifier!r} of type {type(identifier).__name__}: expected "
        "a name, a Metric, a Metric subclass, a config dict or a function (y_true, y_pred) -> values."
    )

"""The regression, robust, focal, distributional, hinge and overlap losses against ``keras.losses``.

Identical random inputs go to the ember and Keras class of the same name with
every reduction, sample weights of shape (N,), (N, 1) and (N, T), logits and
probabilities, label smoothing and non-default axes; the snake_case functions,
default names, configs and string identifiers are compared as well.
"""

import numpy as np
import pytest
import torch

from ember import losses

N, C, T = 6, 4, 3
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def _sigmoid(x):
    return (1 / (1 + np.exp(-x))).astype(np.float32)


def make_inputs(kind, from_logits, rng, shape=(N,), classes=C):
    """(y_true, y_pred) float32 arrays of shape ``shape + (classes,)`` for one kind of loss."""
    full = shape + (classes,)
    if kind == "regression":
        return rng.normal(size=full).astype(np.float32), rng.normal(size=full).astype(np.float32)
    if kind == "positive":
        return rng.uniform(0.1, 3.0, size=full).astype(np.float32), rng.uniform(0.1, 3.0, size=full).astype(np.float32)
    if kind == "counts":
        return rng.integers(0, 5, size=full).astype(np.float32), rng.uniform(0.05, 4.0, size=full).astype(np.float32)
    if kind == "distribution":
        y_true = rng.dirichlet(np.ones(classes), size=shape).astype(np.float32)
        y_true[0, 0] = 0.0  # a zero target probability exercises the clipping
        return y_true, rng.dirichlet(np.ones(classes), size=shape).astype(np.float32)
    if kind in ("binary", "mask"):
        y_true = rng.integers(0, 2, size=full).astype(np.float32)
        # Logits of moderate size: Keras clips probabilities at 1e-7, ember does not (see test below).
        logits = (rng.normal(size=full) * 2).astype(np.float32)
        return y_true, logits if from_logits else _sigmoid(logits)
    if kind == "signs":
        return rng.choice([-1.0, 1.0], size=full).astype(np.float32), rng.normal(size=full).astype(np.float32)
    if kind == "soft_labels":  # not all in {0, 1}: hinge labels are used unconverted
        return rng.uniform(-1.0, 1.0, size=full).astype(np.float32), rng.normal(size=full).astype(np.float32)
    labels = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, size=shape)]
    if kind == "scores":  # one-hot labels with raw class scores (categorical hinge)
        return labels, rng.normal(size=full).astype(np.float32)
    assert kind == "categorical"
    logits = (rng.normal(size=full) * 2).astype(np.float32)
    # Unnormalised positive scores, so the renormalisation step matters.
    return labels, logits if from_logits else rng.uniform(0.01, 2.0, size=full).astype(np.float32)


CASES = [
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "positive"),
    ("MeanSquaredLogarithmicError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "regression"),
    ("Huber", {}, "regression"),
    ("Huber", {"delta": 0.4}, "regression"),
    ("LogCosh", {}, "regression"),
    ("BinaryFocalCrossentropy", {}, "binary"),
    ("BinaryFocalCrossentropy", {"from_logits": True}, "binary"),
    ("BinaryFocalCrossentropy", {"label_smoothing": 0.2, "gamma": 1.5}, "binary"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4}, "binary"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1, "apply_class_balancing": True}, "binary"),
    ("BinaryFocalCrossentropy", {"gamma": 0.0}, "binary"),
    ("CategoricalFocalCrossentropy", {}, "categorical"),
    ("CategoricalFocalCrossentropy", {"from_logits": True}, "categorical"),
    ("CategoricalFocalCrossentropy", {"label_smoothing": 0.3}, "categorical"),
    (
        "CategoricalFocalCrossentropy",
        {"alpha": 0.6, "gamma": 1.0, "from_logits": True, "label_smoothing": 0.1},
        "categorical",
    ),
    ("CategoricalFocalCrossentropy", {"alpha": [0.1, 0.2, 0.3, 0.4]}, "categorical"),
    ("KLDivergence", {}, "distribution"),
    ("Poisson", {}, "counts"),
    ("Hinge", {}, "binary"),
    ("Hinge", {}, "signs"),
    ("Hinge", {}, "soft_labels"),
    ("SquaredHinge", {}, "binary"),
    ("SquaredHinge", {}, "signs"),
    ("CategoricalHinge", {}, "scores"),
    ("Tversky", {}, "mask"),
    ("Tversky", {"alpha": 0.2, "beta": 0.8}, "mask"),
    ("Dice", {}, "mask"),
    ("Dice", {"axis": -1}, "mask"),
]


def keras_value(keras, name, kwargs, y_true, y_pred, sample_weight=None):
    value = getattr(keras.losses, name)(**kwargs)(y_true, y_pred, sample_weight=sample_weight)
    return keras.ops.convert_to_numpy(value)


def ember_value(name, kwargs, y_true, y_pred, sample_weight=None):
    value = getattr(losses, name)(**kwargs)(y_true, y_pred, sample_weight=sample_weight)
    assert isinstance(value, torch.Tensor) and value.dtype == torch.float32
    return value.detach().numpy()


def _inputs(name, kwargs, kind, rng, shape=(N,)):
    # Hinge losses score raw outputs: give them logits.
    logits = kwargs.get("from_logits", False) or "Hinge" in name
    return make_inputs(kind, logits, rng, shape)


@pytest.mark.parametrize("weights", [None, "N", "N1"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs,kind", CASES)
def test_matches_keras(keras, name, kwargs, kind, reduction, weights):
    rng = np.random.default_rng(11)
    y_true, y_pred = _inputs(name, kwargs, kind, rng)
    sample_weight = None
    if weights is not None:
        sample_weight = rng.uniform(0.0, 2.0, size=(N,)).astype(np.float32)
        if weights == "N1":
            sample_weight = sample_weight[:, None]
    kwargs = {**kwargs, "reduction": reduction}
    expected = keras_value(keras, name, kwargs, y_true, y_pred, sample_weight)
    got = ember_value(name, kwargs, y_true, y_pred, sample_weight)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", None])
@pytest.mark.parametrize("name,kwargs,kind", CASES)
def test_per_timestep_losses_match_keras(keras, name, kwargs, kind, reduction):
    # Sequence outputs (N, T, C): per-sample losses (N, T) (a scalar for Dice/Tversky), weights (N, T).
    rng = np.random.default_rng(8)
    y_true, y_pred = _inputs(name, kwargs, kind, rng, shape=(N, T))
    sample_weight = rng.uniform(0.0, 2.0, size=(N, T)).astype(np.float32)
    kwargs = {**kwargs, "reduction": reduction}
    for weight in (None, sample_weight):
        expected = keras_value(keras, name, kwargs, y_true, y_pred, weight)
        got = ember_value(name, kwargs, y_true, y_pred, weight)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name,kwargs,kind",
    [
        ("CosineSimilarity", {"axis": 1}, "regression"),
        ("BinaryFocalCrossentropy", {"axis": 1}, "binary"),
        ("BinaryFocalCrossentropy", {"axis": 1, "from_logits": True, "apply_class_balancing": True}, "binary"),
        ("CategoricalFocalCrossentropy", {"axis": 1}, "categorical"),
        ("CategoricalFocalCrossentropy", {"axis": 1, "from_logits": True}, "categorical"),
        ("Dice", {"axis": (1, 2)}, "mask"),
        ("Dice", {"axis": 1}, "mask"),
        ("Tversky", {"axis": (1, 2), "alpha": 0.7, "beta": 0.3}, "mask"),
    ],
)
def test_axis_matches_keras(keras, name, kwargs, kind):
    # Inputs (N, C, T): the vectors / classes on axis 1.
    rng = np.random.default_rng(9)
    y_true, y_pred = _inputs(name, kwargs, kind, rng, shape=(N, T))
    y_true, y_pred = np.moveaxis(y_true, -1, 1).copy(), np.moveaxis(y_pred, -1, 1).copy()
    # One weight per loss element (Keras does not broadcast (N,) weights over (N, T) losses).
    loss_shape = keras_value(keras, name, {**kwargs, "reduction": None}, y_true, y_pred).shape
    weight = rng.uniform(0.0, 2.0, size=loss_shape).astype(np.float32)
    for reduction in ("sum_over_batch_size", None):
        args = {**kwargs, "reduction": reduction}
        for w in (None, weight):
            expected = keras_value(keras, name, args, y_true, y_pred, w)
            got = ember_value(name, args, y_true, y_pred, w)
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


FUNCTIONS = [
    ("mean_absolute_percentage_error", {}, "regression"),
    ("mean_squared_logarithmic_error", {}, "positive"),
    ("cosine_similarity", {"axis": 0}, "regression"),
    ("huber", {"delta": 0.7}, "regression"),
    ("log_cosh", {}, "regression"),
    ("binary_focal_crossentropy", {"from_logits": True, "apply_class_balancing": True, "gamma": 3.0}, "binary"),
    ("categorical_focal_crossentropy", {"alpha": 0.5, "label_smoothing": 0.2}, "categorical"),
    ("kl_divergence", {}, "distribution"),
    ("poisson", {}, "counts"),
    ("hinge", {}, "binary"),
    ("squared_hinge", {}, "soft_labels"),
    ("categorical_hinge", {}, "scores"),
    ("tversky", {"alpha": 0.3, "beta": 0.6, "axis": -1}, "mask"),
    ("dice", {}, "mask"),
]


@pytest.mark.parametrize("name,kwargs,kind", FUNCTIONS)
def test_functions_match_keras(keras, name, kwargs, kind):
    rng = np.random.default_rng(4)
    y_true, y_pred = _inputs(name, kwargs, kind, rng)
    expected = keras.ops.convert_to_numpy(getattr(keras.losses, name)(y_true, y_pred, **kwargs))
    got = getattr(losses, name)(torch.from_numpy(y_true), torch.from_numpy(y_pred), **kwargs)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["Hinge", "SquaredHinge", "Huber", "LogCosh", "MeanSquaredLogarithmicError"])
def test_rank_one_targets_match_keras(keras, name):
    # Labels (N,) against predictions (N, 1), and both of shape (N,).
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 2, size=(N,)).astype(np.float32)
    y_pred = rng.uniform(0.05, 0.95, size=(N, 1)).astype(np.float32)
    weight = rng.uniform(0.0, 2.0, size=(N,)).astype(np.float32)
    for pred in (y_pred, y_pred[:, 0]):
        for w in (None, weight):
            expected = keras_value(keras, name, {}, y_true, pred, w)
            np.testing.assert_allclose(ember_value(name, {}, y_true, pred, w), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs,kind", CASES)
def test_names_and_configs_match_keras(keras, name, kwargs, kind):
    ours = getattr(losses, name)(**kwargs)
    theirs = getattr(keras.losses, name)(**kwargs)
    assert ours.name == theirs.name
    assert ours.reduction == theirs.reduction == "sum_over_batch_size"
    got = ours.get_config()
    # Keras leaves these constructor arguments out of its config; ember keeps them for exact round trips.
    extra = {"Huber": ("delta", kwargs.get("delta", 1.0)), "CosineSimilarity": ("axis", -1)}
    if name in extra:
        key, value = extra[name]
        assert got.pop(key) == value
    assert got == theirs.get_config()


ALIASES = [
    "mape", "MAPE", "mean_absolute_percentage_error", "msle", "MSLE", "mean_squared_logarithmic_error",
    "cosine_similarity", "huber", "log_cosh", "kld", "KLD", "kl_divergence", "poisson", "hinge",
    "squared_hinge", "categorical_hinge", "binary_focal_crossentropy", "categorical_focal_crossentropy",
    "tversky", "dice",
]  # fmt: skip


@pytest.mark.parametrize("alias", ALIASES)
def test_string_identifiers_resolve_like_keras(keras, alias):
    # Keras's get returns the function the string names; ember returns the class wrapping that function.
    keras_function = keras.losses.get(alias)
    loss = losses.get(alias)
    assert loss.fn.__name__ == keras_function.__name__
    assert loss.fn is getattr(losses, keras_function.__name__)
    rng = np.random.default_rng(6)
    kinds = {"binary_focal_crossentropy": "binary", "categorical_focal_crossentropy": "categorical"}
    kind = kinds.get(alias, "positive")
    y_true, y_pred = make_inputs(kind, False, rng)
    expected = keras.ops.convert_to_numpy(keras.ops.mean(keras_function(y_true, y_pred)))
    np.testing.assert_allclose(float(loss(y_true, y_pred)), expected, rtol=1e-5, atol=1e-6)

"""Every built-in loss trained for two epochs in ember and in Keras 3 from the same weights.

Each case pairs the loss with an output activation and targets that make it
meaningful (sigmoid and {0, 1} labels for binary losses, softmax and
probability targets for distribution losses, softplus and counts for Poisson,
a linear output for regression and logits). The histories (loss per epoch)
and the final predictions must agree; see ``harness.assert_fit_matches_keras``.
"""

import numpy as np
import pytest

from keras_parity.harness import assert_fit_matches_keras, dense_model

N, FEATURES, UNITS = 48, 5, 3


def _targets(kind, rng, x):
    """Targets of one kind for inputs ``x``, loosely tied to ``x`` so there is something to learn."""
    signal = x[:, :UNITS] + 0.3 * rng.normal(size=(N, UNITS))
    labels = np.argmax(signal, axis=1)
    if kind == "regression":
        return signal.astype("float32")
    if kind == "away_from_zero":  # percentage errors need targets away from 0
        return (2.0 + np.tanh(signal)).astype("float32")
    if kind == "positive":
        return np.exp(0.5 * signal).astype("float32")
    if kind == "counts":
        return rng.poisson(np.exp(0.5 * signal)).astype("float32")
    if kind == "binary":
        return (signal > 0).astype("float32")
    if kind == "signs":
        return np.where(signal > 0, 1.0, -1.0).astype("float32")
    if kind == "one_hot":
        return np.eye(UNITS, dtype="float32")[labels]
    if kind == "distribution":
        exp = np.exp(signal)
        return (exp / exp.sum(axis=1, keepdims=True)).astype("float32")
    if kind == "sparse":
        return labels.astype("float32")
    assert kind == "sparse_ignored"
    labels = labels.astype("float32")
    labels[::5] = -1.0  # ignored entries
    return labels


# (case id, loss class name or string identifier, loss kwargs, output activation, target kind)
CASES = [
    ("mse", "MeanSquaredError", {}, None, "regression"),
    ("mae", "MeanAbsoluteError", {}, None, "regression"),
    ("mape", "MeanAbsolutePercentageError", {}, None, "away_from_zero"),
    ("msle", "MeanSquaredLogarithmicError", {}, "softplus", "positive"),
    ("cosine", "CosineSimilarity", {}, None, "regression"),
    ("huber", "Huber", {"delta": 0.5}, None, "regression"),
    ("log_cosh", "LogCosh", {}, None, "regression"),
    ("bce", "BinaryCrossentropy", {}, "sigmoid", "binary"),
    ("bce_logits", "BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, None, "binary"),
    ("binary_focal", "BinaryFocalCrossentropy", {}, "sigmoid", "binary"),
    (
        "binary_focal_logits",
        "BinaryFocalCrossentropy",
        {"from_logits": True, "apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5, "label_smoothing": 0.1},
        None,
        "binary",
    ),
    ("cce", "CategoricalCrossentropy", {}, "softmax", "one_hot"),
    ("cce_logits", "CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, None, "one_hot"),
    ("categorical_focal", "CategoricalFocalCrossentropy", {}, "softmax", "one_hot"),
    (
        "categorical_focal_logits",
        "CategoricalFocalCrossentropy",
        {"from_logits": True, "alpha": [0.2, 0.3, 0.5], "gamma": 1.0, "label_smoothing": 0.1},
        None,
        "one_hot",
    ),
    ("scce", "SparseCategoricalCrossentropy", {}, "softmax", "sparse"),
    ("scce_logits", "SparseCategoricalCrossentropy", {"from_logits": True}, None, "sparse"),
    ("scce_ignore_class", "SparseCategoricalCrossentropy", {"ignore_class": -1}, "softmax", "sparse_ignored"),
    ("kld", "KLDivergence", {}, "softmax", "distribution"),
    ("poisson", "Poisson", {}, "softplus", "counts"),
    ("poisson_softmax", "Poisson", {}, "softmax", "distribution"),
    ("hinge", "Hinge", {}, "tanh", "binary"),
    ("hinge_signs", "Hinge", {}, None, "signs"),
    ("squared_hinge", "SquaredHinge", {}, "sigmoid", "binary"),
    ("categorical_hinge", "CategoricalHinge", {}, None, "one_hot"),
    ("tversky", "Tversky", {"alpha": 0.7, "beta": 0.3}, "softmax", "distribution"),
    ("tversky_masks", "Tversky", {"axis": -1}, "sigmoid", "binary"),
    ("dice", "Dice", {}, "softmax", "distribution"),
    ("dice_masks", "Dice", {"axis": -1}, "sigmoid", "binary"),
]

# compile(loss="<name>"): the string resolves to the same loss in both libraries.
STRING_CASES = [
    ("mse", None, "regression"),
    ("mape", None, "away_from_zero"),
    ("msle", "softplus", "positive"),
    ("cosine_similarity", None, "regression"),
    ("huber", None, "regression"),
    ("log_cosh", None, "regression"),
    ("binary_focal_crossentropy", "sigmoid", "binary"),
    ("categorical_focal_crossentropy", "softmax", "one_hot"),
    ("kld", "softmax", "distribution"),
    ("poisson", "softplus", "counts"),
    ("hinge", "tanh", "binary"),
    ("squared_hinge", None, "signs"),
    ("categorical_hinge", None, "one_hot"),
    ("tversky", "sigmoid", "binary"),
    ("dice", "sigmoid", "binary"),
    ("sparse_categorical_crossentropy", "softmax", "sparse"),
]


def _data(kind):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    return x, _targets(kind, rng, x)


@pytest.mark.parametrize("case,loss_name,loss_kwargs,activation,kind", CASES, ids=[c[0] for c in CASES])
def test_fit_matches_keras(keras, case, loss_name, loss_kwargs, activation, kind):
    x, y = _data(kind)

    def compile_kwargs(lib):
        return {
            "optimizer": lib.optimizers.Adam(learning_rate=0.01),
            "loss": getattr(lib.losses, loss_name)(**loss_kwargs),
        }

    ours, _ = assert_fit_matches_keras(dense_model(FEATURES, UNITS, activation), compile_kwargs, x, y)
    assert list(ours) == ["loss"]
    assert ours["loss"][1] != ours["loss"][0]  # training moved the loss


@pytest.mark.parametrize("identifier,activation,kind", STRING_CASES, ids=[c[0] for c in STRING_CASES])
def test_fit_with_string_identifier_matches_keras(keras, identifier, activation, kind):
    x, y = _data(kind)

    def compile_kwargs(lib):
        return {"optimizer": lib.optimizers.Adam(learning_rate=0.01), "loss": identifier}

    assert_fit_matches_keras(dense_model(FEATURES, UNITS, activation), compile_kwargs, x, y)


def test_fit_with_sample_weight_and_validation_matches_keras(keras):
    # Weighted focal loss with a validation split: the val_ history must agree too.
    x, y = _data("binary")
    weight = np.linspace(0.2, 2.0, N).astype("float32")

    def compile_kwargs(lib):
        return {
            "optimizer": lib.optimizers.Adam(learning_rate=0.01),
            "loss": lib.losses.BinaryFocalCrossentropy(from_logits=True, apply_class_balancing=True),
        }

    ours, _ = assert_fit_matches_keras(
        dense_model(FEATURES, UNITS, None), compile_kwargs, x, y, sample_weight=weight, validation_split=0.25
    )
    assert sorted(ours) == ["loss", "val_loss"]

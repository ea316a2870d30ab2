"""Fit-level parity for the metric catalogue: top-k, regression, R2, correlation, divergence, hinge, IoU.

Each test trains the same tiny model from the same weights in ember and Keras
for 2 epochs with the metrics in ``compile(metrics=...)`` (as objects and as
Keras's string identifiers) and a validation split, and compares every
history entry. Objects that would share a name with a string identifier get
their own names, and so do IoU metrics (Keras numbers unnamed ones with a
process-wide counter).
"""

import numpy as np
import pytest

from keras_parity.harness import assert_fit_matches_keras, dense_model

N, FEATURES, CLASSES = 48, 5, 3


def _features(seed):
    return np.random.default_rng(seed).normal(size=(N, FEATURES)).astype(np.float32)


def test_one_hot_classification_metrics():
    x = _features(0)
    y = np.eye(CLASSES, dtype=np.float32)[np.random.default_rng(1).integers(0, CLASSES, size=N)]

    def compile_kwargs(lib):
        m = lib.metrics
        return {
            "optimizer": lib.optimizers.Adam(0.05),
            "loss": "categorical_crossentropy",
            "metrics": [
                m.TopKCategoricalAccuracy(k=2),
                m.KLDivergence(name="kld"),
                m.Poisson(name="poisson_deviance"),
                m.CategoricalHinge(name="cat_hinge"),
                m.CosineSimilarity(),
                m.OneHotIoU(num_classes=CLASSES, target_class_ids=[0, 2], name="one_hot_iou"),
                m.OneHotMeanIoU(num_classes=CLASSES, name="one_hot_mean_iou"),
                "kl_divergence",
                "poisson",
                "categorical_hinge",
            ],
        }

    history, _ = assert_fit_matches_keras(
        dense_model(FEATURES, CLASSES, "softmax"), compile_kwargs, x, y, validation_split=0.25
    )
    assert "val_top_k_categorical_accuracy" in history and "val_one_hot_mean_iou" in history


def test_sparse_classification_metrics():
    x = _features(2)
    y = np.random.default_rng(3).integers(0, CLASSES, size=N)

    def compile_kwargs(lib):
        m = lib.metrics
        return {
            "optimizer": lib.optimizers.Adam(0.05),
            "loss": "sparse_categorical_crossentropy",
            "metrics": [
                m.SparseTopKCategoricalAccuracy(k=2),
                m.MeanIoU(num_classes=CLASSES, sparse_y_pred=False, name="mean_iou"),
                m.IoU(num_classes=CLASSES, target_class_ids=[1], sparse_y_pred=False, name="iou_1"),
            ],
        }

    assert_fit_matches_keras(dense_model(FEATURES, CLASSES, "softmax"), compile_kwargs, x, y, validation_split=0.25)


# Keras reads every metric's result once while it builds the model on symbolic inputs, before any
# data: the adjusted R2 score then has 0 samples and Keras warns (ember's own message differs).
@pytest.mark.filterwarnings("ignore:More independent predictors than datapoints:UserWarning")
def test_regression_metrics():
    x = _features(4)
    y = (x[:, :3] * [1.5, -0.5, 1.0] + 2.0).astype(np.float32)

    def compile_kwargs(lib):
        m = lib.metrics
        return {
            "optimizer": lib.optimizers.SGD(0.05),
            "loss": "mse",
            "metrics": [
                m.RootMeanSquaredError(name="rmse"),
                m.MeanAbsolutePercentageError(),
                m.MeanSquaredLogarithmicError(),
                m.LogCoshError(),
                m.CosineSimilarity(),
                m.R2Score(name="r2"),
                m.R2Score(class_aggregation="variance_weighted_average", num_regressors=3, name="adjusted_r2"),
                m.PearsonCorrelation(),
                m.ConcordanceCorrelation(),
                "root_mean_squared_error",
                "mape",
                "msle",
                "r2_score",
                "log_cosh_error",
            ],
        }

    history, _ = assert_fit_matches_keras(dense_model(FEATURES, 3), compile_kwargs, x, y, validation_split=0.25)
    assert np.isfinite(history["pearson_correlation"]).all() and np.isfinite(history["val_r2"]).all()


def test_weighted_regression_metrics():
    x = _features(5)
    y = (x[:, :1] * 2.0 + 3.0).astype(np.float32)
    sample_weight = np.random.default_rng(6).uniform(0.2, 2.0, size=N).astype(np.float32)

    def compile_kwargs(lib):
        m = lib.metrics
        return {
            "optimizer": lib.optimizers.SGD(0.05),
            "loss": "mse",
            "metrics": [m.RootMeanSquaredError()],
            "weighted_metrics": [m.RootMeanSquaredError(name="weighted_rmse"), m.R2Score(name="weighted_r2")],
        }

    assert_fit_matches_keras(dense_model(FEATURES, 1), compile_kwargs, x, y, sample_weight=sample_weight)


def test_binary_metrics():
    x = _features(7)
    y = (x[:, :1] + 0.3 * x[:, 1:2] > 0).astype(np.float32)

    def compile_kwargs(lib):
        m = lib.metrics
        return {
            "optimizer": lib.optimizers.Adam(0.05),
            "loss": "binary_crossentropy",
            "metrics": [
                m.Hinge(name="hinge_loss"),
                m.SquaredHinge(name="squared_hinge_loss"),
                m.BinaryIoU(name="binary_iou"),
                m.BinaryIoU(target_class_ids=[1], threshold=0.3, name="positive_iou"),
                "hinge",
                "squared_hinge",
            ],
        }

    assert_fit_matches_keras(dense_model(FEATURES, 1, "sigmoid"), compile_kwargs, x, y, validation_split=0.25)

"""sample_weight / class_weight / weighted_metrics against Keras 3."""

import numpy as np
import pytest

from keras_parity.harness import assert_fit_matches_keras, dense_model


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(48, 6)).astype("float32")
    y = rng.integers(0, 3, 48)
    return x, y


@pytest.mark.parametrize("weighting", ["sample_weight", "class_weight"])
def test_weighted_metrics_match_keras(data, weighting):
    x, y = data
    kwargs = (
        {"sample_weight": np.linspace(0.0, 2.0, 48)} if weighting == "sample_weight"
        else {"class_weight": {0: 0.5, 1: 2.0, 2: 1.0}}
    )

    def compile_kwargs(lib):
        return {
            "optimizer": lib.optimizers.Adam(0.01),
            "loss": lib.losses.SparseCategoricalCrossentropy(),
            "metrics": [lib.metrics.SparseCategoricalAccuracy(name="acc")],
            "weighted_metrics": [lib.metrics.SparseCategoricalAccuracy(name="weighted_acc"),
                                 lib.metrics.SparseCategoricalCrossentropy(name="weighted_ce")],
        }

    h, _ = assert_fit_matches_keras(dense_model(6, 3, "softmax"), compile_kwargs, x, y,
                                    validation_data=(x[:16], y[:16]), **kwargs)
    assert {"acc", "weighted_acc", "weighted_ce", "val_acc", "val_weighted_acc"} <= set(h)


def test_validation_sample_weight_matches_keras(data):
    x, y = data

    def compile_kwargs(lib):
        return {"optimizer": "rmsprop", "loss": "sparse_categorical_crossentropy",
                "weighted_metrics": ["accuracy"]}

    assert_fit_matches_keras(dense_model(6, 3, "softmax"), compile_kwargs, x, y,
                             validation_data=(x[:16], y[:16], np.arange(16) % 3))


def test_loss_scale_factor_in_fit_matches_keras(data):
    x, y = data

    def compile_kwargs(lib):
        return {"optimizer": lib.optimizers.SGD(0.1, loss_scale_factor=128.0),
                "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}

    assert_fit_matches_keras(dense_model(6, 3, "softmax"), compile_kwargs, x, y)

"""Fit-level parity: confusion-matrix metrics in ``compile(metrics=...)``, trained in ember and Keras 3.

A tiny binary classifier (one sigmoid unit) and a tiny 3-class softmax model
are trained for two epochs from the same weights, with validation data; the
history keys and every per-epoch metric value must agree.

Metric objects get explicit names: Keras numbers repeated default names
within a session ("auc_1"), which would make the keys depend on test order.
"""

import numpy as np

from keras_parity.harness import assert_fit_matches_keras, dense_model

FEATURES, CLASSES = 5, 3


def _binary_data():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(48, FEATURES)).astype("float32")
    y = (x[:, 0] - 0.5 * x[:, 1] + 0.5 * rng.normal(size=48) > 0).astype("float32").reshape(-1, 1)
    return x, y


def _multiclass_data():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(48, FEATURES)).astype("float32")
    labels = np.argmax(x[:, :CLASSES] + 0.5 * rng.normal(size=(48, CLASSES)), axis=-1)
    return x, np.eye(CLASSES, dtype="float32")[labels]


def _count_metrics(lib):
    m = lib.metrics
    return [
        m.TruePositives(name="tp"),
        m.FalsePositives(thresholds=[0.3], name="fp"),
        m.TrueNegatives(name="tn"),
        m.FalseNegatives(name="fn"),
    ]


def _binary_metrics(lib):
    m = lib.metrics
    return [
        "auc",
        "precision",
        "recall",
        m.AUC(curve="PR", name="pr_auc"),
        m.AUC(summation_method="minoring", num_thresholds=50, name="roc_minoring"),
        m.Precision(thresholds=0.3, name="precision_at_0_3"),
        m.PrecisionAtRecall(0.5, name="p_at_r"),
        m.RecallAtPrecision(0.6, name="r_at_p"),
        m.SensitivityAtSpecificity(0.5, name="sens_at_spec"),
        m.SpecificityAtSensitivity(0.5, name="spec_at_sens"),
        m.F1Score(average="micro", threshold=0.5, name="f1"),
    ]


def _multiclass_metrics(lib):
    m = lib.metrics
    return [
        "auc",
        m.AUC(multi_label=True, name="multi_label_auc"),
        m.AUC(multi_label=True, num_labels=CLASSES, curve="PR", label_weights=[1.0, 2.0, 0.5], name="weighted_pr_auc"),
        m.Precision(top_k=1, name="top1_precision"),
        m.Recall(top_k=2, name="top2_recall"),
        m.Recall(class_id=1, name="recall_class_1"),
        m.SensitivityAtSpecificity(0.6, class_id=2, name="sens_class_2"),
        m.F1Score(average="macro", name="f1_macro"),
        m.F1Score(average="weighted", threshold=0.4, name="f1_weighted"),
        m.FBetaScore(average="micro", beta=2.0, name="f2_micro"),
    ]


def test_binary_sigmoid_model_with_confusion_metrics():
    x, y = _binary_data()

    def compile_kwargs(lib):
        metrics = _binary_metrics(lib) + _count_metrics(lib)
        return {"optimizer": lib.optimizers.Adam(0.01), "loss": "binary_crossentropy", "metrics": metrics}

    history, _ = assert_fit_matches_keras(
        dense_model(FEATURES, 1, activation="sigmoid"), compile_kwargs, x, y, rtol=1e-4
    )
    assert {"auc", "precision", "recall", "tp", "f1", "p_at_r"} <= set(history)


def test_binary_sigmoid_model_with_validation_data():
    x, y = _binary_data()

    def compile_kwargs(lib):
        return {"optimizer": lib.optimizers.Adam(0.01), "loss": "binary_crossentropy", "metrics": _binary_metrics(lib)}

    history, _ = assert_fit_matches_keras(
        dense_model(FEATURES, 1, activation="sigmoid"), compile_kwargs, x, y,
        validation_data=(x[:16], y[:16]), rtol=1e-4,
    )
    assert {"auc", "val_auc", "val_precision", "val_f1", "val_p_at_r"} <= set(history)


def test_training_counts_are_not_overwritten_by_validation(keras):
    # Keras 3 (torch backend) logs its count metrics as views of their state, so the validation run
    # that follows each epoch overwrites the *training* "tp"/"fn"/... entries with validation counts.
    # ember logs the training counts; they must equal Keras's when Keras trains without validation.
    import ember

    x, y = _binary_data()
    make = dense_model(FEATURES, 1, activation="sigmoid")
    ours, theirs = make(ember), make(keras)
    theirs.set_weights(ours.get_weights())
    histories = []
    for lib, model, fit_kwargs in ((ember, ours, {"validation_data": (x[:16], y[:16])}), (keras, theirs, {})):
        model.compile(optimizer=lib.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=_count_metrics(lib))
        histories.append(model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0, **fit_kwargs).history)
    ours_history, theirs_history = histories
    for key in ("tp", "fp", "tn", "fn"):
        np.testing.assert_allclose(ours_history[key], theirs_history[key], err_msg=key)
        assert ours_history[key] != ours_history[f"val_{key}"]
    # Over an epoch, every positive training sample is either a true positive or a false negative.
    np.testing.assert_allclose(np.add(ours_history["tp"], ours_history["fn"]), [y.sum()] * 2)


def test_multiclass_softmax_model_with_confusion_metrics():
    x, y = _multiclass_data()

    def compile_kwargs(lib):
        return {
            "optimizer": lib.optimizers.Adam(0.01),
            "loss": "categorical_crossentropy",
            "metrics": _multiclass_metrics(lib),
        }

    history, _ = assert_fit_matches_keras(
        dense_model(FEATURES, CLASSES, activation="softmax"), compile_kwargs, x, y,
        validation_data=(x[:16], y[:16]), rtol=1e-4,
    )
    assert {"multi_label_auc", "val_f2_micro", "val_top1_precision"} <= set(history)


def test_weighted_metrics_with_sample_weights():
    x, y = _binary_data()
    weights = np.random.default_rng(13).uniform(0.0, 2.0, size=48).astype("float32")

    def compile_kwargs(lib):
        m = lib.metrics
        return {
            "optimizer": lib.optimizers.SGD(0.1),
            "loss": "binary_crossentropy",
            "metrics": [m.AUC(name="auc")],
            "weighted_metrics": [m.AUC(name="weighted_auc"), m.Precision(name="weighted_precision"),
                                 m.FalseNegatives(name="weighted_fn")],
        }

    assert_fit_matches_keras(
        dense_model(FEATURES, 1, activation="sigmoid"), compile_kwargs, x, y, sample_weight=weights, rtol=1e-4,
    )

"""Confusion-matrix metrics against the same ``keras.metrics`` class on identical random inputs.

Each case feeds several batches to both (with and without sample weights),
compares ``result()`` after every update, resets both and compares again.
"""

import numpy as np
import pytest
import torch

from ember import metrics

N, C = 12, 4
GRID = np.array([0.0, 0.25, 0.5, 0.75, 1.0], dtype=np.float32)  # exactly on 5-threshold grids


def make_batch(kind, rng, n=N):
    """(y_true, y_pred) for one batch."""
    if kind == "binary":
        return (rng.uniform(size=(n, 1)) < 0.5).astype(np.float32), rng.uniform(size=(n, 1)).astype(np.float32)
    if kind == "binary_1d":
        return rng.integers(0, 2, size=(n,)), rng.uniform(size=(n,)).astype(np.float32)
    if kind == "binary_logits":
        return (rng.uniform(size=(n, 1)) < 0.5).astype(np.float32), rng.normal(size=(n, 1)).astype(np.float32) * 2
    if kind == "ties":
        # Scores exactly on thresholds 0, 0.25, ..., 1 (and labels that are not 0/1 but non-zero).
        y_true = rng.choice(np.array([0.0, 1.0, 2.0], dtype=np.float32), size=(n, 1))
        return y_true, rng.choice(GRID, size=(n, 1))
    if kind == "multi_hot":
        return (rng.uniform(size=(n, C)) < 0.4).astype(np.float32), rng.uniform(size=(n, C)).astype(np.float32)
    if kind == "multi_ties":
        return (rng.uniform(size=(n, C)) < 0.4).astype(np.float32), rng.choice(GRID, size=(n, C))
    if kind == "one_hot":
        scores = rng.uniform(0.01, 1.0, size=(n, C)).astype(np.float32)
        return np.eye(C, dtype=np.float32)[rng.integers(0, C, size=n)], scores / scores.sum(-1, keepdims=True)
    raise AssertionError(kind)


CASES = [
    ("TruePositives", {}, "binary"),
    ("TruePositives", {"thresholds": [0.15, 0.5, 0.85]}, "multi_hot"),
    ("TruePositives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "ties"),
    ("FalsePositives", {}, "binary_1d"),
    ("FalsePositives", {"thresholds": [0.25, 0.75]}, "ties"),
    ("FalsePositives", {"thresholds": [0.0, 0.5, 1.0]}, "multi_hot"),
    ("TrueNegatives", {"thresholds": 0.3}, "binary"),
    ("TrueNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "ties"),
    ("FalseNegatives", {}, "multi_hot"),
    ("FalseNegatives", {"thresholds": [0.5, 0.25]}, "ties"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.2, 0.5, 0.8]}, "binary_1d"),
    ("Precision", {"top_k": 2}, "multi_hot"),
    ("Precision", {"class_id": 1}, "one_hot"),
    ("Precision", {"top_k": 1, "class_id": 3, "thresholds": [0.1, 0.3]}, "multi_hot"),
    ("Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "ties"),
    ("Recall", {}, "binary"),
    ("Recall", {"thresholds": 0.25}, "ties"),
    ("Recall", {"top_k": 2, "class_id": 0}, "one_hot"),
    ("Recall", {"top_k": 3}, "multi_ties"),
    ("Recall", {"class_id": 2, "thresholds": [0.0, 0.5, 1.0]}, "multi_hot"),
    ("AUC", {}, "binary"),
    ("AUC", {}, "multi_hot"),
    ("AUC", {"num_thresholds": 5}, "ties"),
    ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"curve": "PR", "num_thresholds": 5}, "ties"),
    ("AUC", {"summation_method": "minoring"}, "binary_1d"),
    ("AUC", {"summation_method": "majoring", "curve": "PR"}, "multi_hot"),
    ("AUC", {"curve": "PRGAIN", "num_thresholds": 50}, "binary"),
    ("AUC", {"thresholds": [0.7, 0.1, 0.45]}, "binary"),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75], "curve": "PR"}, "ties"),
    ("AUC", {"from_logits": True}, "binary_logits"),
    ("AUC", {"multi_label": True}, "multi_hot"),
    ("AUC", {"multi_label": True, "num_labels": C, "curve": "PR"}, "multi_hot"),
    ("AUC", {"multi_label": True, "label_weights": [0.1, 0.2, 0.3, 0.4]}, "multi_ties"),
    ("AUC", {"multi_label": True, "label_weights": [1.0, 0.0, 2.0, 0.5], "thresholds": [0.3, 0.6]}, "multi_hot"),
    ("AUC", {"label_weights": [0.5, 1.0, 0.0, 2.0], "curve": "PR"}, "multi_hot"),
    ("PrecisionAtRecall", {"recall": 0.6}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.3, "num_thresholds": 5, "class_id": 2}, "multi_ties"),
    ("PrecisionAtRecall", {"recall": 0.5, "num_thresholds": 1}, "binary"),
    ("RecallAtPrecision", {"precision": 0.6}, "binary_1d"),
    ("RecallAtPrecision", {"precision": 0.4, "num_thresholds": 5}, "ties"),
    ("SensitivityAtSpecificity", {"specificity": 0.7}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.5, "num_thresholds": 2, "class_id": 1}, "one_hot"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7}, "multi_hot"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5, "num_thresholds": 5}, "ties"),
    ("F1Score", {}, "one_hot"),
    ("F1Score", {"average": "micro"}, "one_hot"),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "multi_hot"),
    ("F1Score", {"average": "weighted"}, "multi_ties"),
    ("FBetaScore", {"beta": 2.0}, "multi_hot"),
    ("FBetaScore", {"average": "micro", "beta": 0.5, "threshold": 0.25}, "multi_ties"),
    ("FBetaScore", {"average": "macro", "beta": 3.0}, "one_hot"),
    ("FBetaScore", {"average": "weighted", "beta": 1.5, "threshold": 0.3}, "multi_hot"),
]


def _tolerance(name, kwargs):
    interpolated = name == "AUC" and kwargs.get("summation_method", "interpolation") == "interpolation"
    return 1e-4 if interpolated else 1e-5


def _assert_close(ours, theirs, keras, tolerance):
    got = ours.result()
    expected = keras.ops.convert_to_numpy(theirs.result())
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    assert tuple(got.shape) == np.shape(expected)
    np.testing.assert_allclose(got.numpy(), expected, rtol=tolerance, atol=tolerance)


# Weights per update: unweighted batches on a fresh state (first, and again after the reset), then
# per-sample (N,) and column (N, 1) weights, some of them zero.
WEIGHT_MODES = ["none", "N", "none", "N1", "N"]
RESET_AFTER_STEP = 1


@pytest.mark.parametrize("name,kwargs,kind", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_keras_over_several_batches(keras, name, kwargs, kind):
    rng = np.random.default_rng(len(name) + len(kwargs))
    ours = getattr(metrics, name)(**kwargs)
    theirs = getattr(keras.metrics, name)(**kwargs)
    tolerance = _tolerance(name, kwargs)
    for step, mode in enumerate(WEIGHT_MODES):
        y_true, y_pred = make_batch(kind, rng)
        weight = rng.uniform(0.0, 2.0, size=(N,)).astype(np.float32)
        weight[rng.uniform(size=N) < 0.2] = 0.0
        if mode == "N1" and (name in ("F1Score", "FBetaScore") or y_pred.ndim == 1):
            mode = "N"  # Keras takes only (N,) weights for F-scores and for 1-D scores
        weight = {"none": None, "N": weight, "N1": weight[:, None]}[mode]
        ours.update_state(y_true, y_pred, sample_weight=weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
        _assert_close(ours, theirs, keras, tolerance)
        if step == RESET_AFTER_STEP:
            ours.reset_state()
            theirs.reset_state()
            _assert_close(ours, theirs, keras, tolerance)
    assert len(ours.variables) == len(theirs.variables)
    for ours_var, theirs_var in zip(ours.variables, theirs.variables):
        assert tuple(ours_var.shape) == tuple(theirs_var.shape)
        np.testing.assert_allclose(
            ours_var.numpy(), keras.ops.convert_to_numpy(theirs_var.value), rtol=1e-5, atol=1e-4
        )


@pytest.mark.parametrize(
    "name,kwargs",
    [("Precision", {"thresholds": [0.3, 0.6]}), ("AUC", {}), ("AUC", {"multi_label": True}), ("F1Score", {})],
)
def test_torch_tensor_inputs_match_keras(keras, name, kwargs):
    rng = np.random.default_rng(5)
    ours = getattr(metrics, name)(**kwargs)
    theirs = getattr(keras.metrics, name)(**kwargs)
    for _ in range(2):
        y_true, y_pred = make_batch("one_hot", rng)
        weight = rng.uniform(size=(N,)).astype(np.float32)
        ours.update_state(torch.from_numpy(y_true), torch.from_numpy(y_pred), sample_weight=torch.from_numpy(weight))
        theirs.update_state(y_true, y_pred, sample_weight=weight)
    _assert_close(ours, theirs, keras, 1e-4)


def test_integer_labels_and_scalar_weight_match_keras(keras):
    rng = np.random.default_rng(6)
    for name in ["Precision", "Recall", "AUC", "TrueNegatives"]:
        ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
        y_true, y_pred = make_batch("binary", rng)
        ours.update_state(y_true.astype(np.int64), y_pred, sample_weight=0.5)
        theirs.update_state(y_true.astype(np.int64), y_pred, sample_weight=0.5)
        _assert_close(ours, theirs, keras, 1e-4)

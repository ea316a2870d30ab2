"""Signatures, names, configs, string identifiers and argument errors of the confusion-matrix metrics."""

import inspect
import json
import re

import numpy as np
import pytest
import torch

from ember import metrics

CLASSES = [
    "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall", "AUC",
    "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity",
    "F1Score", "FBetaScore",
]  # fmt: skip

REQUIRED = {"PrecisionAtRecall": {"recall": 0.4}, "RecallAtPrecision": {"precision": 0.4},
            "SensitivityAtSpecificity": {"specificity": 0.4}, "SpecificityAtSensitivity": {"sensitivity": 0.4}}

CONFIG_CASES = [
    ("TruePositives", {}),
    ("FalseNegatives", {"thresholds": 0.3}),
    ("TrueNegatives", {"thresholds": [0.1, 0.9]}),
    ("Precision", {"thresholds": [0.2, 0.4], "class_id": 2, "name": "p"}),
    ("Recall", {"top_k": 3, "dtype": "float64"}),
    ("AUC", {}),
    ("AUC", {"num_thresholds": 17, "curve": "pr", "summation_method": "Minoring", "from_logits": True}),
    ("AUC", {"thresholds": [0.6, 0.2], "curve": "PRGAIN"}),
    ("AUC", {"multi_label": True, "num_labels": 3, "label_weights": [1.0, 0.5, 0.0]}),
    ("PrecisionAtRecall", {"recall": 0.7, "num_thresholds": 20, "class_id": 1}),
    ("RecallAtPrecision", {"precision": 0.2}),
    ("SensitivityAtSpecificity", {"specificity": 1.0, "num_thresholds": 1}),
    ("SpecificityAtSensitivity", {"sensitivity": 0.0}),
    ("F1Score", {"average": "macro", "threshold": 0.4}),
    ("FBetaScore", {"average": "weighted", "beta": 2.0}),
]


def _plain(value):
    """Keras's config values (NumPy floats, tensors) as plain Python values."""
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.floating):
        return float(value)
    return value


@pytest.mark.parametrize("name", CLASSES)
def test_signature_and_default_name_match_keras(keras, name):
    ours, theirs = getattr(metrics, name), getattr(keras.metrics, name)
    ours_parameters = {p.name: p.default for p in inspect.signature(ours).parameters.values()}
    theirs_parameters = {p.name: p.default for p in inspect.signature(theirs).parameters.values()}
    assert list(ours_parameters) == list(theirs_parameters)
    assert ours_parameters == theirs_parameters
    # Keras numbers repeated default names within a session ("auc_1"); the base name is what counts.
    assert ours(**REQUIRED.get(name, {})).name == re.sub(r"_\d+$", "", theirs(**REQUIRED.get(name, {})).name)


@pytest.mark.parametrize("name,kwargs", CONFIG_CASES)
def test_config_matches_keras_and_round_trips(keras, name, kwargs):
    metric = getattr(metrics, name)(**kwargs)
    config = metric.get_config()
    theirs = {key: _plain(value) for key, value in getattr(keras.metrics, name)(**kwargs).get_config().items()}
    theirs["name"] = config["name"]
    assert config == theirs
    assert json.loads(json.dumps(config)) == config
    rebuilt = type(metric).from_config(config)
    assert rebuilt.get_config() == config
    restored = metrics.deserialize(json.loads(json.dumps(metrics.serialize(metric))))
    assert type(restored) is type(metric) and restored.get_config() == config


def test_rebuilt_metrics_compute_the_same_values():
    rng = np.random.default_rng(0)
    y_true = (rng.uniform(size=(10, 3)) < 0.5).astype(np.float32)
    y_pred = rng.uniform(size=(10, 3)).astype(np.float32)
    for name, kwargs in CONFIG_CASES:
        metric = getattr(metrics, name)(**kwargs)
        rebuilt = metrics.deserialize(metrics.serialize(metric))
        metric.update_state(y_true, y_pred)
        rebuilt.update_state(y_true, y_pred)
        np.testing.assert_array_equal(metric.result().numpy(), rebuilt.result().numpy())


@pytest.mark.parametrize(
    "identifier",
    ["auc", "AUC", "precision", "Precision", "recall", "Recall", "true_positives", "TruePositives",
     "false_positives", "true_negatives", "false_negatives", "FalseNegatives", "f1_score", "F1Score",
     "FBetaScore"],
)
def test_string_identifiers_match_keras(keras, identifier):
    ours, theirs = metrics.get(identifier), keras.metrics.get(identifier)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}
    assert ours.name == re.sub(r"_\d+$", "", theirs.name)


def test_rate_at_rate_metrics_need_their_target():
    # Like Keras, a bare name cannot build them; a config can.
    with pytest.raises((ValueError, TypeError), match="precision_at_recall"):
        metrics.get("precision_at_recall")
    restored = metrics.get({"class_name": "PrecisionAtRecall", "config": {"recall": 0.25}})
    assert isinstance(restored, metrics.PrecisionAtRecall) and restored.recall == 0.25


def test_auc_thresholds_property():
    auc = metrics.AUC(thresholds=[0.5, 0.1])
    assert auc.num_thresholds == 4
    assert auc.thresholds == [-1e-7, 0.1, 0.5, 1 + 1e-7]
    assert metrics.AUC(num_thresholds=3).thresholds == [-1e-7, 0.5, 1 + 1e-7]


BAD_ARGUMENTS = [
    (metrics.TruePositives, {"thresholds": 1.5}, r"every threshold must be in \[0, 1\], got \[1.5\]"),
    (metrics.FalsePositives, {"thresholds": [0.2, -0.1]}, r"got \[-0.1\]"),
    (metrics.TrueNegatives, {"thresholds": []}, "non-empty list of numbers"),
    (metrics.FalseNegatives, {"thresholds": "0.5"}, "`thresholds` must be a number"),
    (metrics.Precision, {"thresholds": [0.5, 2.0]}, r"Precision: every threshold must be in \[0, 1\]"),
    (metrics.Recall, {"top_k": 0}, r"`top_k` must be an integer >= 1 or None, got top_k=0"),
    (metrics.Recall, {"class_id": 1.5}, "`class_id` must be an integer or None"),
    (metrics.AUC, {"curve": "DET"}, r"invalid `curve`='DET'. Expected one of \"ROC\", \"PR\""),
    (metrics.AUC, {"summation_method": "trapezoid"}, "invalid `summation_method`='trapezoid'"),
    (metrics.AUC, {"num_thresholds": 1}, r"AUC: `num_thresholds` must be an integer >= 2, got num_thresholds=1"),
    (metrics.AUC, {"thresholds": [0.5, 1.2]}, r"AUC: every threshold must be in \[0, 1\]"),
    (metrics.AUC, {"num_labels": 3}, "`num_labels` is needed only when `multi_label=True`"),
    (metrics.AUC, {"multi_label": True, "label_weights": [1.0, -1.0]}, "`label_weights` must be non-negative"),
    (metrics.AUC, {"multi_label": True, "num_labels": 3, "label_weights": [1.0]}, "1 entries but num_labels=3"),
    (metrics.PrecisionAtRecall, {"recall": 1.5}, r"`recall` must be a number in \[0, 1\], got recall=1.5"),
    (metrics.RecallAtPrecision, {"precision": -0.1}, r"`precision` must be a number in \[0, 1\]"),
    (metrics.SensitivityAtSpecificity, {"specificity": 0.5, "num_thresholds": 0}, "`num_thresholds` must be an "
     "integer >= 1, got num_thresholds=0"),
    (metrics.SpecificityAtSensitivity, {"sensitivity": 2}, r"`sensitivity` must be a number in \[0, 1\]"),
    (metrics.FBetaScore, {"beta": 0.0}, r"`beta` must be a number > 0, got beta=0.0"),
    (metrics.FBetaScore, {"beta": -2.0}, "`beta` must be a number > 0"),
    (metrics.FBetaScore, {"average": "samples"}, "invalid `average`='samples'"),
    (metrics.F1Score, {"threshold": 0.0}, r"`threshold` must be None or a number with 0 < threshold <= 1"),
    (metrics.F1Score, {"threshold": 1.5}, "got threshold=1.5"),
]


@pytest.mark.parametrize("cls,kwargs,message", BAD_ARGUMENTS)
def test_bad_arguments_are_rejected_clearly(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


BAD_INPUTS = [
    (lambda: metrics.AUC(multi_label=True), np.ones(4), np.ones(4), None, r"needs y_pred of shape \(num_samples, "
     r"num_labels\); got shape \(4,\)"),
    (lambda: metrics.AUC(multi_label=True, num_labels=3), np.ones((2, 4)), np.ones((2, 4)), None,
     "built for 3 labels, got y_pred of shape"),
    (lambda: metrics.F1Score(), np.ones(4), np.ones(4), None,
     r"expects 2-D inputs of shape \(batch_size, num_classes\)"),
    (lambda: metrics.F1Score(), np.ones((2, 3)), np.ones((2, 4)), None, "y_true and y_pred must both have shape"),
    (lambda: metrics.Precision(top_k=5), np.ones((2, 3)), np.ones((2, 3)), None, "`top_k`=5 is larger than"),
    (lambda: metrics.Recall(class_id=3), np.ones((2, 3)), np.ones((2, 3)), None, "`class_id`=3 is out of range"),
    (lambda: metrics.Recall(class_id=0), np.ones(3), np.ones(3), None, r"must have shape \(num_samples, num_classes\)"),
    (metrics.TruePositives, np.ones((2, 3)), np.ones((2, 4)), None, "y_true and y_pred must have the same shape"),
    (metrics.Precision, np.ones(3), np.ones(3), np.ones((3, 1)), r"sample_weight of shape \(3, 1, 1\)"),
]


@pytest.mark.parametrize("factory,y_true,y_pred,weight,message", BAD_INPUTS)
def test_bad_inputs_are_rejected_clearly(factory, y_true, y_pred, weight, message):
    with pytest.raises(ValueError, match=message):
        factory().update_state(y_true.astype(np.float32), y_pred.astype(np.float32), sample_weight=weight)


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_state_follows_the_inputs_device(device):
    rng = np.random.default_rng(1)
    y_true = (rng.uniform(size=(10, 3)) < 0.5).astype(np.float32)
    y_pred = rng.uniform(size=(10, 3)).astype(np.float32)
    weight = rng.uniform(size=(10,)).astype(np.float32)
    factories = [lambda: metrics.Precision(thresholds=[0.3, 0.7]), lambda: metrics.Recall(top_k=2),
                 lambda: metrics.AUC(multi_label=True, label_weights=[1.0, 2.0, 0.5]),
                 lambda: metrics.AUC(thresholds=[0.2, 0.9]), lambda: metrics.SensitivityAtSpecificity(0.5),
                 lambda: metrics.FBetaScore(beta=2.0)]
    for factory in factories:
        on_device, reference = factory(), factory()
        inputs = [torch.from_numpy(a).to(device) for a in (y_true, y_pred, weight)]
        on_device.update_state(inputs[0], inputs[1], sample_weight=inputs[2])
        reference.update_state(y_true, y_pred, sample_weight=weight)
        result = on_device.result()
        assert result.device.type == device
        assert {v.device.type for v in on_device.variables} == {device}
        np.testing.assert_allclose(result.cpu().numpy(), reference.result().numpy(), rtol=1e-5, atol=1e-6)
        on_device.to("cpu")
        assert {v.device.type for v in on_device.variables} == {"cpu"}
        on_device.update_state(y_true, y_pred, sample_weight=weight)
        reference.update_state(y_true, y_pred, sample_weight=weight)
        np.testing.assert_allclose(on_device.result().numpy(), reference.result().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "module",
    ["confusion_counts", "confusion_metrics", "sensitivity_specificity_metrics", "auc_metric", "f_score_metrics"],
)
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"ember.metrics.{module}"))
    assert result.attempted > 0
    assert result.failed == 0

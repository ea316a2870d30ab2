"""IoU, MeanIoU, BinaryIoU, OneHotIoU and OneHotMeanIoU against Keras and a NumPy confusion matrix."""

import re

import numpy as np
import pytest
import torch
from metric_oracles import assert_matches_keras

from ember import metrics
from ember.metrics.iou_metrics import confusion_matrix

N, C = 12, 4


def _np_confusion(labels, predictions, num_classes, weights=None):
    matrix = np.zeros((num_classes, num_classes))
    weights = np.ones(len(labels)) if weights is None else weights
    for label, prediction, weight in zip(labels, predictions, weights):
        if 0 <= label < num_classes and 0 <= prediction < num_classes:
            matrix[int(label), int(prediction)] += weight
    return matrix


def _np_iou(matrix, target_class_ids=None):
    """Mean of TP / (TP + FP + FN) over the target classes that occur at all."""
    ids = range(len(matrix)) if target_class_ids is None else target_class_ids
    scores = []
    for i in ids:
        union = matrix[i, :].sum() + matrix[:, i].sum() - matrix[i, i]
        if union > 0:
            scores.append(matrix[i, i] / union)
    return float(np.mean(scores)) if scores else 0.0


def _int_weights(rng, shape):
    return rng.integers(0, 3, size=shape).astype(np.int64)


def _sparse_batches(rng, weighted, shape=(N,), num_classes=C, ignore=None):
    batches = []
    for step in range(4):
        labels = rng.integers(0, num_classes, size=shape)
        predictions = np.where(rng.uniform(size=shape) < 0.5, labels, rng.integers(0, num_classes, size=shape))
        if ignore is not None:
            labels[rng.uniform(size=shape) < 0.2] = ignore
        weight = _int_weights(rng, shape) if weighted and step != 1 else None
        batches.append((labels, predictions, weight))
    return batches


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("MeanIoU", {"num_classes": C}),
        ("MeanIoU", {"num_classes": C, "ignore_class": 0}),
        ("IoU", {"num_classes": C, "target_class_ids": [0, 2]}),
        ("IoU", {"num_classes": C, "target_class_ids": [3], "ignore_class": -1}),
    ],
)
def test_sparse_inputs_match_keras(keras, name, kwargs, weighted):
    rng = np.random.default_rng(len(kwargs) + weighted)
    ours = getattr(metrics, name)(name="iou_metric", **kwargs)
    theirs = getattr(keras.metrics, name)(name="iou_metric", **kwargs)
    assert ours.get_config() == theirs.get_config()
    assert_matches_keras(ours, theirs, _sparse_batches(rng, weighted, ignore=kwargs.get("ignore_class")))


def test_segmentation_maps_with_scores_match_keras(keras):
    rng = np.random.default_rng(3)
    ours = metrics.MeanIoU(C, name="miou", sparse_y_pred=False)
    theirs = keras.metrics.MeanIoU(C, name="miou", sparse_y_pred=False)
    batches = []
    for _ in range(3):
        labels = rng.integers(0, C, size=(2, 3, 3))
        batches.append((labels, rng.uniform(size=(2, 3, 3, C)).astype(np.float32), _int_weights(rng, (2, 3, 3))))
    assert_matches_keras(ours, theirs, batches)


@pytest.mark.parametrize("sparse_y_pred", [False, True])
@pytest.mark.parametrize("mean", [False, True])
def test_one_hot_variants_match_keras(keras, mean, sparse_y_pred):
    rng = np.random.default_rng(4)
    kwargs = {"num_classes": C, "sparse_y_pred": sparse_y_pred, "name": "oh"}
    if mean:
        ours, theirs = metrics.OneHotMeanIoU(**kwargs), keras.metrics.OneHotMeanIoU(**kwargs)
    else:
        kwargs["target_class_ids"] = [1, 3]
        ours, theirs = metrics.OneHotIoU(**kwargs), keras.metrics.OneHotIoU(**kwargs)
    assert ours.get_config() == theirs.get_config()
    batches = []
    for _ in range(3):
        y_true = np.eye(C, dtype=np.float32)[rng.integers(0, C, size=N)]
        y_pred = rng.integers(0, C, size=N) if sparse_y_pred else rng.uniform(size=(N, C)).astype(np.float32)
        batches.append((y_true, y_pred, _int_weights(rng, N)))
    assert_matches_keras(ours, theirs, batches)


@pytest.mark.parametrize("kwargs", [{}, {"threshold": 0.3}, {"target_class_ids": [1], "threshold": 0.7}])
def test_binary_iou_matches_keras(keras, kwargs):
    rng = np.random.default_rng(5)
    ours, theirs = metrics.BinaryIoU(name="b", **kwargs), keras.metrics.BinaryIoU(name="b", **kwargs)
    assert ours.get_config() == theirs.get_config()
    batches = [
        (rng.integers(0, 2, size=(N, 1)), rng.uniform(size=(N, 1)).astype(np.float32), _int_weights(rng, N))
        for _ in range(3)
    ]
    assert_matches_keras(ours, theirs, batches)


def test_float_state_with_fractional_weights_matches_keras_and_numpy(keras):
    rng = np.random.default_rng(6)
    ours = metrics.IoU(C, [0, 1, 3], name="f", dtype="float32")
    theirs = keras.metrics.IoU(C, [0, 1, 3], name="f", dtype="float32")
    batches = [(*batch[:2], rng.uniform(size=N).astype(np.float32)) for batch in _sparse_batches(rng, False)]
    assert_matches_keras(ours, theirs, batches, reset_after=-1)
    matrix = sum(_np_confusion(labels, predictions, C, weight) for labels, predictions, weight in batches)
    np.testing.assert_allclose(ours.total_cm.numpy(), matrix, rtol=1e-6)
    np.testing.assert_allclose(float(ours.result()), _np_iou(matrix, [0, 1, 3]), rtol=1e-5)


def test_absent_classes_are_left_out_of_the_mean():
    metric = metrics.MeanIoU(num_classes=5)
    labels, predictions = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    metric.update_state(labels, predictions)
    matrix = _np_confusion(labels, predictions, 5)
    # Classes 2-4 never occur: the mean is over classes 0 and 1 only.
    assert float(metric.result()) == pytest.approx(_np_iou(matrix)) == pytest.approx((1 / 2 + 2 / 3) / 2)
    only_absent = metrics.IoU(num_classes=5, target_class_ids=[3, 4])
    only_absent.update_state(labels, predictions)
    assert float(only_absent.result()) == 0.0
    assert float(metrics.MeanIoU(num_classes=3).result()) == 0.0


def test_out_of_range_ids_are_dropped():
    labels, predictions = np.array([0, 1, 5, -1, 2, 1]), np.array([0, 1, 1, 1, 7, -2])
    got = confusion_matrix(torch.from_numpy(labels), torch.from_numpy(predictions), 3)
    np.testing.assert_array_equal(got.numpy(), _np_confusion(labels, predictions, 3))
    assert got.dtype == torch.int32 and int(got.sum()) == 2


def test_ignore_class_entries_do_not_count():
    metric = metrics.MeanIoU(num_classes=3, ignore_class=255)
    labels, predictions = np.array([0, 255, 1, 2, 255]), np.array([0, 1, 1, 0, 2])
    metric.update_state(labels, predictions, sample_weight=[1, 1, 2, 1, 1])
    keep = labels != 255
    matrix = _np_confusion(labels[keep], predictions[keep], 3, np.array([1, 1, 2, 1, 1])[keep])
    np.testing.assert_array_equal(metric.total_cm.numpy(), matrix)
    assert float(metric.result()) == pytest.approx(_np_iou(matrix))


def test_float_weights_on_an_int_state_warn_and_truncate():
    metric = metrics.MeanIoU(num_classes=2)
    with pytest.warns(UserWarning, match=r"weights are truncated to integers.*dtype='float32'"):
        metric.update_state([0, 1, 1], [0, 1, 0], sample_weight=np.array([1.9, 2.5, 0.7]))
    np.testing.assert_array_equal(metric.total_cm.numpy(), [[1, 0], [0, 2]])


def test_default_names_are_unique_and_snake_cased():
    first, second = metrics.MeanIoU(num_classes=2), metrics.MeanIoU(num_classes=2)
    assert re.fullmatch(r"mean_io_u(_\d+)?", first.name) and re.fullmatch(r"mean_io_u_\d+", second.name)
    assert first.name != second.name
    assert re.fullmatch(r"binary_io_u(_\d+)?", metrics.BinaryIoU().name)
    assert re.fullmatch(r"one_hot_mean_io_u(_\d+)?", metrics.OneHotMeanIoU(3).name)


def test_default_dtype_and_variables_match_keras(keras):
    ours, theirs = metrics.BinaryIoU(name="b"), keras.metrics.BinaryIoU(name="b")
    assert ours.get_config() == theirs.get_config() == {
        "target_class_ids": [0, 1], "threshold": 0.5, "name": "b", "dtype": "int32"
    }
    assert [(v.name, tuple(v.shape), v.dtype) for v in ours.variables] == [
        ("total_confusion_matrix", (2, 2), torch.int32)
    ]


@pytest.mark.parametrize(
    "cls,kwargs",
    [
        (metrics.IoU, {"num_classes": 3, "target_class_ids": [0, 2], "ignore_class": 1, "axis": 1, "name": "a"}),
        (metrics.MeanIoU, {"num_classes": 3, "sparse_y_true": False, "dtype": "float32", "name": "m"}),
        (metrics.BinaryIoU, {"target_class_ids": [1], "threshold": 0.2, "name": "b"}),
        (metrics.OneHotIoU, {"num_classes": 4, "target_class_ids": [3], "sparse_y_pred": True, "name": "o"}),
        (metrics.OneHotMeanIoU, {"num_classes": 4, "ignore_class": 0, "name": "om"}),
    ],
)
def test_config_round_trip_matches_keras(keras, cls, kwargs):
    ours = cls(**kwargs)
    assert ours.get_config() == getattr(keras.metrics, cls.__name__)(**kwargs).get_config()
    rebuilt = metrics.deserialize(metrics.serialize(ours))
    assert type(rebuilt) is cls and rebuilt.get_config() == ours.get_config()
    assert type(metrics.get({"class_name": cls.__name__, "config": ours.get_config()})) is cls


def test_string_identifiers(keras):
    assert type(metrics.get("binary_io_u")) is metrics.BinaryIoU
    assert type(keras.metrics.get("binary_io_u")) is keras.metrics.BinaryIoU
    # Metrics that need num_classes are not built from a bare name (Keras cannot build them either).
    with pytest.raises(ValueError, match=r"Unknown metric identifier 'mean_io_u'"):
        metrics.get("mean_io_u")


def test_reset_state_clears_the_confusion_matrix():
    metric = metrics.MeanIoU(num_classes=2)
    metric.update_state([0, 1], [1, 0])
    assert float(metric.result()) == 0.0
    metric.reset_state()
    assert int(metric.total_cm.abs().sum()) == 0
    metric.update_state([0, 1], [0, 1])
    assert float(metric.result()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_classes": 0, "target_class_ids": [0]}, r"`num_classes` must be an int >= 1, got num_classes=0"),
        ({"num_classes": 2.0, "target_class_ids": [0]}, r"`num_classes` must be an int >= 1"),
        ({"num_classes": 3, "target_class_ids": [0, 3]}, r"Target class id 3 is out of range \[0, 3\)"),
        ({"num_classes": 3, "target_class_ids": [-1]}, r"Target class id -1 is out of range"),
        ({"num_classes": 3, "target_class_ids": []}, r"`target_class_ids` must name at least one class id"),
        ({"num_classes": 3, "target_class_ids": 1}, r"`target_class_ids` must be a list or tuple.*\[class_id\]"),
        ({"num_classes": 3, "target_class_ids": [0.5]}, r"`target_class_ids` must hold ints, got 0.5"),
        ({"num_classes": 3, "target_class_ids": [0], "axis": None}, r"`axis` must be an int, got axis=None"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        metrics.IoU(**kwargs)


def test_bad_inputs():
    metric = metrics.MeanIoU(num_classes=3)
    with pytest.raises(ValueError, match=r"as many labels as predictions, got 3 labels and 2 predictions"):
        metric.update_state([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"one weight per entry \(3\) or be a scalar, got 2 weights"):
        metric.update_state([0, 1, 2], [0, 1, 2], sample_weight=np.array([1, 2]))


@pytest.mark.parametrize(
    "metric,y_true,y_pred",
    [
        (metrics.MeanIoU(3, ignore_class=0), torch.randint(0, 3, (8,)), torch.randint(0, 3, (8,))),
        (metrics.IoU(3, [1], sparse_y_pred=False), torch.randint(0, 3, (8,)), torch.rand(8, 3)),
        (metrics.BinaryIoU(), torch.randint(0, 2, (8,)), torch.rand(8)),
        (metrics.OneHotMeanIoU(3), torch.eye(3)[torch.randint(0, 3, (8,))], torch.rand(8, 3)),
    ],
)
def test_updates_do_no_host_sync(no_host_sync, metric, y_true, y_pred):
    with no_host_sync():
        metric.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred, sample_weight=torch.randint(0, 3, (8,)))
        metric.result()
        metric.reset_state()

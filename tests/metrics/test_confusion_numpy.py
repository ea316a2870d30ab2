"""Confusion-matrix metrics against NumPy / scikit-learn formulas, on random and hand-made edge cases.

Edge cases: a single class, all-zero weights, scores exactly on thresholds,
empty batches; plus reset, device-side accumulation without host syncs.
"""

import numpy as np
import pytest
import torch
from sklearn.metrics import fbeta_score, roc_auc_score

from ember import metrics
from ember.metrics.confusion_counts import align_confusion_inputs, confusion_counts

GRID = np.array([0.0, 0.25, 0.5, 0.75, 1.0], dtype=np.float32)


# NumPy oracles.


def np_counts(y_true, y_pred, thresholds, weights=None):
    """(tp, fp, tn, fn) at each threshold, every entry one sample; ``score > t`` is a positive prediction."""
    y_pred = np.asarray(y_pred, np.float32)
    positive = np.broadcast_to(np.asarray(y_true) != 0, y_pred.shape).reshape(-1)
    w = np.ones(y_pred.shape, np.float64) if weights is None else np.broadcast_to(weights, y_pred.shape)
    w = np.asarray(w, np.float64).reshape(-1)
    above = y_pred.reshape(1, -1) > np.asarray(thresholds, np.float32).reshape(-1, 1)
    return (
        (above & positive) @ w,
        (above & ~positive) @ w,
        (~above & ~positive) @ w,
        (~above & positive) @ w,
    )


def np_divide(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def np_top_k_mask(scores, k):
    order = np.argsort(-scores, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(scores.shape, bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask


def auc_thresholds(num_thresholds):
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [-1e-7] + inner + [1 + 1e-7]


def np_riemann(x, y, method):
    heights = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
               "majoring": np.maximum(y[:-1], y[1:])}[method]
    return np.sum((x[:-1] - x[1:]) * heights)


def np_interpolated_pr_auc(tp, fp, fn, steps=20000):
    """Integrate precision over recall numerically, TP growing linearly with predicted positives per segment."""
    positives = tp[0] + fn[0]
    area = 0.0
    for i in range(len(tp) - 1):
        p_hi, p_lo = tp[i] + fp[i], tp[i + 1] + fp[i + 1]
        if p_hi <= p_lo or positives == 0:
            continue  # no change along the segment
        # Down to P = 0 the line passes through the origin: precision is constant; start just above 0.
        predicted = np.linspace(max(p_lo, p_hi * 1e-12), p_hi, steps)
        true_pos = tp[i + 1] + (tp[i] - tp[i + 1]) * (predicted - p_lo) / (p_hi - p_lo)
        area += np.trapezoid(true_pos / predicted, true_pos / positives)
    return area


# Counts and rates on random data (with ties) over several batches.


def _batches(rng, shape, count=3, ties=True, weighted=True):
    for _ in range(count):
        y_true = (rng.uniform(size=shape) < 0.5).astype(np.float32)
        y_pred = rng.choice(GRID, size=shape) if ties else rng.uniform(size=shape).astype(np.float32)
        weight = rng.uniform(0, 2, size=shape[:1]).astype(np.float32) if weighted else None
        yield y_true, y_pred, weight


@pytest.mark.parametrize("thresholds", [None, 0.25, [0.0, 0.25, 0.5, 0.75, 1.0], [0.9, 0.1, 0.5]])
@pytest.mark.parametrize("weighted", [False, True])
def test_condition_counts_match_numpy(thresholds, weighted):
    rng = np.random.default_rng(1)
    classes = [metrics.TruePositives, metrics.FalsePositives, metrics.TrueNegatives, metrics.FalseNegatives]
    ours = [cls(thresholds=thresholds) for cls in classes]
    expected = np.zeros((4, 1 if thresholds is None else np.size(thresholds)))
    for y_true, y_pred, weight in _batches(rng, (10, 3), weighted=weighted):
        for metric in ours:
            metric.update_state(y_true, y_pred, sample_weight=weight)
        w = None if weight is None else weight[:, None]
        expected += np.array(np_counts(y_true, y_pred, [0.5] if thresholds is None else thresholds, w))
        for metric, values in zip(ours, expected):
            got = metric.result().numpy()
            np.testing.assert_allclose(got, values[0] if np.ndim(thresholds) == 0 else values, rtol=1e-6)


@pytest.mark.parametrize("kwargs", [{}, {"thresholds": [0.2, 0.5, 0.8]}, {"top_k": 2}, {"class_id": 1},
                                    {"top_k": 1, "class_id": 2, "thresholds": [0.0, 0.4]}])
def test_precision_and_recall_match_numpy(kwargs):
    rng = np.random.default_rng(2)
    precision, recall = metrics.Precision(**kwargs), metrics.Recall(**kwargs)
    thresholds = kwargs.get("thresholds", [0.5] if "top_k" not in kwargs else [-1e9])
    totals = np.zeros((4, len(thresholds)))
    for y_true, y_pred, weight in _batches(rng, (9, 4), ties=False):
        precision.update_state(y_true, y_pred, sample_weight=weight)
        recall.update_state(y_true, y_pred, sample_weight=weight)
        scores, w = y_pred, np.broadcast_to(weight[:, None], y_pred.shape)
        if "top_k" in kwargs:
            scores = np.where(np_top_k_mask(y_pred, kwargs["top_k"]), y_pred, -1e10)
        labels = y_true
        if "class_id" in kwargs:
            labels, scores, w = (a[:, kwargs["class_id"]] for a in (labels, scores, w))
        totals += np.array(np_counts(labels, scores, thresholds, w))
        tp, fp, _, fn = totals
        squeeze = (lambda v: v[0]) if len(thresholds) == 1 and "thresholds" not in kwargs else (lambda v: v)
        np.testing.assert_allclose(precision.result().numpy(), squeeze(np_divide(tp, tp + fp)), rtol=1e-5)
        np.testing.assert_allclose(recall.result().numpy(), squeeze(np_divide(tp, tp + fn)), rtol=1e-5)


def test_roc_auc_on_threshold_grid_equals_exact_auc():
    # With every distinct score on its own threshold (0 and 0.25 would share the first interval), the
    # thresholded ROC curve is the exact one.
    rng = np.random.default_rng(3)
    metric = metrics.AUC(num_thresholds=len(GRID))
    labels, scores, weights = [], [], []
    for y_true, _, weight in _batches(rng, (16, 1), count=4):
        y_pred = rng.choice(GRID[1:], size=(16, 1))
        metric.update_state(y_true, y_pred, sample_weight=weight)
        labels.append(y_true.ravel())
        scores.append(y_pred.ravel())
        weights.append(weight)
        expected = roc_auc_score(np.concatenate(labels), np.concatenate(scores), sample_weight=np.concatenate(weights))
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
def test_auc_matches_numpy_riemann_sums(curve, method):
    rng = np.random.default_rng(4)
    metric = metrics.AUC(num_thresholds=11, curve=curve, summation_method=method)
    totals = np.zeros((4, 11))
    for y_true, y_pred, weight in _batches(rng, (20, 2), ties=False):
        metric.update_state(y_true, y_pred, sample_weight=weight)
        totals += np.array(np_counts(y_true, y_pred, auc_thresholds(11), weight[:, None]))
    tp, fp, tn, fn = totals
    recall = np_divide(tp, tp + fn)
    if curve == "ROC":
        expected = np_riemann(np_divide(fp, fp + tn), recall, method)
    elif method == "interpolation":
        expected = np_interpolated_pr_auc(tp, fp, fn)
    else:
        expected = np_riemann(recall, np_divide(tp, tp + fp), method)
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-4)


def test_multi_label_auc_is_the_weighted_mean_of_per_label_aucs():
    rng = np.random.default_rng(5)
    label_weights = [0.5, 0.0, 2.0]
    metric = metrics.AUC(num_thresholds=len(GRID), multi_label=True, label_weights=label_weights)
    data = [(y_true, rng.choice(GRID[1:], size=(12, 3)), weight) for y_true, _, weight in _batches(rng, (12, 3))]
    for y_true, y_pred, weight in data:
        metric.update_state(y_true, y_pred, sample_weight=weight)
    y_true, y_pred, weight = (np.concatenate(parts) for parts in zip(*data))
    per_label = [roc_auc_score(y_true[:, j], y_pred[:, j], sample_weight=weight) for j in range(3)]
    np.testing.assert_allclose(float(metric.result()), np.average(per_label, weights=label_weights), rtol=1e-5)


@pytest.mark.parametrize(
    "name,value",
    [("PrecisionAtRecall", 0.5), ("RecallAtPrecision", 0.6), ("SensitivityAtSpecificity", 0.4),
     ("SpecificityAtSensitivity", 0.7)],
)
def test_rate_at_rate_matches_numpy(name, value):
    rng = np.random.default_rng(6)
    metric = getattr(metrics, name)(value, num_thresholds=9)
    totals = np.zeros((4, 9))
    for y_true, y_pred, weight in _batches(rng, (15, 1), ties=False):
        metric.update_state(y_true, y_pred, sample_weight=weight)
        totals += np.array(np_counts(y_true, y_pred, np.linspace(0, 1, 9), weight[:, None]))
    tp, fp, tn, fn = totals
    recall, precision, specificity = np_divide(tp, tp + fn), np_divide(tp, tp + fp), np_divide(tn, tn + fp)
    constrained, dependent = {
        "PrecisionAtRecall": (recall, precision),
        "RecallAtPrecision": (precision, recall),
        "SensitivityAtSpecificity": (specificity, recall),
        "SpecificityAtSensitivity": (recall, specificity),
    }[name]
    expected = max(0.0, np.max(np.where(constrained >= value, dependent, 0.0)))
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("beta,threshold", [(1.0, None), (2.0, 0.5), (0.5, 0.3)])
def test_fbeta_matches_sklearn(average, beta, threshold):
    rng = np.random.default_rng(7)
    metric = metrics.FBetaScore(average=average, beta=beta, threshold=threshold)
    data = list(_batches(rng, (10, 4), ties=False))
    for y_true, y_pred, weight in data:
        metric.update_state(y_true, y_pred, sample_weight=weight)
    y_true, y_pred, weight = (np.concatenate(parts) for parts in zip(*data))
    if threshold is None:
        predicted = (y_pred == y_pred.max(-1, keepdims=True)).astype(int)
    else:
        predicted = (y_pred > threshold).astype(int)
    expected = fbeta_score(y_true.astype(int), predicted, beta=beta, average=average, sample_weight=weight,
                           zero_division=0)
    np.testing.assert_allclose(metric.result().numpy(), expected, rtol=1e-5, atol=1e-6)


# Hand-made edge cases.


def test_scores_exactly_on_thresholds_are_negative_predictions():
    y_true = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], np.float32)
    y_pred = np.concatenate([GRID, GRID])
    thresholds = GRID.tolist()
    for thresholds_arg in (thresholds, [0.5, 0.25, 1.0]):
        tp = metrics.TruePositives(thresholds=thresholds_arg)
        fp = metrics.FalsePositives(thresholds=thresholds_arg)
        tp.update_state(y_true, y_pred)
        fp.update_state(y_true, y_pred)
        counts = np_counts(y_true, y_pred, thresholds_arg)
        np.testing.assert_array_equal(tp.result().numpy(), counts[0])
        np.testing.assert_array_equal(fp.result().numpy(), counts[1])
    # AUC's outer thresholds lie just outside [0, 1]: a score of 0 is above the first, 1 is below the last.
    auc = metrics.AUC(num_thresholds=5)
    auc.update_state(y_true, y_pred)
    np.testing.assert_array_equal(auc.true_positives.numpy(), np_counts(y_true, y_pred, auc_thresholds(5))[0])
    np.testing.assert_array_equal(auc.true_positives.numpy(), [5, 3, 2, 1, 0])


def test_scores_outside_unit_interval():
    # Compared as they are against arbitrary thresholds; clipped to [0, 1] on an evenly spaced grid (as Keras).
    y_true = np.array([1, 1, 0, 0], np.float32)
    y_pred = np.array([1.5, -0.5, 2.0, -1.0], np.float32)
    metric = metrics.TruePositives(thresholds=[0.5, 1.0])
    metric.update_state(y_true, y_pred)
    np.testing.assert_array_equal(metric.result().numpy(), np_counts(y_true, y_pred, [0.5, 1.0])[0])
    gridded = metrics.TruePositives(thresholds=[0.0, 0.5, 1.0])
    gridded.update_state(y_true, y_pred)
    np.testing.assert_array_equal(gridded.result().numpy(), np_counts(y_true, np.clip(y_pred, 0, 1), [0, 0.5, 1])[0])


@pytest.mark.parametrize("label", [0.0, 1.0])
def test_all_one_class(label):
    y_true = np.full((8, 1), label, np.float32)
    y_pred = np.linspace(0.05, 0.95, 8, dtype=np.float32)[:, None]
    precision, recall, auc, pr_auc = metrics.Precision(), metrics.Recall(), metrics.AUC(), metrics.AUC(curve="PR")
    for metric in (precision, recall, auc, pr_auc):
        metric.update_state(y_true, y_pred)
    tp, fp, _, fn = (c[0] for c in np_counts(y_true, y_pred, [0.5]))
    np.testing.assert_allclose(float(precision.result()), np_divide(tp, tp + fp), atol=1e-7)
    np.testing.assert_allclose(float(recall.result()), np_divide(tp, tp + fn), atol=1e-7)
    tp, fp, tn, fn = np_counts(y_true, y_pred, auc_thresholds(200))
    expected_auc = np_riemann(np_divide(fp, fp + tn), np_divide(tp, tp + fn), "interpolation")
    np.testing.assert_allclose(float(auc.result()), expected_auc, atol=1e-7)
    np.testing.assert_allclose(float(pr_auc.result()), np_interpolated_pr_auc(tp, fp, fn), atol=1e-4)


def test_all_zero_sample_weights_leave_everything_at_zero():
    y_true = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    y_pred = np.array([[0.9, 0.2], [0.3, 0.8], [0.6, 0.4]], np.float32)
    zeros = np.zeros(3, np.float32)
    for metric in [metrics.TruePositives(), metrics.Precision(), metrics.Recall(), metrics.AUC(),
                   metrics.AUC(multi_label=True), metrics.PrecisionAtRecall(0.5), metrics.F1Score(),
                   metrics.FBetaScore(average="weighted", beta=2.0)]:
        metric.update_state(y_true, y_pred, sample_weight=zeros)
        np.testing.assert_array_equal(metric.result().numpy(), np.zeros_like(metric.result().numpy()))
        for variable in metric.variables:
            assert not variable.numpy().any()


@pytest.mark.parametrize(
    "factory,width",
    [(metrics.Precision, 1), (lambda: metrics.Recall(top_k=1), 3), (metrics.AUC, 1),
     (lambda: metrics.AUC(multi_label=True), 3), (lambda: metrics.SensitivityAtSpecificity(0.5), 1),
     (lambda: metrics.F1Score(average="macro"), 3)],
)
def test_empty_batches_change_nothing(factory, width):
    rng = np.random.default_rng(8)
    with_empty, without = factory(), factory()
    empty = (np.zeros((0, width), np.float32), np.zeros((0, width), np.float32))
    for step in range(3):
        y_true = np.eye(width, dtype=np.float32)[rng.integers(0, width, 6)] if width > 1 else (
            rng.integers(0, 2, (6, 1)).astype(np.float32))
        y_pred = rng.uniform(size=(6, width)).astype(np.float32)
        if step == 0:
            with_empty.update_state(*empty)  # an empty first batch (also builds lazily-shaped state)
        with_empty.update_state(y_true, y_pred)
        with_empty.update_state(*empty, sample_weight=np.zeros((0,), np.float32))
        without.update_state(y_true, y_pred)
        np.testing.assert_allclose(with_empty.result().numpy(), without.result().numpy(), rtol=1e-6)


def test_reset_state_returns_to_a_fresh_metric():
    rng = np.random.default_rng(9)
    y_true = (rng.uniform(size=(6, 3)) < 0.5).astype(np.float32)
    y_pred = rng.uniform(size=(6, 3)).astype(np.float32)
    for factory in [lambda: metrics.TruePositives([0.2, 0.6]), metrics.Precision, metrics.Recall,
                    lambda: metrics.AUC(multi_label=True), metrics.AUC, lambda: metrics.RecallAtPrecision(0.3),
                    lambda: metrics.F1Score(average="micro")]:
        metric, fresh = factory(), factory()
        metric.update_state(y_true, y_pred)
        metric.reset_state()
        fresh.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred)
        np.testing.assert_array_equal(metric.result().numpy(), fresh.result().numpy())
        metric.reset_state()
        assert all(not v.numpy().any() for v in metric.variables)


def test_result_is_a_copy_of_the_state():
    metric = metrics.TruePositives()
    metric.update_state([1.0], [0.9])
    result = metric.result()
    result.add_(5.0)
    assert float(metric.result()) == 1.0


def test_unbuilt_lazy_metrics_report_zero():
    assert float(metrics.AUC(multi_label=True).result()) == 0.0
    assert float(metrics.F1Score().result()) == 0.0
    assert metrics.AUC(multi_label=True).variables == []


# Device-side accumulation.


def test_confusion_counts_is_pure_and_shared():
    y_true = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y_pred = torch.tensor([[0.9, 0.2], [0.3, 0.8], [0.6, 0.4]])
    original = y_pred.clone()
    weights = torch.tensor([1.0, 2.0, 0.5])
    labels, scores, w = align_confusion_inputs(y_true, y_pred, weights)
    thresholds = torch.tensor([0.25, 0.5, 0.7])
    counts = confusion_counts(labels, scores, thresholds, sample_weight=w)
    expected = np_counts(y_true.numpy(), y_pred.numpy(), thresholds.numpy(), weights.numpy()[:, None])
    for got, want in zip(counts, expected):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    per_label = confusion_counts(labels, scores, thresholds, sample_weight=w, multi_label=True)
    assert per_label.true_positives.shape == (3, 2)
    np.testing.assert_allclose(per_label.true_positives.sum(1).numpy(), expected[0], rtol=1e-6)
    assert torch.equal(y_pred, original)  # inputs untouched


@pytest.mark.parametrize(
    "factory",
    [metrics.TruePositives, lambda: metrics.TrueNegatives([0.1, 0.5]), lambda: metrics.Precision(top_k=2),
     lambda: metrics.Recall(class_id=1), metrics.AUC, lambda: metrics.AUC(multi_label=True, label_weights=[1, 2, 3]),
     lambda: metrics.AUC(thresholds=[0.3, 0.1], from_logits=True), lambda: metrics.SpecificityAtSensitivity(0.5),
     lambda: metrics.FBetaScore(average="weighted", beta=2.0)],
)
def test_updates_do_not_synchronise_with_the_device(no_host_sync, factory):
    metric = factory()
    y_true = (torch.rand(8, 3) < 0.5).float()
    y_pred, weights = torch.rand(8, 3), torch.rand(8)
    with no_host_sync():
        for _ in range(2):
            metric.update_state(y_true, y_pred, sample_weight=weights)
            metric.update_state(y_true, y_pred)
        metric.result()

"""Top-k accuracy metrics against Keras and a NumPy rank-counting formula."""

import numpy as np
import pytest
import torch
from metric_oracles import assert_matches_keras, weight_for

from ember import metrics

N, C = 8, 6


def _scores(rng, shape):
    # Rounded to one decimal so that rows contain ties.
    return np.round(rng.uniform(size=shape), 1).astype(np.float32)


def _np_in_top_k(labels, scores, k):
    """A label is in the top k when fewer than k classes score strictly higher than it."""
    target = scores[np.arange(len(labels)), labels]
    return ((scores > target[:, None]).sum(-1) < k).astype(np.float32)


@pytest.mark.parametrize("mode", ["none", "n", "n1", "mixed"])
@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("sparse", [False, True])
def test_matches_keras_over_weighted_batches(keras, sparse, k, mode):
    rng = np.random.default_rng(k)
    name = "SparseTopKCategoricalAccuracy" if sparse else "TopKCategoricalAccuracy"
    ours, theirs = getattr(metrics, name)(k=k), getattr(keras.metrics, name)(k=k)
    assert ours.name == theirs.name and ours.get_config() == theirs.get_config()
    batches = []
    for step in range(4):
        labels = rng.integers(0, C, size=(N,))
        y_true = labels[:, None] if sparse else np.eye(C, dtype=np.float32)[labels]
        batch_mode = ["none", "n", "n1"][step % 3] if mode == "mixed" else mode
        batches.append((y_true, _scores(rng, (N, C)), weight_for(batch_mode, rng, N)))
    assert_matches_keras(ours, theirs, batches)


@pytest.mark.parametrize("sparse", [False, True])
def test_weighted_mean_matches_numpy_with_ties(sparse):
    rng = np.random.default_rng(1)
    metric = metrics.SparseTopKCategoricalAccuracy(k=2) if sparse else metrics.TopKCategoricalAccuracy(k=2)
    hits, weights = [], []
    for _ in range(3):
        labels = rng.integers(0, C, size=(N,))
        scores = _scores(rng, (N, C))
        weight = rng.uniform(0.1, 2.0, size=(N,)).astype(np.float32)
        metric.update_state(labels if sparse else np.eye(C)[labels], scores, sample_weight=weight)
        hits.append(_np_in_top_k(labels, scores, 2))
        weights.append(weight)
    hits, weights = np.concatenate(hits), np.concatenate(weights)
    np.testing.assert_allclose(float(metric.result()), (hits * weights).sum() / weights.sum(), rtol=1e-6)


def test_ties_at_the_boundary_all_count():
    scores = np.array([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4], [0.5, 0.2, 0.2]], dtype=np.float32)
    labels = np.array([1, 0, 2])
    values = metrics.sparse_top_k_categorical_accuracy(labels, scores, k=1)
    # Row 0: label 1 ties the best score; row 1: label 0 is second; row 2: label 2 ties for second place.
    assert values.tolist() == [1.0, 0.0, 0.0]
    assert metrics.sparse_top_k_categorical_accuracy(labels, scores, k=2).tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_array_equal(values.numpy(), _np_in_top_k(labels, scores, 1))


def test_k_at_least_the_number_of_classes_counts_every_label():
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]], dtype=np.float32)
    metric = metrics.TopKCategoricalAccuracy()  # k=5 > 3 classes
    metric.update_state(np.eye(3)[[0, 1]], scores)
    assert float(metric.result()) == 1.0
    assert metrics.sparse_top_k_categorical_accuracy([2, 0], scores, k=3).tolist() == [1.0, 1.0]


def test_from_sorted_ids_matches_keras(keras):
    rng = np.random.default_rng(5)
    ours = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    theirs = keras.metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    batches = []
    for _ in range(3):
        ids = np.argsort(-rng.uniform(size=(N, C)), axis=-1)[:, :3].astype(np.int64)
        batches.append((rng.integers(0, C, size=(N,)), ids, rng.uniform(size=(N,)).astype(np.float32)))
    assert_matches_keras(ours, theirs, batches)
    # The same ids as torch.topk's indices give the same answer as the scores.
    scores = torch.rand(N, C)
    labels = torch.randint(0, C, (N,))
    top_ids = torch.topk(scores, 3).indices
    from_ids = metrics.sparse_top_k_categorical_accuracy(labels, top_ids, k=3, from_sorted_ids=True)
    assert torch.equal(from_ids, metrics.sparse_top_k_categorical_accuracy(labels, scores, k=3))


def test_sequence_inputs_keep_the_label_shape(keras):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, C, size=(4, 3))
    scores = _scores(rng, (4, 3, C))
    ours = metrics.sparse_top_k_categorical_accuracy(labels, scores, k=2)
    theirs = keras.metrics.sparse_top_k_categorical_accuracy(labels, scores, k=2)
    assert ours.shape == (4, 3)
    np.testing.assert_array_equal(ours.numpy(), keras.ops.convert_to_numpy(theirs))
    one_hot = np.eye(C, dtype=np.float32)[labels]
    np.testing.assert_array_equal(
        metrics.top_k_categorical_accuracy(one_hot, scores, k=2).numpy(),
        keras.ops.convert_to_numpy(keras.metrics.top_k_categorical_accuracy(one_hot, scores, k=2)),
    )


def test_functions_are_registered_by_name_and_match_keras_names(keras):
    assert type(metrics.get("top_k_categorical_accuracy")) is metrics.TopKCategoricalAccuracy
    assert type(metrics.get("sparse_top_k_categorical_accuracy")) is metrics.SparseTopKCategoricalAccuracy
    assert metrics.get("top_k_categorical_accuracy").name == keras.metrics.get("top_k_categorical_accuracy").name


@pytest.mark.parametrize(
    "kwargs",
    [{"k": 3}, {"k": 2, "name": "top2"}, {"k": 4, "from_sorted_ids": True}, {"k": 1, "dtype": "float64"}],
)
def test_config_round_trip(keras, kwargs):
    ours = metrics.SparseTopKCategoricalAccuracy(**kwargs)
    config = ours.get_config()
    assert config == keras.metrics.SparseTopKCategoricalAccuracy(**kwargs).get_config()
    rebuilt = metrics.deserialize(metrics.serialize(ours))
    assert type(rebuilt) is metrics.SparseTopKCategoricalAccuracy and rebuilt.get_config() == config
    assert rebuilt.from_sorted_ids == kwargs.get("from_sorted_ids", False)


def test_reset_state_forgets_batches():
    metric = metrics.TopKCategoricalAccuracy(k=1)
    metric.update_state(np.eye(3)[[0]], [[0.1, 0.8, 0.1]])
    assert float(metric.result()) == 0.0
    metric.reset_state()
    metric.update_state(np.eye(3)[[1]], [[0.1, 0.8, 0.1]])
    assert float(metric.result()) == 1.0


@pytest.mark.parametrize("k", [0, -1, 2.5, True, "5"])
def test_bad_k_is_rejected(k):
    with pytest.raises(ValueError, match=r"`k` must be an int >= 1 .*got k="):
        metrics.TopKCategoricalAccuracy(k=k)
    with pytest.raises(ValueError, match=r"`k` must be an int >= 1"):
        metrics.sparse_top_k_categorical_accuracy([0], [[0.2, 0.8]], k=k)


def test_updates_do_no_host_sync(no_host_sync):
    metric = metrics.SparseTopKCategoricalAccuracy(k=2)
    y_true, y_pred, weight = torch.randint(0, C, (N,)), torch.rand(N, C), torch.rand(N)
    with no_host_sync():
        metric.update_state(y_true, y_pred, sample_weight=weight)
        metric.result()
        metric.reset_state()

"""Configs, string identifiers, host syncs and bad inputs for the whole loss catalogue."""

import json

import numpy as np
import pytest
import torch

from ember import losses

ALL_CLASSES = [
    losses.MeanSquaredError,
    losses.MeanAbsoluteError,
    losses.MeanAbsolutePercentageError,
    losses.MeanSquaredLogarithmicError,
    losses.CosineSimilarity,
    losses.Huber,
    losses.LogCosh,
    losses.BinaryCrossentropy,
    losses.BinaryFocalCrossentropy,
    losses.CategoricalCrossentropy,
    losses.CategoricalFocalCrossentropy,
    losses.SparseCategoricalCrossentropy,
    losses.KLDivergence,
    losses.Poisson,
    losses.Hinge,
    losses.SquaredHinge,
    losses.CategoricalHinge,
    losses.Tversky,
    losses.Dice,
]

CONFIGURED = [
    losses.MeanAbsolutePercentageError(reduction="sum"),
    losses.MeanSquaredLogarithmicError(name="msle_loss"),
    losses.CosineSimilarity(axis=1, reduction=None),
    losses.Huber(delta=0.3),
    losses.LogCosh(reduction="mean_with_sample_weight"),
    losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5, from_logits=True, axis=1),
    losses.CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5], gamma=0.5, label_smoothing=0.1),
    losses.KLDivergence(reduction="sum"),
    losses.Poisson(name="counts"),
    losses.Hinge(),
    losses.SquaredHinge(reduction=None),
    losses.CategoricalHinge(),
    losses.Tversky(alpha=0.7, beta=0.3, axis=(1, 2)),
    losses.Dice(axis=-1),
]


@pytest.mark.parametrize("loss", CONFIGURED, ids=lambda loss: type(loss).__name__)
def test_serialize_round_trip_through_json(loss):
    config = json.loads(json.dumps(losses.serialize(loss)))
    assert config["class_name"] == type(loss).__name__ and config["module"] == "ember.losses"
    clone = losses.deserialize(config)
    assert type(clone) is type(loss)
    expected = loss.get_config()
    if isinstance(expected.get("axis"), tuple):
        expected["axis"] = list(expected["axis"])  # JSON has no tuples
    assert clone.get_config() == expected
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, size=(4, 3, 3)).astype(np.float32)
    y_pred = rng.uniform(0.1, 0.9, size=(4, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(clone(y_true, y_pred).numpy(), loss(y_true, y_pred).numpy(), rtol=1e-6)


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda cls: cls.__name__)
def test_every_class_and_function_name_resolves(cls):
    function = losses.get(cls.__name__).fn
    assert type(losses.get(function.__name__)) is cls
    assert type(losses.deserialize(cls.__name__)) is cls
    assert losses.deserialize(losses.serialize(function)) is function


def test_tf_keras_spellings_are_accepted():
    assert type(losses.get("logcosh")) is losses.LogCosh
    assert type(losses.get("kullback_leibler_divergence")) is losses.KLDivergence


# Host syncs: the labels' values are never read back (hinge's {0, 1} test stays on the device).
SYNC_CASES = [
    (losses.MeanAbsolutePercentageError(), torch.rand(4, 3), torch.rand(4, 3)),
    (losses.MeanSquaredLogarithmicError(), torch.rand(4, 3), torch.rand(4, 3)),
    (losses.CosineSimilarity(), torch.rand(4, 3), torch.rand(4, 3)),
    (losses.Huber(), torch.rand(4, 3), torch.rand(4, 3)),
    (losses.LogCosh(), torch.rand(4, 3), torch.rand(4, 3)),
    (losses.BinaryFocalCrossentropy(apply_class_balancing=True), torch.ones(4, 3), torch.rand(4, 3)),
    (losses.BinaryFocalCrossentropy(from_logits=True, label_smoothing=0.1), torch.ones(4, 3), torch.rand(4, 3)),
    (losses.CategoricalFocalCrossentropy(), torch.eye(3)[[0, 1, 2, 0]], torch.rand(4, 3)),
    (
        losses.CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5], from_logits=True),
        torch.eye(3)[[0, 1, 2, 0]],
        torch.rand(4, 3),
    ),
    (losses.KLDivergence(), torch.rand(4, 3), torch.rand(4, 3)),
    (losses.Poisson(), torch.rand(4, 3), torch.rand(4, 3)),
    (losses.Hinge(), torch.ones(4, 3), torch.rand(4, 3)),
    (losses.SquaredHinge(), torch.ones(4, 3), torch.rand(4, 3)),
    (losses.CategoricalHinge(), torch.eye(3)[[0, 1, 2, 0]], torch.rand(4, 3)),
    (losses.Tversky(), torch.ones(4, 3), torch.rand(4, 3)),
    (losses.Dice(axis=-1), torch.ones(4, 3), torch.rand(4, 3)),
]


@pytest.mark.parametrize("loss,y_true,y_pred", SYNC_CASES, ids=lambda value: getattr(value, "name", ""))
def test_no_host_sync(no_host_sync, loss, y_true, y_pred):
    weight = torch.rand(4)
    loss(y_true, y_pred)  # first call: a per-class alpha list is uploaded once and kept
    with no_host_sync():
        loss(y_true, y_pred)
        loss(y_true, y_pred, sample_weight=weight)


# Bad inputs.


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("reduction", ["avg", "SUM", 0])
def test_unknown_reduction(cls, reduction):
    with pytest.raises(ValueError, match=r"`reduction`: expected one of \[.*'sum_over_batch_size'.*got reduction="):
        cls(reduction=reduction)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: losses.Huber(delta=0), r"`delta` must be a number in \(0, inf\), got delta=0"),
        (lambda: losses.Huber(delta=-1.0), r"`delta` must be a number in \(0, inf\), got delta=-1.0"),
        (lambda: losses.Huber(delta="1"), r"`delta` must be a number .* got delta='1'"),
        (lambda: losses.BinaryFocalCrossentropy(gamma=-1.0), r"`gamma` must be a number in \[0, inf\), got gamma=-1.0"),
        (lambda: losses.BinaryFocalCrossentropy(alpha=1.5), r"`alpha` must be a number in \[0, 1\], got alpha=1.5"),
        (lambda: losses.BinaryFocalCrossentropy(label_smoothing=2), r"`label_smoothing` must be in \[0, 1\], got"),
        (lambda: losses.BinaryFocalCrossentropy(axis=None), r"`axis` must be an int, got axis=None"),
        (lambda: losses.CategoricalFocalCrossentropy(gamma=float("nan")), r"`gamma` must be a number .* got gamma=nan"),
        (lambda: losses.CategoricalFocalCrossentropy(alpha=[0.5, -0.1]), r"`alpha` must be .* got alpha=-0.1"),
        (lambda: losses.CategoricalFocalCrossentropy(label_smoothing=-0.1), r"`label_smoothing` must be in \[0, 1\]"),
        (lambda: losses.CosineSimilarity(axis=1.5), r"`axis` must be an int, got axis=1.5"),
        (lambda: losses.Tversky(alpha=-0.5), r"`alpha` must be a number in \[0, inf\), got alpha=-0.5"),
        (lambda: losses.Tversky(beta=None), r"`beta` must be a number .* got beta=None"),
        (lambda: losses.Dice(axis="channels"), r"`axis` must be None .* got axis='channels'"),
        (lambda: losses.Dice(axis=(1, 1)), r"tuple of distinct ints, got axis=\(1, 1\)"),
        (lambda: losses.tversky([[1.0]], [[1.0]], axis=[]), r"`axis` must be None .* got axis=\[\]"),
        (lambda: losses.huber([[1.0]], [[1.0]], delta=0.0), r"`delta` must be a number in \(0, inf\)"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_per_class_alpha_needs_one_value_per_class():
    loss = losses.CategoricalFocalCrossentropy(alpha=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"one value per class: got 2 values for 3 classes"):
        loss(np.eye(3), np.full((3, 3), 1 / 3))


@pytest.mark.parametrize("fn", [losses.binary_focal_crossentropy, losses.categorical_focal_crossentropy])
def test_focal_shape_mismatch(fn):
    with pytest.raises(ValueError, match=r"same shape, got y_true.shape=\(4, 2\) and y_pred.shape=\(4, 3\)"):
        fn(np.zeros((4, 2)), np.full((4, 3), 0.5))


# Sparse labels out of range: a ValueError naming the labels' range and the number of classes.


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize(
    "labels,ignore_class,message",
    [
        ([0, 3, 1, 2], None, r"class index in \[0, 2\] because y_pred has 3 classes .* from 0 to 3"),
        ([0, 1, -1, 2], None, r"class index in \[0, 2\] because y_pred has 3 classes .* from -1 to 2"),
        ([[0], [7], [1], [2]], None, r"3 classes .* from 0 to 7"),
        ([0, -1, -2, 1], -1, r"every label other than ignore_class=-1 must be .* 3 classes .* from -2 to 1"),
        ([0, 255, 5, 1], 255, r"other than ignore_class=255 .* 3 classes .* from 0 to 5"),
    ],
)
def test_sparse_labels_out_of_range(from_logits, labels, ignore_class, message):
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=ignore_class)
    with pytest.raises(ValueError, match=message):
        loss(np.array(labels), np.full((4, 3), 1 / 3, np.float32))


def test_sparse_labels_out_of_range_per_timestep():
    labels = np.zeros((2, 5), np.int64)
    labels[1, 3] = 4
    with pytest.raises(ValueError, match=r"y_pred has 4 classes \(y_pred.shape\[1\]\).* from 0 to 4"):
        losses.sparse_categorical_crossentropy(labels, np.zeros((2, 4, 5), np.float32), from_logits=True, axis=1)


def test_sparse_labels_in_range_with_ignore_class_still_work():
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    value = loss(np.array([0, -1, 2, 1]), np.zeros((4, 3), np.float32))
    np.testing.assert_allclose(float(value), np.log(3), rtol=1e-6)


def test_sparse_labels_out_of_range_in_fit():
    import ember

    inputs = ember.Input(shape=(2,))
    model = ember.Model(inputs, ember.layers.Dense(3, activation="softmax")(inputs))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.zeros((8, 2), np.float32)
    y = np.array([0, 1, 2, 3, 0, 1, 2, 0])
    with pytest.raises(ValueError, match=r"y_pred has 3 classes .* from 0 to 3"):
        model.fit(x, y, epochs=1, batch_size=4, verbose=0)

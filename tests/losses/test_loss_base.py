"""The ``Loss`` base class and ``LossFunctionWrapper``: custom losses, dtypes, errors, host syncs."""

import numpy as np
import pytest
import torch

from ember import losses
from ember.losses import Loss, LossFunctionWrapper


class CustomMSE(Loss):
    """The custom loss of Keras's training guide, with torch in place of tf."""

    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = torch.mean(torch.square(y_true - y_pred))
        reg = torch.mean(torch.square(0.5 - y_pred))
        return mse + reg * self.regularization_factor


def custom_mean_squared_error(y_true, y_pred):
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    return (
        rng.normal(size=(8, 3)).astype(np.float32),
        rng.normal(size=(8, 3)).astype(np.float32),
        rng.uniform(0, 2, size=(8,)).astype(np.float32),
    )


def test_guide_custom_mse_scalar_loss_matches_keras(keras, data):
    y_true, y_pred, weight = data
    ops = keras.ops

    class KerasCustomMSE(keras.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = ops.mean(ops.square(y_true - y_pred))
            reg = ops.mean(ops.square(0.5 - y_pred))
            return mse + reg * self.regularization_factor

    expected_value = np.mean((y_true - y_pred) ** 2) + 0.1 * np.mean((0.5 - y_pred) ** 2)
    loss = CustomMSE()
    assert loss.name == "custom_mse"
    got = loss(y_true, y_pred)
    assert got.shape == ()
    np.testing.assert_allclose(float(got), expected_value, rtol=1e-6)
    for w in (weight, weight[:, None]):
        expected = keras.ops.convert_to_numpy(KerasCustomMSE()(y_true, y_pred, sample_weight=w))
        np.testing.assert_allclose(float(loss(y_true, y_pred, sample_weight=w)), expected, rtol=1e-6)


def test_guide_custom_function_loss(keras, data):
    y_true, y_pred, weight = data
    loss = losses.get(custom_mean_squared_error)
    assert isinstance(loss, LossFunctionWrapper)
    assert loss.name == "custom_mean_squared_error"
    assert loss.reduction == "sum_over_batch_size"
    expected = (((y_true - y_pred) ** 2).mean(-1) * weight).sum() / len(weight)
    np.testing.assert_allclose(float(loss(y_true, y_pred, sample_weight=weight)), expected, rtol=1e-6)

    def keras_custom_mean_squared_error(y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)

    reference = keras.losses.MeanSquaredError()
    reference.call = lambda t, p: keras_custom_mean_squared_error(t, p)
    np.testing.assert_allclose(
        float(loss(y_true, y_pred, sample_weight=weight)),
        keras.ops.convert_to_numpy(reference(y_true, y_pred, sample_weight=weight)),
        rtol=1e-6,
    )


def test_wrapper_passes_keyword_arguments_and_defaults_its_name(data):
    y_true, y_pred, _ = data

    def scaled_error(y_true, y_pred, scale=1.0):
        return scale * torch.mean(torch.abs(y_true - y_pred), dim=-1)

    loss = LossFunctionWrapper(scaled_error, reduction="sum", scale=3.0)
    assert loss.name == "scaled_error"
    np.testing.assert_allclose(float(loss(y_true, y_pred)), 3.0 * np.abs(y_true - y_pred).mean(-1).sum(), rtol=1e-6)
    assert LossFunctionWrapper(scaled_error, name="named").name == "named"


def test_wrapper_aligns_label_rank_with_predictions():
    seen = []

    def shapes(y_true, y_pred):
        seen.append((tuple(y_true.shape), tuple(y_pred.shape)))
        return torch.mean(y_pred - y_true, dim=-1)

    LossFunctionWrapper(shapes)(np.zeros(4), np.zeros((4, 1)))
    assert seen == [((4, 1), (4, 1))]


def test_inputs_are_cast_to_the_loss_dtype():
    seen = {}

    class Recorder(Loss):
        def call(self, y_true, y_pred):
            seen["dtypes"] = (y_true.dtype, y_pred.dtype)
            return torch.sum(y_pred, dim=-1)

    value = Recorder()(np.array([[1, 2]], np.int64), np.array([[0.5, 0.5]], np.float64))
    assert seen["dtypes"] == (torch.float32, torch.float32)
    assert value.dtype == torch.float32
    value = Recorder(dtype="float64")(np.array([[1, 2]]), torch.tensor([[0.5, 0.5]]))
    assert seen["dtypes"] == (torch.float64, torch.float64)
    assert value.dtype == torch.float64
    assert Recorder().dtype == "float32"
    assert Recorder().name == "recorder"


def test_nested_structures_and_lists_are_converted():
    class SumOfOutputs(Loss):
        def call(self, y_true, y_pred):
            return sum(torch.sum((y_true[k] - y_pred[k]) ** 2, dim=-1) for k in y_pred)

    y_true = {"a": [[1.0, 2.0]], "b": np.array([[3.0]])}
    y_pred = {"a": torch.tensor([[0.0, 0.0]]), "b": torch.tensor([[1.0]])}
    assert float(SumOfOutputs()(y_true, y_pred)) == pytest.approx(1 + 4 + 4)


def test_predictions_keep_their_gradient():
    y_pred = torch.tensor([[0.2, 0.7]], requires_grad=True, dtype=torch.float64)
    loss = losses.BinaryCrossentropy()([[0, 1]], y_pred)
    loss.backward()
    assert y_pred.grad is not None and y_pred.grad.dtype == torch.float64
    expected = (np.array([1 / (1 - 0.2), -1 / 0.7]) / 2).reshape(1, 2)
    np.testing.assert_allclose(y_pred.grad.numpy(), expected, rtol=1e-5)


def test_autocast_outputs_are_scored_in_float32():
    y_true = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    y_pred = torch.tensor([[0.25, 0.75], [0.5, 0.875]])
    reference = losses.BinaryCrossentropy()(y_true, y_pred)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = losses.BinaryCrossentropy()(y_true, y_pred.to(torch.bfloat16))
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, reference)


@pytest.mark.parametrize(
    "loss,y_true,y_pred",
    [
        (losses.MeanSquaredError(), torch.ones(4, 3), torch.zeros(4, 3)),
        (losses.MeanAbsoluteError(reduction="mean_with_sample_weight"), torch.ones(4, 3), torch.zeros(4, 3)),
        (losses.BinaryCrossentropy(), torch.ones(4, 3), torch.full((4, 3), 0.3)),
        (losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), torch.ones(4, 3), torch.zeros(4, 3)),
        (losses.CategoricalCrossentropy(), torch.eye(3)[[0, 1, 2, 0]], torch.rand(4, 3)),
        (losses.CategoricalCrossentropy(from_logits=True), torch.eye(3)[[0, 1, 2, 0]], torch.rand(4, 3)),
        (losses.SparseCategoricalCrossentropy(), torch.tensor([0, 1, 2, 0]), torch.rand(4, 3)),
        (losses.SparseCategoricalCrossentropy(from_logits=True), torch.tensor([[0], [1], [2], [0]]), torch.rand(4, 3)),
        (losses.SparseCategoricalCrossentropy(ignore_class=0), torch.tensor([0, 1, 2, 0]), torch.rand(4, 3)),
    ],
)
def test_no_host_sync(no_host_sync, loss, y_true, y_pred):
    weight = torch.rand(4)
    with no_host_sync():
        loss(y_true, y_pred)
        loss(y_true, y_pred, sample_weight=weight)
        loss(y_true, y_pred, sample_weight=2.0)


def test_sync_check_detects_reads_and_uploads(no_host_sync):
    with pytest.raises(AssertionError):
        with no_host_sync():
            torch.ones(2).sum().item()
    with pytest.raises(AssertionError):
        with no_host_sync():
            torch.tensor([1.0, 2.0])


def test_config_round_trip():
    for loss in [
        losses.MeanSquaredError(reduction="sum", name="m"),
        losses.MeanAbsoluteError(reduction=None),
        losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2, axis=1),
        losses.CategoricalCrossentropy(label_smoothing=0.1, reduction="none"),
        losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, axis=1),
        CustomMSE(),
    ]:
        if isinstance(loss, CustomMSE):
            assert loss.get_config() == {"name": "custom_mse", "reduction": "sum_over_batch_size"}
            continue
        clone = type(loss).from_config(loss.get_config())
        assert type(clone) is type(loss)
        assert clone.get_config() == loss.get_config()
        assert vars(clone).keys() == vars(loss).keys()


def test_wrapper_config_names_its_function_and_round_trips():
    loss = LossFunctionWrapper(losses.binary_crossentropy, reduction="sum", from_logits=True)
    config = loss.get_config()
    assert config["fn"]["config"] == "binary_crossentropy"
    assert config["from_logits"] is True
    clone = LossFunctionWrapper.from_config(config)
    assert clone.fn is losses.binary_crossentropy
    y_true, y_pred = [[0.0, 1.0]], [[0.3, -0.2]]
    assert float(clone(y_true, y_pred)) == pytest.approx(float(loss(y_true, y_pred)))


def test_repr():
    assert repr(losses.MeanSquaredError()) == "<MeanSquaredError name=mean_squared_error>"


# Errors.


@pytest.mark.parametrize("reduction", ["avg", "SUM", 1, ""])
def test_invalid_reduction(reduction):
    with pytest.raises(ValueError, match=r"reduction.*expected one of .*'sum_over_batch_size'.*got"):
        losses.MeanSquaredError(reduction=reduction)


def test_base_call_must_be_overridden():
    with pytest.raises(NotImplementedError, match="must implement `call"):
        Loss()([1.0], [1.0])


def test_wrapper_needs_a_callable():
    with pytest.raises(TypeError, match="expects `fn` to be a function"):
        LossFunctionWrapper("mse")


def test_sample_weight_of_wrong_shape():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(5,\) cannot be applied.*\(4,\)"):
        losses.MeanSquaredError()(np.zeros((4, 2)), np.zeros((4, 2)), sample_weight=np.ones(5))


def test_binary_shape_mismatch():
    with pytest.raises(ValueError, match=r"same shape.*\(4, 2\).*\(4, 3\)"):
        losses.binary_crossentropy(np.zeros((4, 2)), np.zeros((4, 3)))


def test_categorical_shape_mismatch_points_to_sparse():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(np.array([0, 1, 2]), np.full((3, 3), 1 / 3))


def test_categorical_single_class_warns():
    with pytest.warns(UserWarning, match="num_classes > 1"):
        losses.categorical_crossentropy(np.ones((2, 1)), np.ones((2, 1)))


def test_sparse_label_shape_mismatch_points_to_categorical():
    with pytest.raises(ValueError, match=r"expected shape \(3,\).*got y_true.shape=\(3, 3\).*categorical_crossentropy"):
        losses.SparseCategoricalCrossentropy()(np.eye(3), np.full((3, 3), 1 / 3))


@pytest.mark.parametrize("cls", [losses.BinaryCrossentropy, losses.CategoricalCrossentropy])
def test_bad_label_smoothing_and_axis(cls):
    with pytest.raises(ValueError, match=r"label_smoothing` must be in \[0, 1\], got label_smoothing=1.5"):
        cls(label_smoothing=1.5)
    with pytest.raises(ValueError, match="`axis` must be an int, got axis=True"):
        cls(axis=True)


@pytest.mark.parametrize(
    "loss",
    [
        losses.SparseCategoricalCrossentropy(),
        losses.SparseCategoricalCrossentropy(ignore_class=0),
        losses.SparseCategoricalCrossentropy(from_logits=True),
        losses.MeanSquaredError(),
        losses.BinaryCrossentropy(),
    ],
    ids=["sparse_cce", "sparse_cce_ignore_class", "sparse_cce_logits", "mse", "bce"],
)
def test_tensor_inputs_reduce_as_numpy_inputs(loss):
    # Plain tensors take Loss.__call__'s short path, arrays the general one: the same numbers.
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(4), size=6).astype("float32")
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        y_true = np.array([0, 1, 2, 3, 0, 2])
    elif isinstance(loss, losses.BinaryCrossentropy):
        y_true = (rng.random((6, 4)) > 0.5).astype("float32")
    else:
        y_true = rng.random((6, 4)).astype("float32")
    from_arrays = loss(y_true, probabilities)
    from_tensors = loss(torch.from_numpy(y_true), torch.from_numpy(probabilities))
    torch.testing.assert_close(from_tensors, from_arrays)
    masked = torch.from_numpy(probabilities)
    masked._keras_mask = torch.tensor([True, True, False, True, True, True])
    expected = loss(y_true[[0, 1, 3, 4, 5]], probabilities[[0, 1, 3, 4, 5]])
    torch.testing.assert_close(loss(torch.from_numpy(y_true), masked), expected)

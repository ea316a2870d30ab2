"""Regularizers and constraints in training: ember against Keras 3 from the same weights.

Each case trains a small Dense, Conv1D or Conv2D model whose layers carry a
regularizer or a constraint, in both libraries (``shuffle=False``, 2 epochs):
the history (whose ``loss`` includes the regularization terms) and the
predictions must agree. Conv kernels are stored in PyTorch's layout inside
ember, so the Conv cases also check that regularizers and constraints see
Keras's ``(*kernel_size, in, out)`` layout.
"""

import numpy as np
import pytest
import torch

import ember
import ember.constraints  # noqa: F401  (makes `ember.constraints` reachable as `lib.constraints`)
import ember.regularizers  # noqa: F401
from keras_parity.harness import assert_fit_matches_keras

N = 32


def _data(input_shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N,) + input_shape).astype("float32")
    y = (x.reshape(N, -1)[:, :2].sum(axis=1, keepdims=True) + 0.1 * rng.normal(size=(N, 1))).astype("float32")
    return x, y


def _dense_model(layer_kwargs):
    def make(lib):
        inputs = lib.Input(shape=(5,))
        h = lib.layers.Dense(6, activation="tanh", bias_initializer="ones", **layer_kwargs(lib))(inputs)
        return lib.Model(inputs, lib.layers.Dense(1)(h))

    return make


def _conv_model(rank, layer_kwargs):
    def make(lib):
        if rank == 1:
            inputs = lib.Input(shape=(8, 3))
            h = lib.layers.Conv1D(4, 3, activation="tanh", bias_initializer="ones", **layer_kwargs(lib))(inputs)
            h = lib.layers.GlobalAveragePooling1D()(h)
        else:
            inputs = lib.Input(shape=(6, 6, 2))
            h = lib.layers.Conv2D(3, (3, 2), activation="tanh", bias_initializer="ones", **layer_kwargs(lib))(inputs)
            h = lib.layers.GlobalAveragePooling2D()(h)
        return lib.Model(inputs, lib.layers.Dense(1)(h))

    return make


def _sgd(lib):
    return {"optimizer": lib.optimizers.SGD(learning_rate=0.1), "loss": "mse"}


def _adam(lib):
    return {"optimizer": lib.optimizers.Adam(learning_rate=0.05), "loss": "mse", "metrics": ["mae"]}


REGULARIZED = {
    "kernel-l1": lambda lib: {"kernel_regularizer": lib.regularizers.L1(0.05)},
    "kernel-l2-string": lambda lib: {"kernel_regularizer": "l2"},
    "kernel-l1l2-dict": lambda lib: {
        "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.02, "l2": 0.1}}
    },
    "bias-l2": lambda lib: {"bias_regularizer": lib.regularizers.L2(0.3)},
    "activity-l1": lambda lib: {"activity_regularizer": lib.regularizers.L1(0.1)},
    "activity-l2-string": lambda lib: {"activity_regularizer": "l2"},
    "all-three": lambda lib: {
        "kernel_regularizer": lib.regularizers.L1L2(l1=0.01, l2=0.05),
        "bias_regularizer": "l1",
        "activity_regularizer": lib.regularizers.L2(0.02),
    },
}

DENSE_ONLY_REGULARIZED = {
    "kernel-orthogonal-rows": lambda lib: {"kernel_regularizer": lib.regularizers.OrthogonalRegularizer(0.5)},
    "kernel-orthogonal-columns": lambda lib: {
        "kernel_regularizer": lib.regularizers.OrthogonalRegularizer(0.5, mode="columns")
    },
}

CONSTRAINED = {
    "kernel-maxnorm": lambda lib: {"kernel_constraint": lib.constraints.MaxNorm(0.4)},
    "kernel-nonneg-string": lambda lib: {"kernel_constraint": "non_neg"},
    "kernel-unitnorm": lambda lib: {"kernel_constraint": lib.constraints.UnitNorm()},
    "kernel-minmaxnorm": lambda lib: {"kernel_constraint": lib.constraints.MinMaxNorm(0.5, 0.8, rate=0.5)},
    "kernel-maxnorm-last-axis": lambda lib: {"kernel_constraint": lib.constraints.MaxNorm(0.3, axis=-1)},
    "bias-nonneg-dict": lambda lib: {"bias_constraint": {"class_name": "NonNeg", "config": {}}},
    "bias-maxnorm": lambda lib: {"bias_constraint": lib.constraints.MaxNorm(0.5)},
    "with-regularizer": lambda lib: {
        "kernel_constraint": lib.constraints.MaxNorm(0.5),
        "kernel_regularizer": lib.regularizers.L2(0.1),
    },
}


@pytest.mark.parametrize("case", list(REGULARIZED) + list(DENSE_ONLY_REGULARIZED))
def test_dense_regularizers_train_like_keras(case):
    layer_kwargs = {**REGULARIZED, **DENSE_ONLY_REGULARIZED}[case]
    x, y = _data((5,))
    assert_fit_matches_keras(_dense_model(layer_kwargs), _sgd, x, y)


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("case", list(REGULARIZED))
def test_conv_regularizers_train_like_keras(case, rank):
    x, y = _data((8, 3) if rank == 1 else (6, 6, 2), seed=rank)
    assert_fit_matches_keras(_conv_model(rank, REGULARIZED[case]), _sgd, x, y)


@pytest.mark.parametrize("case", list(CONSTRAINED))
def test_dense_constraints_train_like_keras(case):
    x, y = _data((5,), seed=3)
    assert_fit_matches_keras(_dense_model(CONSTRAINED[case]), _adam, x, y)


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("case", list(CONSTRAINED))
def test_conv_constraints_train_like_keras(case, rank):
    x, y = _data((8, 3) if rank == 1 else (6, 6, 2), seed=4 + rank)
    assert_fit_matches_keras(_conv_model(rank, CONSTRAINED[case]), _adam, x, y)


@pytest.mark.parametrize(
    "rank, axis",
    [(1, [0, 1]), (2, [0, 1, 2]), (2, [0, 1]), (2, 2)],
)
def test_conv_max_norm_axis_is_keras_layout(rank, axis):
    """``MaxNorm(axis=[0, 1, 2])`` bounds each Conv2D filter's norm, as in Keras."""

    def layer_kwargs(lib):
        return {"kernel_constraint": lib.constraints.MaxNorm(0.2, axis=axis)}

    x, y = _data((8, 3) if rank == 1 else (6, 6, 2), seed=7)
    assert_fit_matches_keras(_conv_model(rank, layer_kwargs), _adam, x, y)
    model = _conv_model(rank, layer_kwargs)(ember)
    model.compile(**_adam(ember))
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    kernel = model.layers[1].get_weights()[0]  # Keras layout (*kernel_size, in, out)
    norms = np.sqrt((kernel**2).sum(axis=tuple(axis) if isinstance(axis, list) else axis))
    assert norms.max() <= 0.2 + 1e-6


def test_training_loss_includes_the_regularization_terms():
    """With a learning rate of 0, the logged loss is the data loss plus the penalties."""
    x, y = _data((5,))

    def layer_kwargs(lib):
        return {
            "kernel_regularizer": lib.regularizers.L2(0.3),
            "bias_regularizer": lib.regularizers.L1(0.2),
            "activity_regularizer": lib.regularizers.L1(0.1),
        }

    model = _dense_model(layer_kwargs)(ember)
    model.compile(optimizer=ember.optimizers.SGD(learning_rate=0.0), loss="mse")
    history = model.fit(x, y, epochs=1, batch_size=N, verbose=0).history
    kernel, bias = model.layers[1].get_weights()
    hidden = np.tanh(x @ kernel + bias)
    prediction = model.predict(x, verbose=0)
    expected = (
        np.mean((prediction - y) ** 2)
        + 0.3 * np.sum(kernel**2)
        + 0.2 * np.sum(np.abs(bias))
        + 0.1 * np.sum(np.abs(hidden)) / N
    )
    assert history["loss"][0] == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------------- model.losses
def _losses(model):
    return [float(loss.detach()) for loss in model.losses]


def _two_layer_model(lib):
    inputs = lib.Input(shape=(4,))
    h = lib.layers.Dense(
        5,
        kernel_regularizer=lib.regularizers.L1(0.1),
        bias_regularizer="l2",
        activity_regularizer=lib.regularizers.L2(0.5),
        bias_initializer="ones",
    )(inputs)
    h = lib.layers.Dense(3, kernel_regularizer=lib.regularizers.OrthogonalRegularizer(0.3, "columns"))(h)
    h = lib.layers.Reshape((3, 1))(h)
    outputs = lib.layers.Conv1D(2, 2, kernel_regularizer=lib.regularizers.L1L2(0.05, 0.2), bias_regularizer="l1")(h)
    return lib.Model(inputs, outputs)


def test_model_losses_match_keras_before_and_after_a_call(keras):
    ours = _two_layer_model(ember)
    theirs = _two_layer_model(keras)
    theirs.set_weights(ours.get_weights())
    assert len(ours.losses) == 5
    np.testing.assert_allclose(_losses(ours), _losses(theirs), rtol=1e-6)

    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    ours(torch.as_tensor(x))
    theirs(x)
    assert len(ours.losses) == 6
    np.testing.assert_allclose(_losses(ours), _losses(theirs), rtol=1e-6)


def test_model_losses_values_match_numpy():
    model = _two_layer_model(ember)
    k1, b1, k2, b2, k3, b3 = model.get_weights()
    units = k2 / np.linalg.norm(k2, axis=0, keepdims=True)
    cosines = np.abs(units.T @ units)[~np.eye(3, dtype=bool)]
    expected = [
        0.1 * np.abs(k1).sum(),
        0.01 * (b1**2).sum(),
        0.3 * cosines.mean(),
        0.05 * np.abs(k3).sum() + 0.2 * (k3**2).sum(),
        0.01 * np.abs(b3).sum(),
    ]
    np.testing.assert_allclose(sorted(_losses(model)), sorted(expected), rtol=1e-5)
    x = np.ones((4, 4), dtype="float32")
    model(torch.as_tensor(x))
    activity = 0.5 * ((x @ k1 + b1) ** 2).sum() / 4
    assert any(v == pytest.approx(activity, rel=1e-5) for v in _losses(model))


def test_regularization_gradient_reaches_conv_kernel_in_keras_layout():
    layer = ember.layers.Conv2D(2, (3, 2), kernel_regularizer=ember.regularizers.L2(1.0), use_bias=False)
    layer(torch.ones(1, 4, 4, 3))
    (penalty,) = layer.losses
    penalty.backward()
    # d/dw sum(w^2) = 2w, in whatever layout the kernel is stored.
    torch.testing.assert_close(layer.kernel.grad, 2 * layer.kernel.detach())
    assert float(penalty.detach()) == pytest.approx(float((layer.get_weights()[0] ** 2).sum()), rel=1e-6)


def test_orthogonal_regularizer_on_conv_kernel_fails_as_in_keras(keras):
    with pytest.raises(ValueError, match=r"needs a 2-D tensor, got shape \(3, 2, 3, 2\)"):
        layer = ember.layers.Conv2D(2, (3, 2), kernel_regularizer="orthogonal_regularizer")
        layer(torch.ones(1, 4, 4, 3))
        layer.losses
    with pytest.raises(ValueError, match="rank 2"):
        layer = keras.layers.Conv2D(2, (3, 2), kernel_regularizer="orthogonal_regularizer")
        layer(np.ones((1, 4, 4, 3), "float32"))
        layer.losses


# ---------------------------------------------------------------------- layer configs
LAYERS = {
    "Dense": lambda lib, kw: lib.layers.Dense(3, **kw),
    "Conv1D": lambda lib, kw: lib.layers.Conv1D(3, 2, **kw),
    "Conv2D": lambda lib, kw: lib.layers.Conv2D(3, 2, **kw),
}
KEYS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint")


@pytest.mark.parametrize("layer", list(LAYERS))
def test_layer_config_matches_keras_and_round_trips(keras, layer):
    kwargs = {
        "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.5, "l2": 0.25}},
        "bias_regularizer": "l2",
        "activity_regularizer": None,
        "kernel_constraint": "max_norm",
        "bias_constraint": {"class_name": "NonNeg", "config": {}},
    }
    ours = LAYERS[layer](ember, kwargs)
    theirs = LAYERS[layer](keras, kwargs)
    config = ours.get_config()
    keras_config = theirs.get_config()
    for key in KEYS:
        # Keras's Dense leaves out `activity_regularizer` when it is None; ember always writes it.
        assert config[key] == keras_config.get(key), key
    clone = type(ours).from_config(config)
    assert isinstance(clone.kernel_regularizer, ember.regularizers.L1L2)
    assert clone.kernel_regularizer.get_config() == {"l1": 0.5, "l2": 0.25}
    assert isinstance(clone.kernel_constraint, ember.constraints.MaxNorm)
    assert isinstance(clone.bias_constraint, ember.constraints.NonNeg)
    assert {key: clone.get_config()[key] for key in KEYS} == {key: config[key] for key in KEYS}


def test_layer_config_keeps_plain_callables():
    def penalty(w):
        return w.abs().sum()

    def clip(w):
        return torch.clamp(w, -1, 1)

    layer = ember.layers.Dense(2, kernel_regularizer=penalty, kernel_constraint=clip)
    config = layer.get_config()
    assert config["kernel_regularizer"] is penalty and config["kernel_constraint"] is clip
    assert ember.layers.Dense.from_config(config).kernel_regularizer is penalty


@pytest.mark.parametrize("layer", list(LAYERS))
def test_layer_rejects_unknown_identifiers(layer):
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'"):
        LAYERS[layer](ember, {"kernel_regularizer": "l3"})
    with pytest.raises(ValueError, match="Unknown constraint 'maxnorm'"):
        LAYERS[layer](ember, {"bias_constraint": "maxnorm"})
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier 0.1"):
        LAYERS[layer](ember, {"activity_regularizer": 0.1})

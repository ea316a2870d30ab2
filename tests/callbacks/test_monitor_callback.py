"""The improvement rule shared by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau.

`mode="auto"` infers the direction from the compiled metric a name refers to;
the oracle is Keras's EarlyStopping on a model compiled with the same metrics.
"""

import numpy as np
import pytest
from fake_training import EmberFakeModel, KerasFakeModel, run_epochs

import ember
from ember.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from ember.callbacks.monitor_callback import metric_direction


def custom_metric(y_true, y_pred):
    return (y_pred - y_true).mean()


def _metrics(lib):
    mae = lib.losses.mean_absolute_error
    return ["accuracy", "mae", "mse", lib.metrics.AUC(), lib.metrics.Precision(), lib.metrics.CosineSimilarity(),
            custom_metric, lib.metrics.MeanMetricWrapper(mae, name="mean_of_loss_fn")]


class _ModelWithFlag:
    """Wraps a compiled model so the scripted run can flag `stop_training` without touching fit."""

    def __init__(self, model):
        self.metrics = model.metrics
        self.stop_training = False

    def mark_weights(self, value):
        pass


def _direction(lib, model, monitor):
    """"min" or "max" as the callback behaves on [1.0, 2.0] with patience 0, or the error it raises."""
    callback = lib.callbacks.EarlyStopping(monitor=monitor, patience=0)
    try:
        seen = run_epochs(callback, _ModelWithFlag(model), [{monitor: 1.0}, {monitor: 2.0}])
    except ValueError as error:
        return f"ValueError: {'maximized or minimized' in str(error)}"
    return "min" if len(seen) == 2 and callback.stopped_epoch == 1 else "max"


def test_auto_mode_direction_matches_keras_per_metric(keras):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = (rng.uniform(size=(16, 1)) > 0.5).astype("float32")
    models = []
    for lib in (ember, keras):
        inputs = lib.Input(shape=(3,))
        model = lib.Model(inputs, lib.layers.Dense(1, activation="sigmoid")(inputs))
        model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=_metrics(lib))
        model.evaluate(x, y, verbose=0)  # Keras builds its compiled metrics on the first batch
        models.append(model)
    monitors = ["loss", "val_loss", "accuracy", "val_accuracy", "mae", "val_mse", "auc", "val_precision",
                "cosine_similarity", "custom_metric", "val_custom_metric", "mean_of_loss_fn"]
    ours = {m: _direction(ember, models[0], m) for m in monitors}
    theirs = {m: _direction(keras, models[1], m) for m in monitors}
    assert ours == theirs
    assert ours["custom_metric"] == "ValueError: True"  # the direction of a custom function is unknown
    assert ours["val_accuracy"] == "max" and ours["val_loss"] == "min"


def test_per_output_names_are_resolved_too():
    # Keras 3 cannot infer a direction for per-output keys such as "val_a_loss" (it raises);
    # ember minimizes every "*_loss" key and finds the per-output metric by its logged name.
    inputs = ember.Input(shape=(3,))
    a = ember.layers.Dense(1, name="a")(inputs)
    b = ember.layers.Dense(1, activation="sigmoid", name="b")(inputs)
    model = ember.Model(inputs, [a, b])
    model.compile(optimizer="sgd", loss=["mse", "binary_crossentropy"], metrics=[["mae"], ["accuracy"]])
    for monitor, expected in [("val_a_loss", "min"), ("a_mae", "min"), ("val_b_accuracy", "max")]:
        assert _direction(ember, model, monitor) == expected, monitor


def test_metric_direction_of_ember_metrics():
    assert metric_direction(ember.metrics.F1Score()) == "up"
    assert metric_direction(ember.metrics.RootMeanSquaredError()) == "down"
    assert metric_direction(ember.metrics.Mean()) is None
    assert metric_direction(ember.metrics.MeanMetricWrapper(custom_metric)) is None


def test_comparisons_are_in_float32_like_keras(keras):
    # 0.30000001 and 0.3 are the same float32: no improvement in either library.
    for lib, fake in ((ember, EmberFakeModel), (keras, KerasFakeModel)):
        callback = lib.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=0)
        seen = run_epochs(callback, fake(lib), [{"val_auc": 0.3}, {"val_auc": 0.30000001}])
        assert len(seen) == 2 and callback.stopped_epoch == 1, lib.__name__


@pytest.mark.parametrize("cls, kwargs", [
    (EarlyStopping, {}),
    (ReduceLROnPlateau, {}),
    (ModelCheckpoint, {"filepath": "model.ember"}),
])
def test_unknown_mode_warns_and_falls_back_to_auto(keras, cls, kwargs):
    keras_kwargs = {"filepath": "model.keras"} if kwargs else {}
    with pytest.warns(UserWarning) as theirs:
        getattr(keras.callbacks, cls.__name__)(mode="maximum", **keras_kwargs)
    with pytest.warns(UserWarning, match=f"{cls.__name__} mode 'maximum' is unknown, fallback to auto mode"):
        callback = cls(mode="maximum", **kwargs)
    assert callback.mode == "auto"
    assert str(theirs[0].message) == f"{cls.__name__} mode 'maximum' is unknown, fallback to auto mode."

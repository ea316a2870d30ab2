"""The guide's multi-input, multi-output example: list and dict forms, loss_weights, None loss."""

import numpy as np
import pytest

import ember
from keras_parity.harness import assert_fit_matches_keras


def make_model(lib):
    layers = lib.layers
    image_input = lib.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = lib.Input(shape=(None, 10), name="ts_input")
    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)
    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)
    return lib.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    img_data = rng.random(size=(40, 32, 32, 3)).astype("float32")
    ts_data = rng.random(size=(40, 20, 10)).astype("float32")
    score_targets = rng.random(size=(40, 1)).astype("float32")
    class_targets = rng.random(size=(40, 5)).astype("float32")
    return img_data, ts_data, score_targets, class_targets


def test_list_losses_and_metrics_match_keras(data):
    img, ts, score, cls = data

    def compile_kwargs(lib):
        return {
            "optimizer": lib.optimizers.RMSprop(1e-3),
            "loss": [lib.losses.MeanSquaredError(), lib.losses.CategoricalCrossentropy()],
            "metrics": [[lib.metrics.MeanAbsolutePercentageError(), lib.metrics.MeanAbsoluteError()],
                        [lib.metrics.CategoricalAccuracy()]],
        }

    h, _ = assert_fit_matches_keras(make_model, compile_kwargs, [img, ts], [score, cls])
    assert {"score_output_loss", "class_output_loss", "score_output_mean_absolute_error",
            "class_output_categorical_accuracy"} <= set(h)


def test_dict_losses_metrics_and_loss_weights_match_keras(data):
    img, ts, score, cls = data

    def compile_kwargs(lib):
        return {
            "optimizer": lib.optimizers.RMSprop(1e-3),
            "loss": {"score_output": lib.losses.MeanSquaredError(), "class_output": lib.losses.CategoricalCrossentropy()},
            "metrics": {"score_output": [lib.metrics.MeanAbsolutePercentageError(), lib.metrics.MeanAbsoluteError()],
                        "class_output": [lib.metrics.CategoricalAccuracy()]},
            "loss_weights": {"score_output": 2.0, "class_output": 1.0},
        }

    x = {"img_input": img, "ts_input": ts}
    y = {"score_output": score, "class_output": cls}
    # Convolutions accumulate in a different order than Keras's, and RMSprop's first steps are nearly
    # sign-like (g / sqrt(0.1 g^2)), so float32 rounding differences reach ~1.5e-3 in outputs near 0.
    h, _ = assert_fit_matches_keras(make_model, compile_kwargs, x, y, predict_atol=3e-3)
    for epoch in range(2):
        # per-output losses are epoch means; the total is their weighted sum
        assert h["loss"][epoch] == pytest.approx(2 * h["score_output_loss"][epoch] + h["class_output_loss"][epoch], rel=1e-4)


def test_none_loss_and_partial_dict_as_the_guide_allows(data):
    """Keras 3 rejects a loss dict that leaves an output out; the guide allows it, and so does ember."""
    img, ts, score, cls = data
    histories = []
    for loss in ([None, "categorical_crossentropy"], {"class_output": "categorical_crossentropy"}):
        ember.backend.clear_session()
        model = make_model(ember)
        model.set_weights(reference_weights(model))
        model.compile(optimizer=ember.optimizers.RMSprop(1e-3), loss=loss)
        histories.append(model.fit([img, ts], [score, cls], batch_size=32, epochs=1, shuffle=False, verbose=0).history)
    assert histories[0] == histories[1]
    assert list(histories[0]) == ["loss"]


_REFERENCE = {}


def reference_weights(model):
    if "w" not in _REFERENCE:
        _REFERENCE["w"] = model.get_weights()
    return _REFERENCE["w"]


def test_flat_metric_list_applies_to_every_output(data):
    img, ts, score, cls = data
    model = make_model(ember)
    model.compile(optimizer="rmsprop", loss=["mse", "categorical_crossentropy"], metrics=["mae"])
    logs = model.evaluate([img, ts], [score, cls], verbose=0, return_dict=True)
    p_score, p_cls = model.predict([img, ts], verbose=0)
    assert logs["score_output_mae"] == pytest.approx(np.mean(np.abs(p_score - score)), rel=1e-5)
    assert logs["class_output_mae"] == pytest.approx(np.mean(np.abs(p_cls - cls)), rel=1e-5)


def test_routing_errors(data):
    img, ts, score, cls = data
    model = make_model(ember)
    with pytest.raises(ValueError, match=r"keys \['scor_output'\] that are not output names"):
        model.compile(loss={"scor_output": "mse"})
    with pytest.raises(ValueError, match="list of 3 entries but the model has 2 outputs"):
        model.compile(loss=["mse", "mse", "mse"])
    with pytest.raises(ValueError, match="3 lists but the model has 2 outputs"):
        model.compile(loss="mse", metrics=[["mae"], ["mae"], ["mae"]])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="single output"):
        model.fit([img, ts], [score, cls], class_weight={0: 1.0}, verbose=0)


def test_sample_weight_per_output(data):
    img, ts, score, cls = data
    model = make_model(ember)
    model.compile(optimizer="rmsprop", loss=["mse", "categorical_crossentropy"])
    sw_score = np.zeros(40)
    sw_score[:10] = 1.0
    logs = model.evaluate([img, ts], [score, cls], sample_weight=[sw_score, np.ones(40)], batch_size=40,
                          verbose=0, return_dict=True)
    p_score, _ = model.predict([img, ts], verbose=0)
    assert logs["score_output_loss"] == pytest.approx(np.sum((p_score[:10] - score[:10]) ** 2) / 40, rel=1e-5)
    as_dict = model.evaluate({"img_input": img, "ts_input": ts}, {"score_output": score, "class_output": cls},
                             sample_weight={"score_output": sw_score, "class_output": np.ones(40)},
                             batch_size=40, verbose=0, return_dict=True)
    assert as_dict == pytest.approx(logs)

"""Differential tests: every learning-rate schedule drives SGD and Adam in ember exactly as in Keras.

48 samples in batches of 8 give 6 optimizer steps per epoch; over 3 epochs (18
steps) each schedule crosses its interesting points: staircase periods,
boundaries, polynomial cycles, the end of a warmup, cosine restarts.
"""

import numpy as np
import pytest

import ember
import ember.optimizers.schedules as schedules
from keras_parity.harness import assert_fit_matches_keras, dense_model

N, FEATURES = 48, 4

SCHEDULES = {
    "exponential_staircase": (
        "ExponentialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 4, "decay_rate": 0.5, "staircase": True},
    ),
    "exponential": ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.7}),
    "piecewise": ("PiecewiseConstantDecay", {"boundaries": [3, 9, 14], "values": [0.1, 0.03, 0.2, 0.01]}),
    "polynomial_cycle": (
        "PolynomialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 5, "end_learning_rate": 0.01, "power": 2.0, "cycle": True},
    ),
    "inverse_time": (
        "InverseTimeDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 1.5, "staircase": True},
    ),
    "cosine_warmup": (
        "CosineDecay",
        {"initial_learning_rate": 0.01, "decay_steps": 10, "alpha": 0.1, "warmup_target": 0.1, "warmup_steps": 5},
    ),
    "cosine_restarts": (
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 3, "t_mul": 1.5, "m_mul": 0.8, "alpha": 0.05},
    ),
}
OPTIMIZERS = {"SGD": {"momentum": 0.5}, "Adam": {}}


def _data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    y = (x @ rng.normal(size=(FEATURES, 2)) + 0.1 * rng.normal(size=(N, 2))).astype("float32")
    return x, y


def _compile_kwargs(optimizer_name, schedule_name):
    class_name, schedule_kwargs = SCHEDULES[schedule_name]
    scale = 0.1 if optimizer_name == "Adam" else 1.0  # Adam's steps do not shrink with the gradient

    def compile_kwargs(lib):
        kwargs = dict(schedule_kwargs)
        for key in ("initial_learning_rate", "end_learning_rate", "warmup_target"):
            if key in kwargs:
                kwargs[key] *= scale
        if "values" in kwargs:
            kwargs["values"] = [value * scale for value in kwargs["values"]]
        library_schedules = schedules if lib is ember else lib.optimizers.schedules
        schedule = getattr(library_schedules, class_name)(**kwargs)
        optimizer = getattr(lib.optimizers, optimizer_name)(learning_rate=schedule, **OPTIMIZERS[optimizer_name])
        return {"optimizer": optimizer, "loss": "mse", "metrics": ["mae"]}

    return compile_kwargs


@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("schedule_name", sorted(SCHEDULES))
def test_fit_with_schedule_matches_keras(schedule_name, optimizer_name):
    x, y = _data()
    history, _ = assert_fit_matches_keras(
        dense_model(FEATURES, 2), _compile_kwargs(optimizer_name, schedule_name), x, y, epochs=3, batch_size=8
    )
    assert history["loss"][-1] < history["loss"][0]


def test_the_schedule_changes_training():
    """The parity above is not vacuous: training with a schedule differs from its constant initial rate."""
    x, y = _data()
    histories = []
    for learning_rate in (schedules.PiecewiseConstantDecay([3], [0.1, 0.01]), 0.1):
        model = dense_model(FEATURES, 2)(ember)
        model.set_weights([np.full_like(w, 0.1) for w in model.get_weights()])
        model.compile(optimizer=ember.optimizers.SGD(learning_rate=learning_rate), loss="mse")
        histories.append(model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"])
    assert histories[0][0] != pytest.approx(histories[1][0], rel=1e-3)

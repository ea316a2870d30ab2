"""Every optimizer, and every common optimizer argument, trained through ``fit`` in ember and Keras.

Each case trains the same tiny model from the same weights for two epochs in both
libraries (``keras_parity.harness``) and compares the per-epoch history and the
predictions. 32 samples in batches of 8 give 4 steps per epoch, so accumulation
over 3 steps and EMA overwrites every 3 updates cross the epoch boundary, and the
final ``finalize_variable_values`` call (EMA weights copied into the model) is
covered by the predictions check.
"""

import numpy as np
import pytest
import torch

import ember
from keras_parity.harness import assert_fit_matches_keras, dense_model

# (optimizer class, keyword arguments): every optimizer with its notable arguments.
OPTIMIZER_CASES = [
    ("SGD", {"learning_rate": 0.05}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.01}),
    ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {"learning_rate": 0.02}),
    ("Nadam", {"learning_rate": 0.01}),
    ("Ftrl", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.01,
              "l2_shrinkage_regularization_strength": 0.01, "beta": 0.1}),
    ("Lion", {"learning_rate": 0.003}),
    ("Adafactor", {"learning_rate": 0.01}),
    ("Adafactor", {"learning_rate": 0.01, "relative_step": False, "clip_threshold": 0.5}),
]

# Each common argument, on an optimizer where it changes the trajectory.
COMMON_CASES = [
    ("Adam", {"learning_rate": 0.01, "weight_decay": 0.05}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "clipnorm": 0.1}),
    ("RMSprop", {"learning_rate": 0.01, "clipvalue": 0.05}),
    ("Adam", {"learning_rate": 0.01, "global_clipnorm": 0.1}),
    ("Adam", {"learning_rate": 0.01, "use_ema": True}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "use_ema": True, "ema_momentum": 0.5}),
    ("Nadam", {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 3}),
    ("SGD", {"learning_rate": 0.1, "gradient_accumulation_steps": 3}),
    ("Adam", {"learning_rate": 0.01, "gradient_accumulation_steps": 2, "weight_decay": 0.1}),
    ("Lion", {"learning_rate": 0.003, "gradient_accumulation_steps": 3, "use_ema": True,
              "ema_overwrite_frequency": 1}),
]


def _case_id(case):
    name, kwargs = case
    return f"{name}({','.join(f'{k}={v}' for k, v in kwargs.items())})"


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]]) + 0.1).astype("float32")
    return x, y


@pytest.mark.parametrize("case", OPTIMIZER_CASES + COMMON_CASES, ids=_case_id)
def test_fit_matches_keras(case):
    name, kwargs = case
    x, y = _data()

    def compile_kwargs(lib):
        return {"optimizer": getattr(lib.optimizers, name)(**kwargs), "loss": "mse", "metrics": ["mae"]}

    ours, _ = assert_fit_matches_keras(dense_model(4, 1), compile_kwargs, x, y, epochs=2, batch_size=8)
    assert ours["loss"][1] != ours["loss"][0]  # training moved the weights


@pytest.mark.parametrize("identifier", ["adamw", "adagrad", "adadelta", "adamax", "nadam", "ftrl", "lion", "adafactor"])
def test_fit_with_string_identifier_matches_keras(identifier):
    x, y = _data()
    assert_fit_matches_keras(
        dense_model(4, 1), lambda lib: {"optimizer": identifier, "loss": "mse"}, x, y, epochs=2, batch_size=8
    )


def test_fit_with_ema_ends_on_the_averaged_weights():
    """After fit, the weights are the optimizer's moving averages (not the last raw step)."""
    x, y = _data()
    model = dense_model(4, 1)(ember)
    optimizer = ember.optimizers.SGD(learning_rate=0.1, momentum=0.9, use_ema=True, ema_momentum=0.5)
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    averages = [v for v in optimizer.variables if v.name.endswith("_average")]
    assert len(averages) == len(model.trainable_weights) == 4
    for weight, average in zip(model.trainable_weights, averages):
        np.testing.assert_array_equal(weight.detach().numpy(), average.numpy())


def test_torch_optimizer_in_compile_trains_like_a_torch_loop():
    """A `torch.optim.Optimizer` passed to compile drives fit exactly as a hand-written loop would."""
    x, y = _data()
    torch.manual_seed(0)
    model = dense_model(4, 1)(ember)
    reference = dense_model(4, 1)(ember)
    reference.set_weights(model.get_weights())
    model.compile(optimizer=torch.optim.Adam(model.parameters(), lr=0.01), loss="mse")
    history = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history

    optimizer = torch.optim.Adam(reference.parameters(), lr=0.01)
    for _ in range(2):
        for start in range(0, 32, 8):
            optimizer.zero_grad()
            prediction = reference(torch.from_numpy(x[start : start + 8]))
            torch.nn.functional.mse_loss(prediction, torch.from_numpy(y[start : start + 8])).backward()
            optimizer.step()
    assert history["loss"][1] < history["loss"][0]
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)

"""Shared harness for differential tests against Keras 3 (torch backend).

``assert_fit_matches_keras(make_model, compile_kwargs, x, y)`` builds the same
model in ember and in Keras, copies ember's initial weights into Keras with
``set_weights``, compiles both with ``compile_kwargs(lib)`` (called once per
library so each gets its own loss/metric/optimizer objects), trains both with
``shuffle=False`` and compares history keys, per-epoch values and predictions.

Example::

    def make_model(lib):
        inputs = lib.Input(shape=(4,))
        return lib.Model(inputs, lib.layers.Dense(3, activation="softmax")(inputs))

    def compile_kwargs(lib):
        return {"optimizer": lib.optimizers.Adam(), "loss": lib.losses.Poisson(),
                "metrics": [lib.metrics.KLDivergence()]}

    assert_fit_matches_keras(make_model, compile_kwargs, x, y)
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import ember  # noqa: E402

__all__ = ["assert_fit_matches_keras", "dense_model"]


def dense_model(input_dim, units, activation=None, hidden=8):
    """A small Dense model factory usable with either library."""

    def make(lib):
        inputs = lib.Input(shape=(input_dim,), name="inputs")
        h = lib.layers.Dense(hidden, activation="tanh", name="hidden")(inputs)
        outputs = lib.layers.Dense(units, activation=activation, name="outputs")(h)
        return lib.Model(inputs=inputs, outputs=outputs)

    return make


def assert_fit_matches_keras(
    make_model,
    compile_kwargs,
    x,
    y,
    epochs=2,
    batch_size=16,
    rtol=2e-3,
    atol=1e-5,
    predict_rtol=5e-3,
    predict_atol=1e-5,
    **fit_kwargs,
):
    """Train in both libraries from the same weights; assert the histories and predictions agree.

    Returns ``(ember_history, keras_history)`` (dicts) for further checks.
    """
    ours = make_model(ember)
    theirs = make_model(keras)
    theirs.set_weights(ours.get_weights())
    ours.compile(**compile_kwargs(ember))
    theirs.compile(**compile_kwargs(keras))
    h_ours = ours.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0, **fit_kwargs).history
    h_theirs = theirs.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0, **fit_kwargs).history
    assert sorted(h_ours) == sorted(h_theirs), f"history keys differ: {sorted(h_ours)} vs {sorted(h_theirs)}"
    for key in h_theirs:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=rtol, atol=atol, err_msg=f"history[{key!r}]")
    p_ours = ours.predict(x, verbose=0)
    p_theirs = theirs.predict(x, verbose=0)
    for a, b in zip(_flat(p_ours), _flat(p_theirs)):
        np.testing.assert_allclose(a, b, rtol=predict_rtol, atol=predict_atol, err_msg="predictions")
    return h_ours, h_theirs


def _flat(value):
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]

"""Memory: predict streams outputs into preallocated NumPy arrays; fit's memory stays flat over epochs.

Both measurements run in a fresh Python process, reading its current (VmRSS) and
peak (VmHWM) resident memory from ``/proc/self/status``.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import ember
from ember.trainer.predict_output import PredictOutput

MB = 1024 * 1024

_COMMON = """
import gc, json
import numpy as np, torch
torch.set_num_threads(1)
import ember

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

def peak():
    # This process's own high-water mark (VmHWM starts afresh at exec; ru_maxrss would carry the
    # parent's peak over, e.g. a large test worker's).
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
"""

PREDICT_SCRIPT = _COMMON + """
model = ember.Sequential([ember.Input((4,)), ember.layers.Dense(16)])
model.predict(np.zeros((64, 4), np.float32), batch_size=32, verbose=0)  # warm up allocators and kernels
gc.collect()
base = rss()
x = np.random.default_rng(0).random((1_000_000, 4), dtype=np.float32)
gc.collect()
before, peak_before = rss(), peak()
out = model.predict(x, batch_size=8192, verbose=0)
print(json.dumps({"base": base, "before": before, "peak_before": peak_before, "peak_after": peak(),
                  "inputs": x.nbytes, "outputs": out.nbytes, "shape": list(out.shape)}))
"""

FIT_SCRIPT = _COMMON + """
samples = []

class Sample(ember.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        gc.collect()
        samples.append(rss())

x = np.random.default_rng(0).random((2048, 8), dtype=np.float32)
y = x @ np.ones((8, 1), np.float32)
model = ember.Sequential([ember.Input((8,)), ember.layers.Dense(32, activation="relu"), ember.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse", metrics=["mae"])
model.fit(x, y, batch_size=32, epochs=20, verbose=0, callbacks=[Sample()], validation_split=0.1)
print(json.dumps(samples))
"""


def _run(script):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_predict_on_a_million_samples_peaks_at_inputs_plus_outputs():
    m = _run(PREDICT_SCRIPT)
    assert m["shape"] == [1_000_000, 16]
    margin = 24 * MB
    # Nothing before predict already reached the peak (else the check below would prove nothing).
    assert m["peak_before"] - m["before"] < margin, m
    growth = m["peak_after"] - m["base"]
    assert growth < m["inputs"] + m["outputs"] + margin, {k: v / MB for k, v in m.items() if k != "shape"}


def test_fit_memory_stays_flat_over_20_epochs():
    samples = _run(FIT_SCRIPT)
    assert len(samples) == 20
    growth = max(samples[3:]) - samples[2]
    assert growth < 4 * MB, [round(s / MB, 1) for s in samples]


def _dict_model():
    inputs = ember.Input((3,), name="features")
    hidden = ember.layers.Dense(4, name="hidden")(inputs)
    outputs = {"score": ember.layers.Dense(1, name="score")(hidden), "pair": [hidden, ember.layers.Dense(2)(hidden)]}
    return ember.Model(inputs, outputs)


def _expected(model, x):
    with torch.no_grad():
        out = model(torch.from_numpy(x))
    return ember.tree.map_structure(lambda t: t.numpy(), out)


def _assert_same(actual, expected):
    assert ember.tree.map_structure(lambda _: 0, actual) == ember.tree.map_structure(lambda _: 0, expected)
    for a, b in zip(ember.tree.flatten(actual), ember.tree.flatten(expected)):
        assert isinstance(a, np.ndarray)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_nested_dict_outputs_from_arrays_are_kept():
    model = _dict_model()
    x = np.random.rand(37, 3).astype("float32")
    _assert_same(model.predict(x, batch_size=8, verbose=0), _expected(model, x))


def test_unknown_length_source_joins_batches():
    model = _dict_model()
    x = np.random.rand(20, 3).astype("float32")

    def batches():
        for start in range(0, 20, 6):
            yield (x[start : start + 6],)

    _assert_same(model.predict(batches(), verbose=0), _expected(model, x))


def test_fewer_steps_than_samples_trims_the_output():
    model = _dict_model()
    x = np.random.rand(30, 3).astype("float32")
    _assert_same(model.predict(x, batch_size=8, steps=2, verbose=0), _expected(model, x[:16]))


def test_predict_output_buffer_overflow_falls_back_to_joining():
    out = PredictOutput(num_samples=3)
    out.append({"a": torch.ones(2, 2)})
    out.append({"a": torch.zeros(2, 2)})  # more samples than announced
    np.testing.assert_array_equal(out.result()["a"], np.array([[1, 1], [1, 1], [0, 0], [0, 0]], dtype=np.float32))


def test_predict_output_rejects_a_changing_structure():
    out = PredictOutput(num_samples=4)
    out.append([torch.ones(2, 1), torch.ones(2, 1)])
    with pytest.raises(ValueError, match="a batch gave 1 outputs but the first gave 2"):
        out.append([torch.ones(2, 1)])

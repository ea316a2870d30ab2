"""Workload sizes, synthetic data and timing helpers shared by every framework's runner.

Every workload is described by a ``Spec`` (sizes for a full and a ``--quick``
run). Data is synthetic with the workload's real shapes; nothing is downloaded.
A runner returns ``{"times": [...], "samples": n}``: one wall-clock time per
epoch (or per predict/evaluate pass), the first of which includes warm-up.
"""

import dataclasses
import time

import numpy as np

WORKLOADS = ("mlp", "cnn", "lstm", "sequence", "predict", "evaluate")


@dataclasses.dataclass(frozen=True)
class Spec:
    n_train: int
    n_val: int
    batch: int
    epochs: int  # passes per process; the first is warm-up
    extra: tuple = ()

    def get(self, key):
        return dict(self.extra)[key]


FULL = {
    "mlp": Spec(50_000, 10_000, 64, 3),
    "cnn": Spec(6_400, 0, 128, 3),
    "lstm": Spec(2_560, 0, 64, 3),
    # 100 batches whose __getitem__ sleeps 20 ms, 4 worker processes.
    "sequence": Spec(3_200, 0, 32, 3, (("load_ms", 20.0), ("workers", 4))),
    "predict": Spec(0, 10_000, 64, 4),
    "evaluate": Spec(0, 10_000, 64, 4),
}

QUICK = {
    "mlp": Spec(2_048, 512, 64, 2),
    "cnn": Spec(512, 0, 128, 2),
    "lstm": Spec(256, 0, 64, 2),
    "sequence": Spec(256, 0, 32, 2, (("load_ms", 5.0), ("workers", 2))),
    "predict": Spec(0, 1_024, 64, 2),
    "evaluate": Spec(0, 1_024, 64, 2),
}

MLP_FEATURES, CLASSES = 784, 10
IMAGE_SHAPE = (28, 28, 1)
VOCAB, SEQ_LEN, EMBED, UNITS = 10_000, 100, 64, 64
SEQ_FEATURES = 64


def spec_for(workload, quick):
    return (QUICK if quick else FULL)[workload]


def mlp_data(spec):
    """``(x, y, x_val, y_val)``: flattened 28x28 "digits" and integer labels."""
    rng = np.random.default_rng(0)
    n = spec.n_train + spec.n_val
    x = rng.random((n, MLP_FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, n).astype("int64")
    return x[: spec.n_train], y[: spec.n_train], x[spec.n_train :], y[spec.n_train :]


def cnn_data(spec):
    """``(x, y)``: channels_last 28x28x1 images, as Keras users feed them, and integer labels."""
    rng = np.random.default_rng(1)
    x = rng.random((spec.n_train, *IMAGE_SHAPE), dtype=np.float32)
    y = rng.integers(0, CLASSES, spec.n_train).astype("int64")
    return x, y


def lstm_data(spec):
    """``(x, y)``: token ids of length ``SEQ_LEN`` and binary labels."""
    rng = np.random.default_rng(2)
    x = rng.integers(1, VOCAB, (spec.n_train, SEQ_LEN)).astype("int64")
    y = rng.integers(0, 2, (spec.n_train, 1)).astype("float32")
    return x, y


def slow_batch(index, load_s, batch):
    """One ``(x, y)`` batch of the slow Sequence: sleeps ``load_s`` (reading and decoding files)."""
    time.sleep(load_s)
    rng = np.random.default_rng(index)
    x = rng.standard_normal((batch, SEQ_FEATURES), dtype=np.float32)
    return x, x.sum(axis=1, keepdims=True)


def sequence_sizes(spec):
    """``(num_batches, load_seconds, workers)`` of the slow-Sequence workload."""
    return spec.n_train // spec.batch, spec.get("load_ms") / 1000, spec.get("workers")


class EpochClock:
    """Collects wall-clock durations between ``begin()`` and ``end()``."""

    def __init__(self):
        self.times = []
        self._start = None

    def begin(self, *args, **kwargs):
        self._start = time.perf_counter()

    def end(self, *args, **kwargs):
        self.times.append(time.perf_counter() - self._start)


def timed_passes(fn, passes):
    """Run ``fn()`` ``passes`` times; the wall-clock time of each."""
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times

"""Benchmark: do 4 worker processes hide a slow Sequence behind training?

(``bench/run.py --only sequence`` compares frameworks on this workload; this
script analyses ember's overlap of loading and training in detail.)

Workload: a Sequence of ``--batches`` batches whose ``__getitem__`` sleeps
``--load-ms`` (20 ms, standing in for reading and decoding files) and returns a
(32, 64) float batch. Two consumers:

1. a simulated training step of fixed cost (a loop of small matmuls, calibrated
   to ``--step-ms``), fed by ``SequenceAdapter``;
2. a real ``model.fit(sequence, workers=4, use_multiprocessing=True)`` on a
   small MLP.

For each, it measures the step alone (on in-memory batches), loading alone (the
Sequence read in the main thread) and both together with 4 worker processes
(epoch time after a warm-up epoch; the workers' start-up is printed apart), and
prints ``combined / (model_alone + loading_alone / 4)``. It stays at or below
1.3 when loading overlaps training (perfect overlap gives
``max(model, loading / 4) / (model + loading / 4)``, below 1).

    python bench/sequence_workers.py
    python bench/sequence_workers.py --batches 200 --step-ms 5
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
import ember  # noqa: E402  (the checkout's ember, not an installed one)
from ember.data.sequence_adapter import SequenceAdapter  # noqa: E402
from ember.utils import Sequence  # noqa: E402

BATCH, FEATURES, WORKERS = 32, 64, 4


class SleepySequence(Sequence):
    """``num`` batches; each ``__getitem__`` sleeps ``load_s`` seconds."""

    def __init__(self, num, load_s, **kwargs):
        super().__init__(**kwargs)
        self.num = num
        self.load_s = load_s

    def __len__(self):
        return self.num

    def __getitem__(self, index):
        time.sleep(self.load_s)
        rng = np.random.default_rng(index)
        x = rng.standard_normal((BATCH, FEATURES), dtype=np.float32)
        return x, x.sum(axis=1, keepdims=True)


def calibrate_step(step_ms):
    """A function running ``repeats`` matmuls, with ``repeats`` chosen so one call costs ``step_ms``."""
    weight = torch.randn(FEATURES, FEATURES)

    def step(x, repeats):
        out = torch.as_tensor(x)
        for _ in range(repeats):
            out = torch.tanh(out @ weight)
        return out

    x = np.ones((BATCH, FEATURES), np.float32)
    step(x, 50)
    per_matmul = statistics.median(timed(lambda: step(x, 200)) for _ in range(5)) / 200
    repeats = max(1, round(step_ms / 1000 / per_matmul))
    return lambda batch: step(batch[0], repeats)


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def simulated(args):
    step = calibrate_step(args.step_ms)
    sequence = SleepySequence(args.batches, args.load_ms / 1000)
    in_memory = [sequence.__class__(1, 0)[i] for i in range(args.batches)]
    model_alone = statistics.median(timed(lambda: [step(b) for b in in_memory]) for _ in range(3))
    loading_alone = timed(lambda: [sequence[i] for i in range(args.batches)])
    results = {}
    for label, multiprocessing in (("processes", True), ("threads", False)):
        start = time.perf_counter()
        adapter = SequenceAdapter(sequence, workers=WORKERS, use_multiprocessing=multiprocessing)
        startup = time.perf_counter() - start
        epochs = [timed(lambda: [step(b) for b in adapter]) for _ in range(args.epochs + 1)]
        adapter.close()
        results[label] = (startup, statistics.median(epochs[1:]))
    return model_alone, loading_alone, results


class EpochTimer(ember.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def make_model():
    torch.manual_seed(0)
    model = ember.Sequential([
        ember.Input((FEATURES,)),
        ember.layers.Dense(512, activation="relu"),
        ember.layers.Dense(512, activation="relu"),
        ember.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse")
    return model


def real_fit(args):
    sequence = SleepySequence(args.batches, args.load_ms / 1000)
    x = np.concatenate([SleepySequence(args.batches, 0)[i][0] for i in range(args.batches)])
    y = x.sum(axis=1, keepdims=True)
    timer = EpochTimer()
    make_model().fit(x, y, batch_size=BATCH, epochs=args.epochs + 1, shuffle=False, verbose=0, callbacks=[timer])
    model_alone = statistics.median(timer.times[1:])
    loading_alone = timed(lambda: [sequence[i] for i in range(args.batches)])
    results = {}
    for label, multiprocessing in (("processes", True), ("threads", False)):
        timer = EpochTimer()
        start = time.perf_counter()
        make_model().fit(sequence, epochs=args.epochs + 1, verbose=0, callbacks=[timer], workers=WORKERS,
                         use_multiprocessing=multiprocessing)
        total = time.perf_counter() - start
        results[label] = (total - sum(timer.times), statistics.median(timer.times[1:]))
    return model_alone, loading_alone, results


def report(title, model_alone, loading_alone, results):
    ideal = model_alone + loading_alone / WORKERS
    print(f"\n{title}")
    print(f"  model alone    {model_alone:7.3f} s/epoch")
    print(f"  loading alone  {loading_alone:7.3f} s/epoch (main thread)")
    for label, (startup, combined) in results.items():
        print(f"  combined, {WORKERS} {label:9s} {combined:7.3f} s/epoch  (start-up and other overhead "
              f"{startup:5.2f} s)  combined / (model + loading/{WORKERS}) = {combined / ideal:4.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--load-ms", type=float, default=20.0)
    parser.add_argument("--step-ms", type=float, default=10.0)
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs after one warm-up epoch")
    args = parser.parse_args()
    print(f"{args.batches} batches, __getitem__ sleeps {args.load_ms:g} ms, {WORKERS} workers, "
          f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads")
    report(f"Simulated step of {args.step_ms:g} ms (SequenceAdapter)", *simulated(args))
    report("model.fit(sequence) on a 64-512-512-1 MLP", *real_fit(args))


if __name__ == "__main__":
    main()

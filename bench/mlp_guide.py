"""Benchmark: the guide's MNIST MLP workload in ember vs a hand-written PyTorch loop vs Keras.

Workload (the guide's end-to-end example): 784-64-64-10 MLP, softmax output,
sparse categorical crossentropy, RMSprop, batch 64, 50,000 training and 10,000
validation samples, one validation pass per epoch, with the loss and accuracy
tracked. The data is synthetic with MNIST's shapes, so nothing is downloaded.

Each framework runs in its own fresh process; the script prints the median
epoch time of each and the ratios to the hand-written loop.

    python bench/mlp_guide.py                # all three
    python bench/mlp_guide.py --epochs 4 --skip-keras
    python bench/mlp_guide.py --device cuda
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

N_TRAIN, N_VAL, FEATURES, CLASSES, BATCH = 50_000, 10_000, 784, 10, 64


def make_data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((N_TRAIN + N_VAL, FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, N_TRAIN + N_VAL).astype("float32")
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


class EpochTimer:
    def __init__(self):
        self.times = []
        self._start = None

    def begin(self):
        self._start = time.perf_counter()

    def end(self):
        self.times.append(time.perf_counter() - self._start)


def run_torch(epochs, device):
    import torch
    import torch.nn.functional as F

    x, y, xv, yv = make_data()
    x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).long().to(device)
    xv, yv = torch.from_numpy(xv).to(device), torch.from_numpy(yv).long().to(device)
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, CLASSES),
    ).to(device)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    timer = EpochTimer()
    for _ in range(epochs):
        timer.begin()
        model.train()
        total_loss = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        perm = torch.randperm(N_TRAIN, device=device)
        for start in range(0, N_TRAIN, BATCH):
            index = perm[start : start + BATCH]
            xb, yb = x[index], y[index]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                total_loss += loss * len(yb)
                correct += (logits.argmax(1) == yb).sum()
        model.eval()
        with torch.no_grad():
            val_loss = torch.zeros((), device=device)
            val_correct = torch.zeros((), device=device)
            for start in range(0, N_VAL, BATCH):
                logits = model(xv[start : start + BATCH])
                yb = yv[start : start + BATCH]
                val_loss += F.cross_entropy(logits, yb, reduction="sum")
                val_correct += (logits.argmax(1) == yb).sum()
        float(total_loss), float(correct), float(val_loss), float(val_correct)
        timer.end()
    return timer.times


def run_ember(epochs, device):
    import torch

    import ember

    x, y, xv, yv = make_data()
    inputs = ember.Input(shape=(FEATURES,), name="digits")
    h = ember.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    h = ember.layers.Dense(64, activation="relu", name="dense_2")(h)
    outputs = ember.layers.Dense(CLASSES, activation="softmax", name="predictions")(h)
    model = ember.Model(inputs=inputs, outputs=outputs).to(device)
    model.compile(
        optimizer=ember.optimizers.RMSprop(),
        loss=ember.losses.SparseCategoricalCrossentropy(),
        metrics=[ember.metrics.SparseCategoricalAccuracy()],
    )
    timer = EpochTimer()
    callback = ember.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: timer.begin(), on_epoch_end=lambda epoch, logs: timer.end()
    )
    model.fit(x, y, batch_size=BATCH, epochs=epochs, validation_data=(xv, yv), verbose=0, callbacks=[callback])
    del torch
    return timer.times


def run_keras(epochs, device):
    os.environ["KERAS_BACKEND"] = "torch"
    import keras

    x, y, xv, yv = make_data()
    inputs = keras.Input(shape=(FEATURES,), name="digits")
    h = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    h = keras.layers.Dense(64, activation="relu", name="dense_2")(h)
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="predictions")(h)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    timer = EpochTimer()
    callback = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: timer.begin(), on_epoch_end=lambda epoch, logs: timer.end()
    )
    model.fit(x, y, batch_size=BATCH, epochs=epochs, validation_data=(xv, yv), verbose=0, callbacks=[callback])
    return timer.times


RUNNERS = {"torch": run_torch, "ember": run_ember, "keras": run_keras}


def child(name, epochs, device):
    times = RUNNERS[name](epochs, device)
    print(json.dumps({"name": name, "times": times}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-keras", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.epochs, args.device)
        return
    names = ["torch", "ember"] + ([] if args.skip_keras else ["keras"])
    results = {}
    for name in names:
        out = subprocess.run(
            [sys.executable, __file__, "--child", name, "--epochs", str(args.epochs), "--device", args.device],
            check=True, capture_output=True, text=True,
        )
        times = json.loads(out.stdout.strip().splitlines()[-1])["times"]
        # The first epoch includes warm-up (allocator, lazy init); report the median of the rest.
        steady = times[1:] if len(times) > 1 else times
        results[name] = statistics.median(steady)
    print(f"guide MLP, {N_TRAIN} train + {N_VAL} val samples, batch {BATCH}, device {args.device}")
    for name in names:
        ratio = results[name] / results["torch"]
        print(f"  {name:6s} epoch {results[name]:7.3f} s   {ratio:5.2f}x hand-written torch")


if __name__ == "__main__":
    main()

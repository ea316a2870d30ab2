"""Data-parallel throughput on CPU: the same MLP trained by 1 and by 2 processes (torchrun, Gloo).

Run ``python bench/distributed.py``. Each configuration is launched with
``torchrun --standalone``; rank 0 times the epochs after a warm-up epoch and
reports samples per second. Each process uses ``--threads`` intra-op threads
(default 1), so 2 processes use twice the cores of 1: the table shows how
throughput scales and what the gradient exchange costs. The final losses must
agree (the global batch is the same).
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(os.path.dirname(HERE), "src")


def worker(args):
    import numpy as np
    import torch

    import ember

    world = int(os.environ.get("WORLD_SIZE", "1"))
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.samples, args.features)).astype("float32")
    y = rng.integers(0, 10, size=(args.samples,))
    torch.manual_seed(0)
    model = ember.Sequential([
        ember.Input(shape=(args.features,)),
        ember.layers.Dense(args.hidden, activation="relu"),
        ember.layers.Dense(args.hidden, activation="relu"),
        ember.layers.Dense(10),
    ])
    model.compile(optimizer="adam", loss=ember.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)  # warm-up
    ember.distribute.barrier()
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
    elapsed = time.perf_counter() - start
    if ember.distribute.is_main_process():
        print("RESULT " + json.dumps({
            "processes": world, "seconds": elapsed, "samples_per_s": args.samples * args.epochs / elapsed,
            "final_loss": history.history["loss"][-1],
        }), flush=True)


def launch(processes, args):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               os.path.abspath(__file__), "--worker", "--samples", str(args.samples), "--features",
               str(args.features), "--hidden", str(args.hidden), "--batch-size", str(args.batch_size),
               "--epochs", str(args.epochs), "--threads", str(args.threads)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([SOURCE, env.get("PYTHONPATH", "")])
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{processes} process(es) failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, default=16384)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=256, help="global batch size")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per process")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    rows = [launch(n, args) for n in args.processes]
    base = rows[0]["samples_per_s"]
    print(f"MLP {args.features}-{args.hidden}-{args.hidden}-10, {args.samples} samples, global batch "
          f"{args.batch_size}, {args.epochs} timed epochs, {args.threads} thread(s) per process, "
          f"CPU ({os.cpu_count()} cores), Gloo")
    print(f"{'processes':>9} | {'seconds':>8} | {'samples/s':>10} | {'vs 1 process':>12} | {'final loss':>10}")
    print("-" * 63)
    for row in rows:
        print(f"{row['processes']:>9} | {row['seconds']:>8.2f} | {row['samples_per_s']:>10.0f} | "
              f"{row['samples_per_s'] / base:>11.2f}x | {row['final_loss']:>10.4f}")


if __name__ == "__main__":
    main()

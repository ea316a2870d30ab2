"""ember's benchmark suite: training, predict and evaluate speed against a hand-written PyTorch loop.

Every measurement runs in a fresh Python process. Repeats are interleaved
across frameworks (A B C A B C ...), so slow drifts of a shared machine hit
all of them alike; each process runs a few epochs (the first is warm-up, and
is reported apart), and the tables give the median over repeats of each
process's median steady-state epoch, with its ratio to the hand-written loop
measured in the same run.

Workloads (synthetic data with the real shapes; nothing is downloaded):
  mlp       the guide's MLP: 784-64-64-10, RMSprop, sparse CE + accuracy, batch 64,
            50,000 train + 10,000 validation samples
  cnn       Conv2D 32 3x3 relu, MaxPooling2D, Conv2D 64 3x3 relu, MaxPooling2D, Flatten,
            Dense 10 on 28x28x1 channels_last images, Adam, batch 128
  lstm      Embedding 10k->64, LSTM 64, Dense 1 sigmoid, sequences of 100 tokens, Adam, batch 64
  sequence  a Sequence/Dataset whose __getitem__ sleeps 20 ms per batch, 4 worker processes,
            feeding a 64-512-512-1 MLP
  predict   predict() throughput of the guide's MLP (10,000 samples, batch 64)
  evaluate  evaluate() throughput of the guide's MLP (10,000 samples, batch 64)

Frameworks: torch (the reference), torch-foreach (the same loop with foreach=True
optimizers, as ember's optimizers run), ember, ember-jit (compile(jit_compile=True)),
keras-torch, keras-jax, lightning; optional ones are skipped with a note when
not installed.

    python bench/run.py                          # everything, 3 repeats
    python bench/run.py --quick                  # tiny sizes, 1 repeat
    python bench/run.py --only mlp,cnn --frameworks torch,ember --repeats 5 --json out.json
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import _common  # noqa: E402
import _report  # noqa: E402

# name -> (label, modules that must be importable)
FRAMEWORKS = {
    "torch": ("hand-written PyTorch loop", ()),
    "torch-foreach": ("hand-written loop, foreach=True optimizer", ()),
    "ember": ("ember (eager)", ()),
    "ember-jit": ("ember, jit_compile=True", ()),
    "keras-torch": ("Keras 3, torch backend", ("keras",)),
    "keras-jax": ("Keras 3, JAX backend", ("keras", "jax")),
    "lightning": ("PyTorch Lightning", ("lightning",)),
}


# ---------------------------------------------------------------------- child process
def run_child(framework, workload, quick, device, steps_per_execution=1):
    """Run one measurement in this (fresh) process and return its result dict."""
    spec = _common.spec_for(workload, quick)
    if framework in ("torch", "torch-foreach"):
        import _torch_loop

        _torch_loop.FOREACH = True if framework == "torch-foreach" else None
        return getattr(_torch_loop, workload)(spec, device)
    if framework == "lightning":
        import _lightning

        return getattr(_lightning, workload)(spec, device)
    import _keras_api

    compile_kwargs = {"steps_per_execution": steps_per_execution} if steps_per_execution > 1 else {}
    if framework.startswith("keras"):
        import keras

        result = _keras_api.run(keras, workload, spec, compile_kwargs)
    else:
        import ember

        if framework == "ember-jit":
            compile_kwargs["jit_compile"] = True
        result = _keras_api.run(ember, workload, spec, compile_kwargs, prepare=lambda model: model.to(device))
    result["compile_kwargs"] = compile_kwargs
    return result


def child_environment(framework, threads=None):
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(REPO, "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONWARNINGS"] = "ignore"
    if framework.startswith("keras"):
        env["KERAS_BACKEND"] = framework.split("-", 1)[1]
        env["BENCH_API"] = "keras"
        env.setdefault("JAX_PLATFORMS", "cpu")
    return env


def measure(framework, workload, args):
    """One fresh-process measurement: ``(result, None)`` or ``(None, error note)``."""
    command = [sys.executable, os.path.abspath(__file__), "--child", framework, "--only", workload,
               "--device", args.device] + (["--quick"] if args.quick else [])
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.keep_denormals:
        command.append("--keep-denormals")
    if args.steps_per_execution > 1:
        command += ["--steps-per-execution", str(args.steps_per_execution)]
    try:
        out = subprocess.run(command, capture_output=True, text=True, env=child_environment(framework, args.threads),
                             timeout=args.timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {args.timeout} s"
    lines = out.stdout.strip().splitlines()
    if out.returncode < 0:
        return None, f"killed by signal {-out.returncode}"
    if out.returncode != 0 or not lines or not lines[-1].startswith("{"):
        errors = [line for line in out.stderr.strip().splitlines() if line.strip()]
        return None, (errors[-1] if errors else f"exit status {out.returncode}")[:300]
    return json.loads(lines[-1]), None


# ---------------------------------------------------------------------- parent process
def available(framework):
    import importlib.util

    missing = [m for m in FRAMEWORKS[framework][1] if importlib.util.find_spec(m) is None]
    return None if not missing else f"not installed ({', '.join(missing)})"


def parse_list(value, allowed, argument):
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise SystemExit(f"--{argument} takes a comma-separated list from {', '.join(allowed)}; got {value!r}.")
    return names


def run_all(args, workloads, frameworks):
    runs = {w: {f: [] for f in frameworks} for w in workloads}
    notes = {}
    for framework in frameworks:
        reason = available(framework)
        if reason:
            notes[framework] = f"skipped: {reason}"
    active = [f for f in frameworks if f not in notes]
    for workload in workloads:
        failed = {}
        for repeat in range(args.repeats):
            for framework in active:
                if framework in failed:
                    continue
                start = time.perf_counter()
                result, error = measure(framework, workload, args)
                if error:
                    failed[framework] = error
                    notes.setdefault(f"{workload}/{framework}", f"failed: {error}")
                else:
                    runs[workload][framework].append(result)
                print(f"  [{workload} {repeat + 1}/{args.repeats}] {framework:12s} "
                      f"{time.perf_counter() - start:6.1f} s{'  FAILED' if error else ''}", file=sys.stderr)
    return runs, notes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1 repeat (a smoke run)")
    parser.add_argument("--only", default=",".join(_common.WORKLOADS), help="workloads, comma-separated")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="frameworks, comma-separated")
    parser.add_argument("--repeats", type=int, default=None, help="fresh processes per framework (3; --quick: 1)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads per process (default: the libraries' own choice)")
    parser.add_argument("--keep-denormals", action="store_true",
                        help="leave subnormal floats on (by default every process flushes them to zero, as XLA "
                             "does: torch's RMSprop computes sqrt(v) + eps and slows down on subnormal v)")
    parser.add_argument("--steps-per-execution", type=int, default=1,
                        help="compile(steps_per_execution=N) for ember and Keras (default 1)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed per process (900; --quick: 180)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workloads = parse_list(args.only, _common.WORKLOADS, "only")
    if args.child:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        if not args.keep_denormals:
            torch.set_flush_denormal(True)
        print(json.dumps(run_child(args.child, workloads[0], args.quick, args.device, args.steps_per_execution)))
        return
    frameworks = parse_list(args.frameworks, list(FRAMEWORKS), "frameworks")
    if args.timeout is None:
        args.timeout = 180 if args.quick else 900
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be >= 1, got {args.repeats}.")
    machine = _report.machine_info(REPO)
    runs, notes = run_all(args, workloads, frameworks)
    summary = _report.summarize(runs, quick=args.quick)
    print(_report.markdown(machine, args, summary, notes, {f: FRAMEWORKS[f][0] for f in frameworks}))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "device": args.device, "quick": args.quick, "repeats": args.repeats,
                       "results": summary, "notes": notes, "raw": runs}, f, indent=1)


if __name__ == "__main__":
    main()

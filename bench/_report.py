"""Machine description, medians over repeats, and the Markdown report of ``bench/run.py``."""

import importlib.metadata
import os
import platform
import statistics
import subprocess

import _common

PACKAGES = ("torch", "numpy", "keras", "jax", "jaxlib", "lightning")


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git_revision(repo):
    try:
        out = subprocess.run(["git", "-C", repo, "describe", "--always", "--dirty"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info(repo):
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return {
        "cpu": _cpu_model(),
        "cores": cores,
        "usable_cores": usable,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in PACKAGES},
        "ember_revision": _git_revision(repo),
    }


def _steady(times):
    """The median epoch after the warm-up one (the only one when there is one)."""
    return statistics.median(times[1:]) if len(times) > 1 else times[0]


def summarize(runs, quick=False):
    """``{workload: {framework: stats}}``: medians over repeats, and ratios to the ``torch`` loop."""
    summary = {}
    for workload, by_framework in runs.items():
        rows = {}
        for framework, results in by_framework.items():
            if not results:
                continue
            steady = statistics.median(_steady(r["times"]) for r in results)
            first = statistics.median(r["times"][0] for r in results)
            rows[framework] = {
                "seconds": steady,
                "first_seconds": first,
                "warmup_seconds": max(first - steady, 0.0),
                "samples_per_second": results[0]["samples"] / steady,
                "repeats": len(results),
                "per_repeat_seconds": [_steady(r["times"]) for r in results],
            }
        # The plain loop when it ran, else its foreach variant (the stricter reference).
        reference = rows.get("torch") or rows.get("torch-foreach")
        for stats in rows.values():
            stats["ratio"] = stats["seconds"] / reference["seconds"] if reference else None
            stats["reference"] = ("torch" if "torch" in rows else "torch-foreach") if reference else None
        summary[workload] = rows
    return summary


def _header(machine, args):
    versions = ", ".join(f"{name} {v}" for name, v in machine["versions"].items() if v)
    sizes = "quick (tiny) sizes" if args.quick else "full sizes"
    load = machine["load_average"]
    threads = f"{args.threads} intra-op thread(s)" if args.threads else "default intra-op threads"
    denormals = "subnormal floats kept" if getattr(args, "keep_denormals", False) else "subnormal floats flushed to zero"
    return [
        "## ember benchmarks",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable), "
        f"1-min load average {load:.2f} at start; {machine['platform']}" if load is not None else
        f"- Machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable)",
        f"- Software: Python {machine['python']}, {versions}; ember at {machine['ember_revision']}",
        f"- Device: {args.device}; {threads}; {denormals}; steps_per_execution={getattr(args, 'steps_per_execution', 1)}; {sizes}; {args.repeats} repeat(s), each in a fresh process, interleaved "
        "across frameworks; times are medians over repeats of each process's median steady-state epoch "
        "(or predict/evaluate pass); 'first' is the first epoch/pass, warm-up and compilation included; "
        "ratios are to the plain hand-written loop (`torch`), or to its foreach variant when only that ran.",
        "",
    ]


def markdown(machine, args, summary, notes, labels):
    lines = _header(machine, args)
    lines += [
        "| workload | framework | time / epoch or pass (s) | vs hand-written loop | samples/s | first (s) |",
        "|----------|-----------|-------------------------:|----------------------:|----------:|----------:|",
    ]
    for workload in _common.WORKLOADS:
        for framework, stats in summary.get(workload, {}).items():
            ratio = f"{stats['ratio']:.2f}x" if stats["ratio"] is not None else "n/a"
            lines.append(
                f"| {workload} | {labels[framework]} | {stats['seconds']:.3f} | {ratio} | "
                f"{stats['samples_per_second']:,.0f} | {stats['first_seconds']:.3f} |"
            )
    if notes:
        lines += ["", "Notes:"]
        lines += [f"- {key}: {note}" for key, note in sorted(notes.items())]
    return "\n".join(lines)

"""Smoke test of the benchmark suite: ``bench/run.py --quick`` runs and prints its table.

Timings are never asserted (they depend on the machine); only that every
requested framework measured the workload and the report has its rows.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(ROOT, "bench", "run.py")


def _run(*args, timeout=120):
    return subprocess.run([sys.executable, RUN, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_quick_mlp_prints_table_and_json(tmp_path):
    out_file = tmp_path / "out.json"
    result = _run("--quick", "--only", "mlp", "--frameworks", "torch,ember", "--json", str(out_file))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("- Machine: ") for line in lines)
    assert any(line.startswith("- Software: ") and "torch " in line for line in lines)
    rows = [line for line in lines if line.startswith("| mlp |")]
    assert [row.split("|")[2].strip() for row in rows] == ["hand-written PyTorch loop", "ember (eager)"]
    assert rows[0].split("|")[4].strip() == "1.00x"  # the reference's ratio to itself
    ember_ratio = rows[1].split("|")[4].strip()
    assert ember_ratio.endswith("x") and float(ember_ratio[:-1]) > 0

    report = json.loads(out_file.read_text())
    assert set(report["results"]) == {"mlp"}
    assert set(report["results"]["mlp"]) == {"torch", "ember"}
    ember = report["results"]["mlp"]["ember"]
    assert ember["repeats"] == 1 and ember["seconds"] > 0
    assert abs(ember["samples_per_second"] * ember["seconds"] - 2048) < 1e-6  # the quick MLP's 2,048 samples
    assert len(report["raw"]["mlp"]["ember"][0]["times"]) == 2  # a warm-up epoch and a timed one


def test_unknown_workload_is_rejected_with_the_allowed_names():
    result = _run("--quick", "--only", "resnet", timeout=60)
    assert result.returncode != 0
    assert "--only takes a comma-separated list from mlp, cnn, lstm" in result.stderr
    assert "'resnet'" in result.stderr


def test_flags_reach_every_process_and_ratios_fall_back_to_the_foreach_loop(tmp_path):
    out_file = tmp_path / "out.json"
    result = _run("--quick", "--only", "mlp", "--frameworks", "torch-foreach,ember", "--steps-per-execution", "2",
                  "--keep-denormals", "--json", str(out_file))
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("- Device: "))
    assert "subnormal floats kept" in header and "steps_per_execution=2" in header
    rows = [line for line in result.stdout.splitlines() if line.startswith("| mlp |")]
    assert rows[0].split("|")[4].strip() == "1.00x"  # torch-foreach is the reference when torch did not run
    report = json.loads(out_file.read_text())
    assert report["raw"]["mlp"]["ember"][0]["compile_kwargs"] == {"steps_per_execution": 2}

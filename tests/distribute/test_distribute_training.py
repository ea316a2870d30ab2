"""Two processes under torchrun (CPU, Gloo) train exactly like one.

``dp_worker.py`` runs every scenario of ``dp_scenarios.py`` under
``torchrun --standalone --nproc_per_node=2``; each rank writes its results to
a JSON file. The same scenarios run here, in one process, as the reference.
One launch serves all checks, since starting processes dominates the time.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np

import dp_scenarios
import ember

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "dp_worker.py")
LAUNCH_TIMEOUT = 240  # a hang fails the test instead of blocking the suite
TOLERANCE = 1e-4


def _launch(mode, directory, timeout=LAUNCH_TIMEOUT):
    launcher_variables = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
    env = {k: v for k, v in os.environ.items() if k not in launcher_variables}
    source = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([source, env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "--monitor-interval=0.1", WORKER, mode, str(directory)]
    # A session of its own: on a timeout the launcher and its workers are all killed, none left behind.
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _close(actual, expected, what):
    if isinstance(expected, dict):
        assert sorted(actual) == sorted(expected), f"{what}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            _close(actual[key], expected[key], f"{what}[{key!r}]")
    elif isinstance(expected, list) and expected and isinstance(expected[0], list):
        assert len(actual) == len(expected), what
        for i, (a, e) in enumerate(zip(actual, expected)):
            _close(a, e, f"{what}[{i}]")
    else:
        np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                                   rtol=TOLERANCE, atol=TOLERANCE, err_msg=what)


def test_two_processes_train_like_one(tmp_path):
    started = time.monotonic()
    launched = _launch("all", tmp_path / "dp")
    assert launched.returncode == 0, launched.stdout[-3000:] + launched.stderr[-3000:]
    ranks = [json.loads((tmp_path / "dp" / f"rank{r}.json").read_text()) for r in (0, 1)]
    (tmp_path / "one").mkdir()
    reference = dp_scenarios.run_all(str(tmp_path / "one"), 0)
    assert time.monotonic() - started < LAUNCH_TIMEOUT

    for rank, results in enumerate(ranks):
        assert (results["rank"], results["world_size"]) == (rank, 2)
        # Same history, weights, evaluate results and predictions (in sample order) on every rank,
        # unshuffled (SGD) and shuffled with a seed (Adam); the last global batch has 1 sample.
        for name in ("parity_unshuffled", "parity_shuffled", "backup"):
            _close(results[name], reference[name], f"rank {rank} {name}")
        # validation_split + EarlyStopping + ModelCheckpoint + CSVLogger + TensorBoard: same epochs, only rank 0 writes.
        run = results["callbacks"]
        _close(run["history"], reference["callbacks"]["history"], f"rank {rank} callbacks history")
        assert (run["epochs_run"], run["stopped_epoch"]) == (
            reference["callbacks"]["epochs_run"], reference["callbacks"]["stopped_epoch"])
        assert reference["callbacks"]["epochs_run"] < 20  # EarlyStopping did stop
        assert run["wrote_checkpoint"] is (rank == 0) and run["wrote_csv"] is (rank == 0)
        assert run["wrote_tensorboard"] is (rank == 0)
        # A Sequence (round-robin batches) and a torch Dataset (DistributedSampler) shard by index:
        # global step g covers samples 8g..8g+7, like arrays in batches of 8.
        for source in ("sequence", "dataset"):
            _close(results["sources"][source], reference["sources"]["arrays8"], f"rank {rank} {source} weights")
        assert len(results["sources"]["sequence_predict"]) == 16
        _close(results["sources"]["sequence_predict"], results["sources"]["array_predict"], f"rank {rank} predict")
        assert re.search(r"must be a multiple of 2; got batch_size=7\. Pass e\.g\. batch_size=8",
                         results["bad_batch_size"])
        # Metric state: each rank added rank + 1 (1 and 2).
        assert results["metric_states"] == {"total": [3.0, 3.0], "average": 1.5, "first": 1.0,
                                            "own": float(rank + 1), "maximum": 2.0}
        _close(results["progress"], reference["progress"], f"rank {rank} verbose evaluate")
        # strategy="fsdp": the weights really are sharded, and training, evaluate and predict match.
        fsdp, fsdp_reference = dict(results["fsdp"]), dict(reference["fsdp"])
        assert fsdp.pop("sharded") == ["DTensor"] * 4 and fsdp_reference.pop("sharded") == ["Variable"] * 4
        _close(fsdp, fsdp_reference, f"rank {rank} fsdp")
    _close(ranks[1]["sources"]["sequence_shuffled"], ranks[0]["sources"]["sequence_shuffled"],
           "shuffled Sequence weights")
    assert reference["bad_batch_size"] is None  # one process: any batch size
    # Only rank 0 prints progress: one "Epoch 1/2" header and one evaluate bar.
    assert launched.stdout.count("Epoch 1/2") == 1, launched.stdout
    assert len(re.findall(r"3/3 \S+ \S+ \S+/step - loss", launched.stdout)) == 1, launched.stdout


def test_one_failing_rank_ends_the_job_promptly(tmp_path):
    started = time.monotonic()
    launched = _launch("fail", tmp_path, timeout=120)
    elapsed = time.monotonic() - started
    assert launched.returncode != 0
    assert "rank 1 fails on purpose" in launched.stdout + launched.stderr
    assert elapsed < 60, f"the job took {elapsed:.0f} s to end after one rank raised"

"""BackupAndRestore: when backups are written and deleted (Keras 3 as the oracle), and exact resumption.

The oracle for resumption is an uninterrupted run with the same seed: after an
interruption (an exception from a callback, or the process killed with
SIGKILL) and a restart, the final weights and the History must equal it.
"""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from safetensors import safe_open

import ember
from ember.callbacks import BackupAndRestore, Callback, CallbackList
from ember.callbacks.backup_and_restore import BACKUP_FILENAME

EPOCHS = 3
BATCH_SIZE = 8  # 32 training samples: 4 batches per epoch


def _data(samples=40):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(samples, 4)).astype("float32")
    y = (x @ np.array([[0.5], [-1.0], [0.25], [2.0]], dtype="float32") + 0.1).astype("float32")
    return x, y


def _model(units=8):
    ember.utils.set_random_seed(0)
    inputs = ember.Input(shape=(4,))
    hidden = ember.layers.Dense(units, activation="relu")(inputs)
    hidden = ember.layers.Dropout(0.3)(hidden)
    hidden = ember.layers.Dropout(0.2, seed=5)(hidden)
    model = ember.Model(inputs, ember.layers.Dense(1)(hidden))
    model.compile(optimizer=ember.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


class NoisyLearningRate(Callback):
    """Draws from Python's and NumPy's global generators every batch, and lets it show in the weights."""

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(0.01 * (1 + np.random.uniform() + random.random()))


class Interrupt(Callback):
    """Raises after training batch `batch` of epoch `epoch` (or when epoch `epoch` begins, for `batch=None`)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if self.at == (epoch, None):
            raise RuntimeError("interrupted")

    def on_train_batch_end(self, batch, logs=None):
        if self.at == (self.epoch, batch):
            raise RuntimeError("interrupted")


class FirstBatch(Callback):
    """Records the (epoch, batch) of the first training batch of a fit."""

    def on_train_begin(self, logs=None):
        self.first, self.epoch = None, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.first is None:
            self.first = (self.epoch, batch)


def _fit(model, callbacks=(), x=None, y=None, **kwargs):
    if x is None:
        x, y = _data()
    kwargs = {"batch_size": BATCH_SIZE, "epochs": EPOCHS, "validation_split": 0.2, "verbose": 0, **kwargs}
    return model.fit(x, y, callbacks=list(callbacks), **kwargs)


def _assert_same_training(model, history, reference, reference_history):
    for got, expected in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert history.history == reference_history.history
    assert history.epoch == reference_history.epoch


def _backup_position(path):
    with safe_open(path, framework="pt") as handle:
        state = json.loads(handle.metadata()["state"])
    return state["epoch"], state["batch"]


# -- arguments -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"backup_dir": ""}, ValueError, "`backup_dir` must be a non-empty path"),
        ({"backup_dir": None}, ValueError, "got None"),
        ({"backup_dir": 3}, ValueError, "`backup_dir`.*got 3"),
        ({"save_freq": "batch"}, ValueError, "`save_freq`.*'epoch' or a positive integer.*got save_freq='batch'"),
        ({"save_freq": 0}, ValueError, "save_freq=0"),
        ({"save_freq": -2}, ValueError, "save_freq=-2"),
        ({"save_freq": 1.5}, ValueError, "save_freq=1.5"),
        ({"save_freq": True}, ValueError, "save_freq=True"),
        ({"delete_checkpoint": "yes"}, ValueError, "`delete_checkpoint` must be True or False, got delete_checkpoint='yes'"),
        ({"double_checkpoint": 1}, ValueError, "`double_checkpoint` must be True or False"),
    ],
)
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, error, match):
    kwargs = {"backup_dir": str(tmp_path), **kwargs}
    with pytest.raises(error, match=match):
        BackupAndRestore(**kwargs)


def test_defaults_and_path_like_backup_dir_match_keras(keras, tmp_path):
    ours, theirs = BackupAndRestore(tmp_path), keras.callbacks.BackupAndRestore(str(tmp_path))
    assert ours.backup_dir == str(tmp_path)
    for name in ("save_freq", "double_checkpoint", "delete_checkpoint"):
        assert getattr(ours, name) == getattr(theirs, name)


def test_batch_hooks_are_dispatched_only_for_an_integer_save_freq(tmp_path):
    assert not CallbackList([BackupAndRestore(tmp_path)]).needs_train_batch_hooks
    assert CallbackList([BackupAndRestore(tmp_path, save_freq=2)]).needs_train_batch_hooks


def test_unbuilt_model_raises_keras_error(tmp_path):
    model = ember.Sequential([ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="must be built before you call `fit\\(\\)`.*calling it on a batch"):
        _fit(model, [BackupAndRestore(tmp_path)])


def test_torch_optimizer_raises(tmp_path):
    model = _model()
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), loss="mse")
    with pytest.raises(TypeError, match="needs an ember optimizer.*ember.optimizers.Adam"):
        _fit(model, [BackupAndRestore(tmp_path)])


# -- when backups are written and deleted (Keras as the oracle) -----------------


class _BackupWatcher:
    """After every batch and epoch, notes the backup's (epoch, batches done) when it changed."""

    def __init__(self, read):
        self.read, self.seen = read, []

    def look(self):
        position = self.read()
        if position is not None and (not self.seen or self.seen[-1] != position):
            self.seen.append(position)


def _watch(watcher, base):
    class Watch(base):
        def on_train_batch_end(self, batch, logs=None):
            watcher.look()

        def on_epoch_end(self, epoch, logs=None):
            watcher.look()

    return Watch()


def _keras_backup_points(keras, backup_dir, save_freq):
    def read():
        path = os.path.join(backup_dir, "training_metadata.json")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            state = json.load(f)
        return state["epoch"], state["batch"]

    watcher = _BackupWatcher(read)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    callbacks = [keras.callbacks.BackupAndRestore(backup_dir, save_freq=save_freq), _watch(watcher, keras.callbacks.Callback)]
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, validation_split=0.2, verbose=0, callbacks=callbacks)
    return watcher.seen, os.path.exists(backup_dir)


def _ember_backup_points(backup_dir, save_freq):
    path = os.path.join(backup_dir, BACKUP_FILENAME)
    watcher = _BackupWatcher(lambda: _backup_position(path) if os.path.exists(path) else None)
    _fit(_model(), [BackupAndRestore(backup_dir, save_freq=save_freq), _watch(watcher, Callback)])
    return watcher.seen, os.path.exists(backup_dir)


@pytest.mark.parametrize("save_freq", [3, 4, 5, "epoch"])
def test_backups_are_written_when_keras_writes_them_and_deleted_at_the_end(keras, tmp_path, save_freq):
    keras_points, keras_kept = _keras_backup_points(keras, str(tmp_path / "keras"), save_freq)
    ember_points, ember_kept = _ember_backup_points(str(tmp_path / "ember"), save_freq)
    # Keras records (epoch, index of the last batch) after a batch and (next epoch, 0) after an epoch;
    # ember records (epoch, batches of it done), so that a backup taken after the epoch's last batch
    # resumes before its validation and epoch end.
    if save_freq == "epoch":
        assert ember_points == keras_points == [(1, 0), (2, 0), (3, 0)]
    else:
        assert ember_points == [(epoch, batch + 1) for epoch, batch in keras_points]
        assert len(ember_points) == 12 // save_freq  # 12 batches in all
    assert not keras_kept and not ember_kept


def test_delete_checkpoint_false_keeps_the_backup_as_keras(keras, tmp_path):
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    keras_dir, ember_dir = tmp_path / "keras", tmp_path / "ember"
    model.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(str(keras_dir), delete_checkpoint=False)])
    _fit(_model(), [BackupAndRestore(ember_dir, delete_checkpoint=False)], epochs=2)
    assert keras_dir.exists() and ember_dir.exists()
    assert _backup_position(ember_dir / BACKUP_FILENAME) == (2, 0)


def test_only_the_backup_files_are_deleted(tmp_path):
    (tmp_path / "notes.txt").write_text("kept")
    _fit(_model(), [BackupAndRestore(tmp_path, save_freq=2, double_checkpoint=True)])
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


# -- resuming --------------------------------------------------------------------


def _interrupted_then_resumed(backup_dir, interrupt, fit_kwargs=None, **backup_kwargs):
    fit_kwargs = fit_kwargs or {}
    model = _model()
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(model, [BackupAndRestore(backup_dir, **backup_kwargs), NoisyLearningRate(), interrupt], **fit_kwargs)
    assert os.path.exists(os.path.join(backup_dir, BACKUP_FILENAME))  # an exception skips on_train_end
    first = FirstBatch()
    resumed = _model()  # a new model, freshly seeded: everything must come from the backup
    history = _fit(resumed, [BackupAndRestore(backup_dir, **backup_kwargs), NoisyLearningRate(), first], **fit_kwargs)
    return resumed, history, first.first


@pytest.mark.parametrize(
    ("save_freq", "interrupt_at", "first_batch_after_restart"),
    [
        ("epoch", (1, 2), (1, 0)),  # back to the start of the epoch
        ("epoch", (2, None), (2, 0)),
        (3, (1, 2), (1, 2)),  # mid-epoch: the backup after batch 1 of epoch 1 (6 batches in)
        (1, (1, 3), (2, 0)),  # after the epoch's last batch: only its validation and epoch end remain
        (5, (2, 3), (2, 2)),
    ],
)
def test_resume_after_an_exception_equals_an_uninterrupted_run(tmp_path, save_freq, interrupt_at,
                                                               first_batch_after_restart):
    reference = _model()
    reference_history = _fit(reference, [NoisyLearningRate()])
    resumed, history, first = _interrupted_then_resumed(str(tmp_path), Interrupt(*interrupt_at), save_freq=save_freq)
    assert first == first_batch_after_restart
    _assert_same_training(resumed, history, reference, reference_history)
    assert not tmp_path.exists()


def test_resumed_epochs_match_keras(keras, tmp_path):
    """Keras's documented example: interrupted when epoch 4 begins, the restart runs epochs 4 to 9."""
    x, y = np.arange(100, dtype="float32").reshape(5, 20) / 100, np.zeros(5, dtype="float32")

    def run(framework, model, backup_dir):
        backup = framework.callbacks.BackupAndRestore(backup_dir=backup_dir)
        seen = []

        class Record(framework.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                seen.append(epoch)

        class InterruptAt4(framework.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if epoch == 4:
                    raise RuntimeError("interrupted")

        with pytest.raises(RuntimeError):
            model.fit(x, y, epochs=10, batch_size=1, callbacks=[backup, InterruptAt4()], verbose=0)
        history = model.fit(x, y, epochs=10, batch_size=1, callbacks=[backup, Record()], verbose=0)
        return seen, history

    keras_model = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Dense(10)])
    keras_model.compile(keras.optimizers.SGD(), loss="mse")
    ember_model = ember.Sequential([ember.Input(shape=(20,)), ember.layers.Dense(10)])
    ember_model.compile(ember.optimizers.SGD(), loss="mse")
    keras_seen, keras_history = run(keras, keras_model, str(tmp_path / "keras"))
    ember_seen, ember_history = run(ember, ember_model, str(tmp_path / "ember"))
    assert ember_seen == keras_seen == list(range(4, 10))
    # Unlike Keras (whose History then holds only the 6 resumed epochs), ember restores the epochs
    # trained before the interruption, so the History is that of an uninterrupted run.
    assert len(keras_history.history["loss"]) == 6
    assert len(ember_history.history["loss"]) == 10 and ember_history.epoch == list(range(10))


def test_resume_with_steps_per_epoch_continues_the_same_pass(tmp_path):
    # With steps_per_epoch the arrays are one pass shared by the epochs (4 batches; 2 per epoch).
    kwargs = {"steps_per_epoch": 2, "epochs": 2, "validation_split": 0.0}
    x, y = _data(32)
    reference = _model()
    reference_history = _fit(reference, [NoisyLearningRate()], x, y, **kwargs)
    resumed, history, first = _interrupted_then_resumed(str(tmp_path), Interrupt(1, 0), {"x": x, "y": y, **kwargs},
                                                        save_freq=1)
    assert first == (1, 1)
    _assert_same_training(resumed, history, reference, reference_history)


class _Batches(ember.utils.Sequence):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x) // BATCH_SIZE

    def __getitem__(self, index):
        part = slice(index * BATCH_SIZE, (index + 1) * BATCH_SIZE)
        return self.x[part], self.y[part]


@pytest.mark.parametrize("source", ["sequence", "dataloader"])
def test_resume_mid_epoch_with_other_data_sources(tmp_path, source):
    x, y = _data(32)
    if source == "sequence":  # shuffled: the saved batch order is reused
        def data():
            return {"x": _Batches(x, y), "shuffle": True}
    else:  # read from its start, the batches already trained dropped
        def data():
            dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
            return {"x": torch.utils.data.DataLoader(dataset, batch_size=BATCH_SIZE)}
    kwargs = {"validation_split": 0.0, "batch_size": None}
    reference = _model()
    reference_history = _fit(reference, [NoisyLearningRate()], y=None, **data(), **kwargs)
    model = _model()
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(model, [BackupAndRestore(tmp_path, save_freq=3), NoisyLearningRate(), Interrupt(1, 2)], **data(), **kwargs)
    resumed, first = _model(), FirstBatch()
    history = _fit(resumed, [BackupAndRestore(tmp_path, save_freq=3), NoisyLearningRate(), first], **data(), **kwargs)
    assert first.first == (1, 2)
    _assert_same_training(resumed, history, reference, reference_history)


# -- what a backup refuses to do ---------------------------------------------------


def _backup_mid_epoch(backup_dir, **fit_kwargs):
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(_model(), [BackupAndRestore(backup_dir, save_freq=3), Interrupt(1, 1)], **fit_kwargs)


def test_a_backup_of_another_model_is_refused_before_anything_changes(tmp_path):
    _backup_mid_epoch(str(tmp_path))
    other = _model(units=6)
    before = [w.copy() for w in other.get_weights()]
    with pytest.raises(ValueError, match=r"does not fit this model: it holds 10 optimizer variables of shapes \[\(\), \(\), \(4, 8\)"):
        _fit(other, [BackupAndRestore(tmp_path)])
    for got, expected in zip(other.get_weights(), before):
        np.testing.assert_array_equal(got, expected)


def test_a_backup_of_other_data_is_refused(tmp_path):
    _backup_mid_epoch(str(tmp_path))
    x, y = _data(50)
    with pytest.raises(ValueError, match="sample order covers 32 samples, but fit now has 40"):
        _fit(_model(), [BackupAndRestore(tmp_path)], x, y)
    with pytest.raises(ValueError, match="made with shuffled data, but fit now has shuffle=False"):
        _fit(_model(), [BackupAndRestore(tmp_path)], shuffle=False)


def test_a_backup_of_a_longer_sequence_is_refused(tmp_path):
    x, y = _data(32)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(_model(), [BackupAndRestore(tmp_path, save_freq=3), Interrupt(1, 1)], _Batches(x, y), None,
             batch_size=None, validation_split=0.0)
    with pytest.raises(ValueError, match="Cannot resume at batch 2 of 4: the Sequence now has 3 batches per epoch"):
        _fit(_model(), [BackupAndRestore(tmp_path)], _Batches(x[:24], y[:24]), None, batch_size=None,
             validation_split=0.0)


def test_an_unreadable_backup_raises_a_clear_error(tmp_path):
    _backup_mid_epoch(str(tmp_path))
    path = tmp_path / BACKUP_FILENAME
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=f"The backup '{path}' cannot be read .* Delete it"):
        _fit(_model(), [BackupAndRestore(tmp_path)])


def test_double_checkpoint_restores_the_previous_backup_when_the_latest_is_damaged(tmp_path):
    reference = _model()
    reference_history = _fit(reference, [NoisyLearningRate()])
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(_model(), [BackupAndRestore(tmp_path, save_freq=2, double_checkpoint=True), NoisyLearningRate(),
                        Interrupt(1, 3)])
    latest = tmp_path / BACKUP_FILENAME
    assert _backup_position(latest) == (1, 4) and _backup_position(f"{latest}.bkp") == (1, 2)
    latest.write_bytes(b"garbage")
    resumed, first = _model(), FirstBatch()
    with pytest.warns(UserWarning, match="cannot be read.*Restoring the previous backup"):
        history = _fit(resumed, [BackupAndRestore(tmp_path, save_freq=2, double_checkpoint=True), NoisyLearningRate(),
                                 first])
    assert first.first == (1, 2)
    _assert_same_training(resumed, history, reference, reference_history)


def test_a_failed_write_leaves_the_previous_backup_intact(tmp_path, monkeypatch):
    import ember.callbacks.backup_and_restore as backup_module
    from ember.saving.atomic import atomic_write

    class DiskFull(Callback):
        """From epoch 1 on, every backup write fails half-way."""

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                def failing(path, write):
                    def half(handle):
                        handle.write(b"partial")
                        raise OSError("No space left on device")
                    atomic_write(path, half)
                monkeypatch.setattr(backup_module, "atomic_write", failing)

    path = tmp_path / BACKUP_FILENAME
    with pytest.raises(OSError, match="No space left"):
        _fit(_model(), [DiskFull(), BackupAndRestore(tmp_path, save_freq=3)])
    monkeypatch.undo()
    assert _backup_position(path) == (0, 3)
    assert os.listdir(tmp_path) == [BACKUP_FILENAME]  # no temporary file left behind
    first = FirstBatch()
    _fit(_model(), [BackupAndRestore(tmp_path, save_freq=3), first])
    assert first.first == (0, 3)


# -- killed with SIGKILL -------------------------------------------------------------

TRAIN_SCRIPT = textwrap.dedent(
    """
    import json, os, random, sys, time
    import numpy as np
    import ember

    mode, backup_dir, out = sys.argv[1:4]
    ember.utils.set_random_seed(0)
    inputs = ember.Input(shape=(4,))
    hidden = ember.layers.Dense(8, activation="relu")(inputs)
    hidden = ember.layers.Dropout(0.3)(hidden)
    hidden = ember.layers.Dropout(0.2, seed=5)(hidden)
    model = ember.Model(inputs, ember.layers.Dense(1)(hidden))
    model.compile(optimizer=ember.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = x @ np.array([[0.5], [-1.0], [0.25], [2.0]], dtype="float32")

    class Steps(ember.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.first, self.count = None, 0
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_begin(self, batch, logs=None):
            self.first = self.first or [self.epoch, batch]
            model.optimizer.learning_rate.assign(0.01 * (1 + np.random.uniform() + random.random()))
        def on_train_batch_end(self, batch, logs=None):
            self.count += 1
            if mode == "crash" and self.count == 7:  # the latest backup is after batch 6
                open(out + ".ready", "w").close()
                time.sleep(120)

    steps = Steps()
    callbacks = [steps] if mode == "plain" else [ember.callbacks.BackupAndRestore(backup_dir, save_freq=3), steps]
    history = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.2, callbacks=callbacks, verbose=0)
    np.savez(out + ".npz", *model.get_weights())
    with open(out + ".json", "w") as f:
        json.dump({"history": history.history, "epoch": history.epoch, "first": steps.first}, f)
    """
)


def _run_to_completion(script, mode, backup_dir, out):
    done = subprocess.run([sys.executable, str(script), mode, str(backup_dir), str(out)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with open(f"{out}.json") as f:
        result = json.load(f)
    with np.load(f"{out}.npz") as weights:
        result["weights"] = [weights[f"arr_{i}"] for i in range(len(weights.files))]
    return result


@pytest.mark.slow  # three Python processes (~10 s)
def test_a_run_killed_mid_epoch_resumes_exactly(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    backup_dir, crashed_out = tmp_path / "backup", tmp_path / "crashed"
    crashed = subprocess.Popen([sys.executable, str(script), "crash", str(backup_dir), str(crashed_out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        reference = _run_to_completion(script, "plain", backup_dir, tmp_path / "reference")
        deadline = time.monotonic() + 90
        while not os.path.exists(f"{crashed_out}.ready"):
            assert crashed.poll() is None, crashed.stderr.read()
            assert time.monotonic() < deadline, "the training script never reached batch 7"
            time.sleep(0.05)
        crashed.send_signal(signal.SIGKILL)
        assert crashed.wait(timeout=30) == -signal.SIGKILL
    finally:
        if crashed.poll() is None:
            crashed.kill()
            crashed.wait(timeout=30)
        crashed.stderr.close()
    assert _backup_position(backup_dir / BACKUP_FILENAME) == (1, 2)
    resumed = _run_to_completion(script, "resume", backup_dir, tmp_path / "resumed")
    assert resumed["first"] == [1, 2]  # it did continue mid-epoch
    for got, expected in zip(resumed["weights"], reference["weights"]):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert resumed["history"] == reference["history"]
    assert resumed["epoch"] == reference["epoch"] == [0, 1, 2]
    assert not backup_dir.exists()

"""CSVLogger against Keras 3: identical logs must give byte-identical files."""

import csv

import numpy as np
import pytest
import torch
from keras_parity.harness import dense_model

import ember
from ember.callbacks import CallbackList, CSVLogger, LambdaCallback

SCRIPTED_RUNS = {
    "with validation": [
        {"loss": 0.5, "accuracy": 0.25, "val_loss": 0.75, "val_accuracy": 0.125},
        {"loss": 0.4000000059604645, "accuracy": 0.5, "val_loss": 0.7, "val_accuracy": 0.25},
    ],
    "validation starts later": [
        {"loss": 1.5, "mae": 1.0},
        {"loss": 1.25, "mae": 0.75, "val_loss": 2.0, "val_mae": 1.5},
        {"loss": 1.0, "val_loss": 1.75},
    ],
    "strings and arrays": [
        {"loss": 0.5, "f1": np.array([0.25, 0.75], dtype="float32"), "note": "a,b", "zero_dim": np.array(2.5)},
    ],
    "empty logs": [{}, {}],
}


def _write_with(lib, path, runs, **kwargs):
    for run in runs:
        logger = lib.callbacks.CSVLogger(str(path), **kwargs)
        logger.on_train_begin({})
        for epoch, logs in enumerate(run):
            logger.on_epoch_end(epoch, dict(logs))
        logger.on_train_end({})
    return path.read_bytes()


@pytest.mark.parametrize("name", sorted(SCRIPTED_RUNS))
@pytest.mark.parametrize("kwargs", [{}, {"separator": ";"}])
def test_same_bytes_as_keras(keras, tmp_path, name, kwargs):
    runs = [SCRIPTED_RUNS[name]]
    ours = _write_with(ember, tmp_path / "ours.csv", runs, **kwargs)
    theirs = _write_with(keras, tmp_path / "theirs.csv", runs, **kwargs)
    assert ours == theirs


@pytest.mark.parametrize("existing", [None, b"", b"epoch,loss\r\n0,9.0\r\n"])
def test_append_writes_no_second_header_like_keras(keras, tmp_path, existing):
    runs = [SCRIPTED_RUNS["with validation"], SCRIPTED_RUNS["with validation"]]
    files = []
    for lib in (ember, keras):
        path = tmp_path / f"{lib.__name__}.csv"
        if existing is not None:
            path.write_bytes(existing)
        files.append(_write_with(lib, path, runs, append=True))
    assert files[0] == files[1]
    assert files[0].count(b"epoch,") == 1  # the first run's header, or the existing file's
    assert files[0].startswith(existing or b"epoch,accuracy,loss,val_accuracy,val_loss\r\n")


def test_tensor_values_are_written_like_their_numpy_values(keras, tmp_path):
    as_numpy = [{"loss": np.float32(0.25), "f1": np.array([0.5, 0.75], dtype="float32")}]
    as_tensors = [{"loss": torch.tensor(0.25), "f1": torch.tensor([0.5, 0.75])}]
    theirs = _write_with(keras, tmp_path / "theirs.csv", [as_numpy])
    assert _write_with(ember, tmp_path / "ours.csv", [as_tensors]) == theirs


def test_overwrites_without_append(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("old content\n")
    _write_with(ember, path, [SCRIPTED_RUNS["validation starts later"]])
    assert path.read_text().splitlines()[0] == "epoch,loss,mae,val_loss,val_mae"


def test_fit_logs_match_keras(keras, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = np.tanh(x.sum(axis=1, keepdims=True))
    make = dense_model(4, 1)
    ours, theirs = make(ember), make(keras)
    theirs.set_weights(ours.get_weights())
    tables = []
    for lib, model in ((ember, ours), (keras, theirs)):
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
        path = tmp_path / f"{lib.__name__}.csv"
        model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, shuffle=False, verbose=0,
                  callbacks=[lib.callbacks.CSVLogger(str(path))])
        with open(path, newline="") as f:
            tables.append(list(csv.reader(f)))
    assert tables[0][0] == tables[1][0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [row[0] for row in tables[0][1:]] == ["0", "1", "2"]
    np.testing.assert_allclose(np.array(tables[0][1:], dtype=float), np.array(tables[1][1:], dtype=float),
                               rtol=2e-3)


def test_each_row_is_flushed_at_its_epoch_end(tmp_path):
    path = tmp_path / "log.csv"
    model = dense_model(4, 1)(ember)
    model.compile(optimizer="sgd", loss="mse")
    rows_seen = []
    peek = LambdaCallback(on_epoch_end=lambda epoch, logs: rows_seen.append(len(path.read_text().splitlines())))
    x = np.ones((8, 4), "float32")
    model.fit(x, x[:, :1], epochs=3, verbose=0, callbacks=[CSVLogger(str(path)), peek])
    assert rows_seen == [2, 3, 4]  # the header and one row per epoch, readable while training runs


def test_epoch_end_before_train_begin_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match=r"has no open file: `on_train_begin` opens it"):
        CSVLogger(str(tmp_path / "log.csv")).on_epoch_end(0, {"loss": 1.0})


def test_reads_only_epoch_logs(tmp_path):
    assert not CallbackList([CSVLogger(str(tmp_path / "log.csv"))]).needs_train_batch_hooks

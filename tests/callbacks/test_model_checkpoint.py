"""ModelCheckpoint against Keras 3: which epochs/batches save, file names, messages, errors.

Saving itself is `model.save` / `model.save_weights`; here a model subclass records
the calls and writes a tiny file, so the tests cover the callback's decisions.
"""

import itertools
import os

import numpy as np
import pytest
from fake_training import EmberFakeModel, KerasFakeModel, run_epochs

import ember
from ember.callbacks import CallbackList, LambdaCallback, ModelCheckpoint


class RecordingModel(ember.Model):
    """Records save calls and writes a small marker file at the path."""

    def save(self, filepath):
        self._write("save", filepath)

    def save_weights(self, filepath):
        self._write("save_weights", filepath)

    def _write(self, method, filepath):
        self.__dict__.setdefault("save_calls", []).append((method, filepath))
        with open(filepath, "wb") as f:
            f.write(method.encode())


def _recording_model():
    inputs = ember.Input(shape=(4,))
    hidden = ember.layers.Dense(8, activation="tanh")(inputs)
    return RecordingModel(inputs, ember.layers.Dense(1)(hidden))


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = np.sin(x.sum(axis=1, keepdims=True))
    return x[:32], y[:32], x[32:], y[32:]


def _keras_spelling(text):
    """Ember's messages/paths in Keras's spelling: its extensions, and `None` for the first reference."""
    text = text.replace(".weights.safetensors", ".weights.h5").replace(".ember", ".keras")
    for start in ("-inf", "inf"):
        text = text.replace(f"improved from {start} ", "improved from None ")
    return text


def test_epoch_saving_matches_keras_on_scripted_logs(keras, capsys, tmp_path):
    values = [0.8, 0.9, 0.7, 0.7, 0.75, 0.6, 0.95, 0.2]
    configs = itertools.product([False, True], ["min", "max"], [None, 0.75], [False, True])
    for save_best_only, mode, threshold, weights_only in configs:
        logs = [{"loss": 1.0, "val_loss": v, "val_auc": v} for v in values]
        monitor = "val_loss" if mode == "min" else "val_auc"
        results = []
        for lib, fake in ((ember, EmberFakeModel), (keras, KerasFakeModel)):
            ext = {ember: (".ember", ".weights.safetensors"), keras: (".keras", ".weights.h5")}[lib][weights_only]
            model = fake(lib)
            callback = lib.callbacks.ModelCheckpoint(
                str(tmp_path / f"m-{{epoch:02d}}-{{{monitor}:.2f}}{ext}"), monitor=monitor, verbose=1, mode=mode,
                save_best_only=save_best_only, save_weights_only=weights_only, initial_value_threshold=threshold)
            run_epochs(callback, model, logs)
            printed = capsys.readouterr().out
            results.append((model.saved, printed, callback.best))
        (paths, printed, best), expected = results
        assert [_keras_spelling(p) for p in paths] == expected[0]
        assert _keras_spelling(printed) == expected[1]
        assert best == expected[2]


def test_first_reference_prints_as_inf_for_min_and_minus_inf_for_max(capsys, tmp_path):
    # tf.keras (the guide) prints "improved from inf"; Keras 3 prints "improved from None".
    for mode, monitor, start in (("min", "val_loss", "inf"), ("max", "val_auc", "-inf")):
        callback = ModelCheckpoint(str(tmp_path / "m.ember"), monitor=monitor, mode=mode, save_best_only=True,
                                   verbose=1)
        run_epochs(callback, EmberFakeModel(ember), [{monitor: 0.19570}])
        path = tmp_path / "m.ember"
        assert capsys.readouterr().out == (
            f"\nEpoch 1: {monitor} improved from {start} to 0.19570, saving model to {path}\n"
            f"\nEpoch 1: finished saving model to {path}\n")


def test_batch_frequency_counts_batches_across_epochs_like_keras(keras, tmp_path):
    template = "ckpt-{epoch}-{batch}-loss={loss:.2f}"
    saved = []
    for lib, fake, ext in ((ember, EmberFakeModel, ".ember"), (keras, KerasFakeModel, ".keras")):
        model = fake(lib)
        callback = lib.callbacks.ModelCheckpoint(str(tmp_path / (template + ext)), save_freq=4)
        callback.set_model(model)
        callback.on_train_begin({})
        for epoch in range(3):
            callback.on_epoch_begin(epoch, {})
            for batch in range(7):
                callback.on_train_batch_end(batch, {"loss": 1.0 / (1 + 7 * epoch + batch)})
            callback.on_epoch_end(epoch, {"loss": 0.5})
        saved.append([_keras_spelling(p) for p in model.saved])
    assert saved[0] == saved[1]
    assert len(saved[0]) == 21 // 4


def test_guide_save_best_only_writes_exactly_the_improving_epochs(keras, capsys, tmp_path):
    x, y, x_val, y_val = _data()
    model = _recording_model()
    model.compile(optimizer=ember.optimizers.Adam(learning_rate=0.05), loss="mse")
    checkpoint = ModelCheckpoint(filepath=str(tmp_path / "mymodel_{epoch}.ember"), save_best_only=True,
                                 monitor="val_loss", verbose=1)
    history = model.fit(x, y, validation_data=(x_val, y_val), epochs=8, batch_size=8, verbose=0,
                        callbacks=[checkpoint])
    printed = capsys.readouterr().out
    val_loss = history.history["val_loss"]

    # Keras's callback fed the same val_loss values decides which epochs save and what it prints.
    oracle_model = KerasFakeModel(keras)
    oracle = keras.callbacks.ModelCheckpoint(filepath=str(tmp_path / "mymodel_{epoch}.keras"),
                                             save_best_only=True, monitor="val_loss", verbose=1)
    run_epochs(oracle, oracle_model, [{"loss": 0.0, "val_loss": v} for v in val_loss])
    assert _keras_spelling(printed) == capsys.readouterr().out
    improving = [i + 1 for i, v in enumerate(val_loss) if v < min(val_loss[:i], default=np.inf)]
    assert 1 < len(improving) < len(val_loss)  # the run has both improving and non-improving epochs
    expected = [str(tmp_path / f"mymodel_{e}.ember") for e in improving]
    assert [p for _, p in model.save_calls] == expected
    assert [_keras_spelling(p) for p in expected] == oracle_model.saved
    assert sorted(os.listdir(tmp_path)) == sorted(f"mymodel_{e}.ember" for e in improving)


def test_guide_save_freq_100_names_files_with_the_running_loss(keras, tmp_path):
    x, y, _, _ = _data()
    x, y = x[:30], y[:30]
    model = _recording_model()
    model.compile(optimizer="sgd", loss="mse")
    batch_losses = []
    record = LambdaCallback(on_train_batch_end=lambda batch, logs: batch_losses.append(logs["loss"]))
    checkpoint = ModelCheckpoint(filepath=str(tmp_path / "ckpt" / "ckpt-loss={loss:.2f}.ember"), save_freq=100)
    model.fit(x, y, epochs=7, batch_size=1, shuffle=False, verbose=0, callbacks=[record, checkpoint])
    # 30 batches per epoch, 210 in all: saves after the 100th and 200th batch, counted across epochs.
    expected = [str(tmp_path / "ckpt" / f"ckpt-loss={batch_losses[step - 1]:.2f}.ember") for step in (100, 200)]
    assert [p for _, p in model.save_calls] == expected

    oracle_model = KerasFakeModel(keras)
    oracle = keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}-{batch}.keras"), save_freq=100)
    oracle.set_model(oracle_model)
    for epoch in range(7):
        oracle.on_epoch_begin(epoch)
        for batch in range(30):
            oracle.on_train_batch_end(batch, {"loss": 0.0})
    assert oracle_model.saved == [str(tmp_path / "ckpt-4-10.keras"), str(tmp_path / "ckpt-7-20.keras")]


def test_save_weights_only_calls_save_weights(tmp_path):
    x, y, _, _ = _data()
    model = _recording_model()
    model.compile(optimizer="sgd", loss="mse")
    path = str(tmp_path / "w-{epoch}.weights.safetensors")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[ModelCheckpoint(path, save_weights_only=True)])
    assert model.save_calls == [("save_weights", path.format(epoch=e)) for e in (1, 2)]


def test_only_batch_frequency_saving_listens_to_batches(tmp_path):
    assert not CallbackList([ModelCheckpoint(str(tmp_path / "m.ember"))]).needs_train_batch_hooks
    assert CallbackList([ModelCheckpoint(str(tmp_path / "m.ember"), save_freq=3)]).needs_train_batch_hooks


@pytest.mark.parametrize("kwargs, message", [
    ({"filepath": "model.keras"}, r"must end in `\.ember`.*Received: filepath=model\.keras"),
    ({"filepath": "mymodel_{epoch}"}, r"must end in `\.ember`"),
    ({"filepath": "w.weights.h5", "save_weights_only": True},
     r"save_weights_only=True.*must end in `\.weights\.safetensors`.*Received: filepath=w\.weights\.h5"),
    ({"filepath": "m.ember", "save_weights_only": True}, r"must end in `\.weights\.safetensors`"),
    ({"filepath": "m.ember", "save_freq": "batch"}, r"Unrecognized save_freq: 'batch'"),
    ({"filepath": "m.ember", "save_freq": 2.5}, r"Unrecognized save_freq: 2\.5"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModelCheckpoint(**kwargs)


def test_template_naming_a_missing_key_fails_before_writing_anything(tmp_path):
    x, y, _, _ = _data()
    model = _recording_model()
    model.compile(optimizer="sgd", loss="mse")
    checkpoint = ModelCheckpoint(str(tmp_path / "out" / "m-{val_acc:.2f}.ember"))
    with pytest.raises(KeyError, match=r"Failed to format this callback filepath: .*m-\{val_acc:\.2f\}\.ember"
                                       r".*'val_acc'.*Available keys are: epoch, loss"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    assert os.listdir(tmp_path) == []
    assert "save_calls" not in model.__dict__


@pytest.mark.parametrize("real_save", [False, True])
def test_unwritable_directory_is_a_clear_error_and_training_can_go_on(tmp_path, real_save):
    x, y, _, _ = _data()
    model = _plain_model() if real_save else _recording_model()
    model.compile(optimizer="sgd", loss="mse")
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where a directory should be")
    before = [w.detach().clone() for w in model.weights]
    with pytest.raises(OSError, match=r"ModelCheckpoint cannot create the directory .*not_a_dir.*m\.ember"):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[ModelCheckpoint(str(blocker / "sub" / "m.ember"))])
    assert sorted(os.listdir(tmp_path)) == ["not_a_dir"] and blocker.read_text().startswith("a file")
    # One epoch ran before the failed save; the model is intact and trains on.
    assert any(not np.array_equal(b.numpy(), w.detach().numpy()) for b, w in zip(before, model.weights))
    assert np.isfinite(model.fit(x, y, epochs=1, verbose=0).history["loss"]).all()


def test_errors_from_the_save_itself_name_the_path(tmp_path):
    class FailingModel(EmberFakeModel):
        def save(self, filepath):
            raise PermissionError(13, "Permission denied")

    path = str(tmp_path / "m.ember")
    with pytest.raises(PermissionError, match=r"ModelCheckpoint could not write .*m\.ember.*Permission denied"):
        run_epochs(ModelCheckpoint(path), FailingModel(ember), [{"loss": 1.0}])
    (tmp_path / "d.ember").mkdir()
    with pytest.raises(IsADirectoryError, match=r"non-directory filepath.*d\.ember"):
        run_epochs(ModelCheckpoint(str(tmp_path / "d.ember")), EmberFakeModel(ember), [{"loss": 1.0}])


def test_missing_monitor_with_save_best_only_warns_and_saves_like_keras(keras, tmp_path):
    messages = []
    for lib, fake, ext in ((ember, EmberFakeModel, ".ember"), (keras, KerasFakeModel, ".keras")):
        model = fake(lib)
        callback = lib.callbacks.ModelCheckpoint(str(tmp_path / ("m" + ext)), save_best_only=True)
        with pytest.warns(UserWarning) as record:
            run_epochs(callback, model, [{"loss": 1.0}, {"loss": 0.5}])
        assert len(model.saved) == 2
        messages.append([str(w.message) for w in record])
    assert messages[0] == messages[1] == ["Can save best model only with val_loss available."] * 2


def _plain_model():
    inputs = ember.Input(shape=(4,))
    hidden = ember.layers.Dense(8, activation="tanh")(inputs)
    return ember.Model(inputs, ember.layers.Dense(1)(hidden))


def test_real_save_weights_writes_each_epochs_weights(tmp_path):
    from safetensors.torch import load_file

    x, y, _, _ = _data()
    model = _plain_model()
    model.compile(optimizer="sgd", loss="mse")
    at_epoch_end = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: at_epoch_end.append(
        sorted(w.detach().numpy().ravel().tolist() for w in model.weights)))
    template = str(tmp_path / "weights-{epoch:02d}.weights.safetensors")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[record, ModelCheckpoint(template, save_weights_only=True)])
    assert sorted(os.listdir(tmp_path)) == ["weights-01.weights.safetensors", "weights-02.weights.safetensors"]
    for epoch, expected in enumerate(at_epoch_end, start=1):
        stored = load_file(template.format(epoch=epoch))
        assert sorted(t.numpy().ravel().tolist() for t in stored.values()) == expected
        restored = _plain_model()
        restored.load_weights(template.format(epoch=epoch))
        assert sorted(w.detach().numpy().ravel().tolist() for w in restored.weights) == expected


def test_real_save_keeps_the_best_model(tmp_path):
    x, y, x_val, y_val = _data()
    model = _plain_model()
    model.compile(optimizer=ember.optimizers.Adam(learning_rate=0.05), loss="mse")
    path = str(tmp_path / "best.ember")
    best = {}

    def remember_best(epoch, logs):
        if logs["val_loss"] < best.get("val_loss", np.inf):
            best.update(val_loss=logs["val_loss"], predictions=model.predict(x_val, verbose=0))

    model.fit(x, y, validation_data=(x_val, y_val), epochs=6, batch_size=8, verbose=0,
              callbacks=[ModelCheckpoint(path, save_best_only=True), LambdaCallback(on_epoch_end=remember_best)])
    assert os.listdir(tmp_path) == ["best.ember"]
    reloaded = ember.models.load_model(path)
    np.testing.assert_allclose(reloaded.predict(x_val, verbose=0), best["predictions"], rtol=1e-6, atol=1e-6)

"""The guide's checkpointing examples: ModelCheckpoint with save_freq and make_or_restore_model()."""

import os

import numpy as np
import pytest

import ember
from ember import layers


def get_compiled_model():
    inputs = ember.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = ember.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.random((32 * 250, 784), dtype=np.float32), rng.integers(0, 10, 32 * 250).astype("float32")


def test_make_or_restore_model(tmp_path, data, capsys):
    x_train, y_train = data
    checkpoint_dir = str(tmp_path / "ckpt")
    os.makedirs(checkpoint_dir)

    def make_or_restore_model():
        # Either restore the latest model, or create a fresh one if there is no checkpoint available.
        checkpoints = [checkpoint_dir + "/" + name for name in os.listdir(checkpoint_dir)]
        if checkpoints:
            latest_checkpoint = max(checkpoints, key=os.path.getctime)
            print("Restoring from", latest_checkpoint)
            return ember.models.load_model(latest_checkpoint)
        print("Creating a new model")
        return get_compiled_model()

    model = make_or_restore_model()
    callbacks = [
        # This callback saves the whole model every 100 batches; the training loss is in the file name.
        ember.callbacks.ModelCheckpoint(filepath=checkpoint_dir + "/ckpt-loss={loss:.2f}.ember", save_freq=100)
    ]
    model.fit(x_train, y_train, epochs=1, callbacks=callbacks, verbose=0)
    assert "Creating a new model" in capsys.readouterr().out
    names = sorted(os.listdir(checkpoint_dir))
    assert len(names) == 2 and all(n.startswith("ckpt-loss=") and n.endswith(".ember") for n in names)

    restored = make_or_restore_model()
    assert "Restoring from" in capsys.readouterr().out
    # The latest checkpoint is the one written after batch 200; it evaluates like a fresh load of that file.
    latest = max((os.path.join(checkpoint_dir, n) for n in names), key=os.path.getctime)
    again = ember.models.load_model(latest)
    np.testing.assert_array_equal(restored.predict(x_train[:64], verbose=0), again.predict(x_train[:64], verbose=0))
    history = restored.fit(x_train[:640], y_train[:640], epochs=1, verbose=0)  # training continues, compiled
    assert np.isfinite(history.history["loss"][0])


def test_checkpoint_best_only_writes_improving_epochs(tmp_path, data):
    x_train, y_train = data
    model = get_compiled_model()
    saved = []

    class Spy(ember.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append(sorted(os.listdir(tmp_path)))

    callbacks = [
        ember.callbacks.ModelCheckpoint(
            filepath=str(tmp_path / "mymodel_{epoch}.ember"), save_best_only=True, monitor="val_loss", verbose=1,
        ),
        Spy(),
    ]
    history = model.fit(x_train[:2000], y_train[:2000], epochs=4, batch_size=64, validation_split=0.2,
                        callbacks=callbacks, verbose=0)
    best = np.minimum.accumulate(history.history["val_loss"])
    improving = [e + 1 for e in range(4) if e == 0 or history.history["val_loss"][e] < best[e - 1]]
    assert sorted(os.listdir(tmp_path)) == sorted(f"mymodel_{e}.ember" for e in improving)

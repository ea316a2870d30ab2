"""The guide's custom callback: recording the loss after every training batch, against Keras 3."""

import numpy as np
from keras_parity.harness import dense_model

import ember


def loss_history_class(lib):
    class LossHistory(lib.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))

    return LossHistory


def test_per_batch_losses_match_keras(keras):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("int64")
    make = dense_model(4, 2, activation="softmax")
    ours, theirs = make(ember), make(keras)
    theirs.set_weights(ours.get_weights())
    recorded = []
    for lib, model in ((ember, ours), (keras, theirs)):
        model.compile(optimizer=lib.optimizers.RMSprop(learning_rate=0.01), loss="sparse_categorical_crossentropy")
        callback = loss_history_class(lib)()
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0, callbacks=[callback])
        recorded.append(callback.per_batch_losses)
    # Five batches per epoch; each value is the epoch's running mean so far, a Python float.
    assert len(recorded[0]) == len(recorded[1]) == 10
    assert all(type(loss) is float for loss in recorded[0])
    np.testing.assert_allclose(recorded[0], np.asarray(recorded[1], dtype="float64"), rtol=2e-3)

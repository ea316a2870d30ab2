"""The workloads written once against the Keras API, run by ember and by Keras 3.

``K`` is the ``ember`` or ``keras`` module: the same code is what a user writes
with either, which is the point of the comparison. Epochs are timed from
``on_epoch_begin`` to ``on_epoch_end`` (validation included).
"""

import _common as c


def _fit_times(K, model, x, y, spec, **kwargs):
    clock = c.EpochClock()
    timer = K.callbacks.LambdaCallback(on_epoch_begin=clock.begin, on_epoch_end=clock.end)
    model.fit(x, y, epochs=spec.epochs, verbose=0, callbacks=[timer], **kwargs)
    return clock.times


def _mlp(K):
    """The guide's functional MLP."""
    inputs = K.Input(shape=(c.MLP_FEATURES,), name="digits")
    h = K.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    h = K.layers.Dense(64, activation="relu", name="dense_2")(h)
    outputs = K.layers.Dense(c.CLASSES, activation="softmax", name="predictions")(h)
    return K.Model(inputs=inputs, outputs=outputs)


def _compile_mlp(K, model, compile_kwargs):
    model.compile(
        optimizer=K.optimizers.RMSprop(),
        loss=K.losses.SparseCategoricalCrossentropy(),
        metrics=[K.metrics.SparseCategoricalAccuracy()],
        **compile_kwargs,
    )
    return model


def mlp(K, spec, compile_kwargs, prepare):
    x, y, xv, yv = c.mlp_data(spec)
    model = prepare(_compile_mlp(K, _mlp(K), compile_kwargs))
    times = _fit_times(K, model, x, y, spec, batch_size=spec.batch, validation_data=(xv, yv))
    return {"times": times, "samples": spec.n_train}


def cnn(K, spec, compile_kwargs, prepare):
    x, y = c.cnn_data(spec)
    model = K.Sequential([
        K.Input(shape=c.IMAGE_SHAPE),
        K.layers.Conv2D(32, 3, activation="relu"),
        K.layers.MaxPooling2D(),
        K.layers.Conv2D(64, 3, activation="relu"),
        K.layers.MaxPooling2D(),
        K.layers.Flatten(),
        K.layers.Dense(c.CLASSES, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_kwargs)
    times = _fit_times(K, prepare(model), x, y, spec, batch_size=spec.batch)
    return {"times": times, "samples": spec.n_train}


def lstm(K, spec, compile_kwargs, prepare):
    x, y = c.lstm_data(spec)
    model = K.Sequential([
        K.Input(shape=(c.SEQ_LEN,), dtype="int64"),
        K.layers.Embedding(c.VOCAB, c.EMBED),
        K.layers.LSTM(c.UNITS),
        K.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], **compile_kwargs)
    times = _fit_times(K, prepare(model), x, y, spec, batch_size=spec.batch)
    return {"times": times, "samples": spec.n_train}


def sequence(K, spec, compile_kwargs, prepare):
    num, load_s, workers = c.sequence_sizes(spec)
    from _slow_dataset import SlowBatches

    data = SlowBatches(num, load_s, spec.batch, workers=workers, use_multiprocessing=True)
    model = K.Sequential([
        K.Input(shape=(c.SEQ_FEATURES,)),
        K.layers.Dense(512, activation="relu"),
        K.layers.Dense(512, activation="relu"),
        K.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse", **compile_kwargs)
    times = _fit_times(K, prepare(model), data, None, spec)
    return {"times": times, "samples": num * spec.batch}


def predict(K, spec, compile_kwargs, prepare):
    _, _, xv, _ = c.mlp_data(spec)
    model = prepare(_compile_mlp(K, _mlp(K), compile_kwargs))
    times = c.timed_passes(lambda: model.predict(xv, batch_size=spec.batch, verbose=0), spec.epochs)
    return {"times": times, "samples": spec.n_val}


def evaluate(K, spec, compile_kwargs, prepare):
    _, _, xv, yv = c.mlp_data(spec)
    model = prepare(_compile_mlp(K, _mlp(K), compile_kwargs))
    times = c.timed_passes(lambda: model.evaluate(xv, yv, batch_size=spec.batch, verbose=0), spec.epochs)
    return {"times": times, "samples": spec.n_val}


WORKLOADS = {"mlp": mlp, "cnn": cnn, "lstm": lstm, "sequence": sequence, "predict": predict, "evaluate": evaluate}


def run(K, workload, spec, compile_kwargs=None, prepare=lambda model: model):
    return WORKLOADS[workload](K, spec, compile_kwargs or {}, prepare)

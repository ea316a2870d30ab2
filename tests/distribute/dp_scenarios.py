"""Training runs shared by the data-parallel tests.

Each scenario returns plain JSON-able results. The tests run them once in the
test process (one process, the reference) and once under
``torchrun --nproc_per_node=2`` through ``dp_worker.py``; the two must agree.
"""

import os

import numpy as np
import torch

import ember

NUM_SAMPLES = 17  # batch_size 8 leaves a last global batch of 1 sample: rank 1 gets none of it


def make_data(num_samples=NUM_SAMPLES, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(num_samples, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], dtype="float32") + 0.3).astype("float32")
    weights = rng.uniform(0.5, 2.0, size=(num_samples,)).astype("float32")
    return x, y, weights


def make_model(optimizer="sgd"):
    torch.manual_seed(0)
    inputs = ember.Input(shape=(4,))
    hidden = ember.layers.Dense(5, activation="tanh")(inputs)
    outputs = ember.layers.Dense(1)(hidden)
    model = ember.Model(inputs=inputs, outputs=outputs)
    optimizers = {"sgd": ember.optimizers.SGD(learning_rate=0.1), "adam": ember.optimizers.Adam(learning_rate=0.05)}
    model.compile(optimizer=optimizers[optimizer], loss="mse",
                  metrics=["mae", ember.metrics.RootMeanSquaredError()])
    return model


def _weights(model):
    return [w.tolist() for w in model.get_weights()]


def _history(history):
    return {key: [float(v) for v in values] for key, values in history.history.items()}


def parity(shuffle):
    """fit (sample weights, partial last batch), then evaluate and predict."""
    x, y, weights = make_data()
    model = make_model("adam" if shuffle else "sgd")
    calls = []
    model.register_forward_pre_hook(lambda module, args: calls.append(1))  # once per training step, DDP or not
    torch.manual_seed(123)
    history = model.fit(x, y, sample_weight=weights, batch_size=8, epochs=3, shuffle=shuffle, verbose=0)
    training_calls = len(calls)
    # Last evaluate batch: 5 samples split 3 + 2 (unshuffled run), or 1 sample that rank 1 lacks (shuffled run).
    evaluation = model.evaluate(x, y, batch_size=8 if shuffle else 6, verbose=0, return_dict=True)
    predictions = model.predict(x, batch_size=4, verbose=0)
    return {
        "history": _history(history),
        "weights": _weights(model),
        "evaluate": {k: float(v) for k, v in evaluation.items()},
        "predict": predictions.tolist(),
        "forward_calls": training_calls,
    }


def callbacks_run(directory, rank):
    """validation_split, EarlyStopping, ModelCheckpoint and CSVLogger."""
    x, y, _ = make_data(24)
    model = make_model()
    checkpoint = os.path.join(directory, f"best_rank{rank}.weights.safetensors")
    csv_path = os.path.join(directory, f"log_rank{rank}.csv")
    callbacks = [
        ember.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=0.05),
        ember.callbacks.ModelCheckpoint(checkpoint, save_best_only=True, save_weights_only=True),
        ember.callbacks.CSVLogger(csv_path),
        ember.callbacks.TensorBoard(log_dir=os.path.join(directory, f"tensorboard_rank{rank}")),
    ]
    history = model.fit(x, y, batch_size=6, epochs=20, validation_split=0.25, shuffle=False, verbose=0,
                        callbacks=callbacks)
    return {
        "history": _history(history),
        "epochs_run": len(history.history["loss"]),
        "stopped_epoch": callbacks[0].stopped_epoch,
        "wrote_checkpoint": os.path.exists(checkpoint),
        "wrote_csv": os.path.exists(csv_path) and os.path.getsize(csv_path) > 0,
        "wrote_tensorboard": os.path.isdir(os.path.join(directory, f"tensorboard_rank{rank}")),
    }


class _Interrupt(Exception):
    pass


class _InterruptAt(ember.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise _Interrupt()


def backup_run(directory):
    """An interrupted fit resumed from BackupAndRestore (mid-epoch backups) ends like an uninterrupted one."""
    x, y, weights = make_data()
    model = make_model("adam")
    backup = ember.callbacks.BackupAndRestore(directory, save_freq=2)
    torch.manual_seed(7)
    try:
        model.fit(x, y, sample_weight=weights, batch_size=8, epochs=4, shuffle=True, verbose=0,
                  callbacks=[backup, _InterruptAt(2)])
    except _Interrupt:
        pass
    model = make_model("adam")
    history = model.fit(x, y, sample_weight=weights, batch_size=8, epochs=4, shuffle=True, verbose=0,
                        callbacks=[ember.callbacks.BackupAndRestore(directory, save_freq=2)])
    return {"history": _history(history), "weights": _weights(model)}


class _Batches(ember.utils.Sequence):
    """Batches of 4 consecutive samples."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x) // 4

    def __getitem__(self, index):
        return self.x[4 * index : 4 * index + 4], self.y[4 * index : 4 * index + 4]


def sources():
    """A Sequence and a torch Dataset: under 2 processes a global step covers 8 samples, as arrays in batches of 8.

    The Sequence deals its batches of 4 round-robin; the Dataset's sampler
    interleaves samples; either way global step g sees samples 8g..8g+7.
    """
    x, y, _ = make_data(16)
    results = {}
    model = make_model()
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    results["arrays8"] = _weights(model)
    model = make_model()
    model.fit(_Batches(x, y), epochs=2, shuffle=False, verbose=0)
    results["sequence"] = _weights(model)
    model = make_model()
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    model.fit(dataset, batch_size=8, epochs=2, shuffle=False, verbose=0)
    results["dataset"] = _weights(model)
    model = make_model()
    model.fit(_Batches(x, y), epochs=2, shuffle=True, verbose=0)
    results["sequence_shuffled"] = _weights(model)
    # predict() on anything but arrays runs whole on every process.
    results["sequence_predict"] = model.predict(_Batches(x, y), verbose=0).tolist()
    results["array_predict"] = model.predict(x, batch_size=6, verbose=0).tolist()
    return results


class _StateKinds(ember.metrics.Metric):
    """One state variable per aggregation, plus a running maximum combined by an override."""

    def __init__(self):
        super().__init__(name="state_kinds")
        self.total = self.add_weight(name="total", shape=(2,), aggregation="sum")
        self.average = self.add_weight(name="average", aggregation="mean")
        self.first = self.add_weight(name="first", aggregation="only_first_replica")
        self.own = self.add_weight(name="own", aggregation="none")
        self.maximum = self.add_weight(name="maximum", aggregation="none")

    def update_state(self, value):
        for variable in (self.total, self.average, self.first, self.own):
            variable.assign_add(torch.as_tensor(value, dtype=torch.float32).expand_as(variable))
        self.maximum.assign(torch.maximum(self.maximum, torch.as_tensor(value, dtype=torch.float32)))

    def result(self):
        return self.total

    def sync_across_processes(self):
        maximum = self.maximum.detach().clone()
        super().sync_across_processes()
        if ember.distribute.is_distributed():
            torch.distributed.all_reduce(maximum, op=torch.distributed.ReduceOp.MAX)
        self.maximum.assign(maximum)


def metric_states():
    """Each process adds rank + 1 (rank 0: 1, rank 1: 2), then the states are combined."""
    from ember.distribute.reduction import sync_metrics

    metric = _StateKinds()
    metric.update_state(float(ember.distribute.rank() + 1))
    if ember.distribute.is_distributed():
        sync_metrics([metric])
    return {name: getattr(metric, name).tolist() for name in ("total", "average", "first", "own", "maximum")}


def bad_batch_size():
    x, y, _ = make_data()
    model = make_model()
    try:
        model.fit(x, y, batch_size=7, epochs=1, verbose=0)
    except ValueError as error:
        return str(error)
    return None


def progress():
    """A verbose fit and evaluate: only rank 0 prints (the tests count the lines)."""
    x, y, _ = make_data()
    model = make_model()
    model.fit(x, y, batch_size=8, epochs=2, verbose=2)
    return model.evaluate(x, y, batch_size=8, verbose=1)


def fully_sharded():
    """DataParallel(strategy="fsdp") with a torch optimizer: sharded weights, the same training."""
    x, y, weights = make_data()
    strategy = ember.distribute.DataParallel(strategy="fsdp")
    torch.manual_seed(0)
    inputs = ember.Input(shape=(4,))
    hidden = ember.layers.Dense(6, activation="tanh")(inputs)
    model = strategy.shard(ember.Model(inputs=inputs, outputs=ember.layers.Dense(1)(hidden)))
    sharded = [type(p).__name__ for p in model.parameters()]
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), loss="mse", metrics=["mae"])
    with strategy.scope():
        history = model.fit(x, y, sample_weight=weights, batch_size=8, epochs=2, shuffle=False, verbose=0)
        evaluation = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
        predictions = model.predict(x, batch_size=4, verbose=0)
    return {
        "sharded": sharded,
        "history": _history(history),
        "evaluate": {k: float(v) for k, v in evaluation.items()},
        "predict": predictions.tolist(),
    }


def run_all(directory, rank):
    """Every scenario, in the order the tests read them."""
    return {
        "rank": ember.distribute.rank(),
        "world_size": ember.distribute.world_size(),
        "parity_unshuffled": parity(shuffle=False),
        "parity_shuffled": parity(shuffle=True),
        "callbacks": callbacks_run(directory, rank),
        "backup": backup_run(os.path.join(directory, f"backup_{'dp' if ember.distribute.is_distributed() else 'one'}")),
        "bad_batch_size": bad_batch_size(),
        "sources": sources(),
        "metric_states": metric_states(),
        "progress": progress(),
        "fsdp": fully_sharded(),
    }

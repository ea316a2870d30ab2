"""`BackupAndRestore`: back up the training state, and resume an interrupted `fit` exactly.

A backup is one safetensors file, `<backup_dir>/latest.backup.safetensors`,
written atomically (a temporary file in `backup_dir`, then `os.replace`), so a
crash while writing leaves the previous backup as it was. It holds:

* `weights/...`: the model's weights, as in a `.weights.safetensors` file;
* `optimizer/<i>`: the optimizer's `variables` (iterations, so also the step
  of a learning-rate schedule, the learning rate and the slots);
* `random/...`: the states of Python's `random`, NumPy's global generator,
  torch's CPU (and CUDA) generators and the generators of seeded layers
  (`Dropout(seed=...)`);
* `data/order`: the sample (or batch) order of the data pass in progress;
* `metrics/<j>/<i>`: the metrics' state part-way through an epoch;

and, as JSON in the file's metadata, the epoch and batch to resume at, the
position in the data and the history so far. Restoring it makes `fit` (see
`ember.trainer.trainer` for the loop's side) continue as if never stopped.
"""

import glob
import json
import os
import random
import warnings

import numpy as np
import torch

from ember.callbacks.callback import Callback
from ember.callbacks.history import _to_python
from ember.distribute.process_group import barrier, is_main_process
from ember.distribute.reduction import backup_state
from ember.saving.atomic import atomic_write
from ember.saving.weights_io import assign_weights, layer_entries, safetensors_torch, weights_to_bytes

__all__ = ["BackupAndRestore"]

BACKUP_FILENAME = "latest.backup.safetensors"
PREVIOUS_SUFFIX = ".bkp"
FORMAT_NAME = "ember.backup"
FORMAT_VERSION = 1

MSG_BACKUP_DIR = (
    "`backup_dir` must be a non-empty path (a string or os.PathLike) of a directory for the backup, "
    "got {value!r}. E.g. BackupAndRestore(backup_dir='/tmp/backup')."
)
MSG_SAVE_FREQ = (
    "Invalid value for argument `save_freq`: expected 'epoch' or a positive integer (a number of batches, "
    "e.g. save_freq=100), got save_freq={value!r}."
)
MSG_FLAG = "`{name}` must be True or False, got {name}={value!r}."
MSG_NOT_BUILT = (
    "To use the BackupAndRestore callback, your model must be built before you call `fit()`: model "
    "{name!r} is unbuilt. Build it beforehand by calling it on a batch of data, or start it with "
    "ember.Input(shape=...)."
)
MSG_OPTIMIZER = (
    "BackupAndRestore backs up the optimizer's state, which needs an ember optimizer; model {name!r} is "
    "compiled with {optimizer!r}. Compile with an ember optimizer (e.g. ember.optimizers.Adam)."
)
MSG_UNREADABLE = (
    "The backup {path!r} cannot be read ({error}). Delete it (or the whole backup_dir) to start training "
    "from scratch."
)
MSG_MISMATCH = (
    "The backup {path!r} does not fit this model: {detail}. A backup resumes the same model, compiled and "
    "trained the same way; delete the backup_dir to start training from scratch."
)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _cpu(tensor):
    return tensor.detach().cpu().contiguous().clone()


class BackupAndRestore(Callback):
    """Backs up the training state, so that an interrupted `fit` resumes where it stopped.

    Pass the same callback (the same `backup_dir`) to a `fit` that was
    interrupted, by an exception or by the process being killed, and to the
    `fit` that restarts it: when a backup exists, `on_train_begin` restores it
    and training continues from the backed-up epoch, and with an integer
    `save_freq` from the backed-up batch within that epoch. When `fit`
    finishes (also when stopped early by a callback), the backup is deleted.

    A backup holds everything that decides how training goes on: the weights,
    the optimizer's state (with its iteration count, so learning-rate schedules
    continue), the random states (Python, NumPy, torch CPU and CUDA, seeded
    layers such as `Dropout(seed=...)`), the shuffled order of the epoch in
    progress, the metrics' partial-epoch state and the history. So after a
    restart the final weights and `History` are those of an uninterrupted run
    (Keras goes back to the start of the epoch, and its `History` holds only
    the epochs run after the restart; ember's holds every epoch).
    Restarting part-way through an epoch is exact for arrays, tensors and
    `Sequence`s (the saved order is reused, the batches already trained are
    skipped without being loaded); other sources (generators, DataLoaders) are
    read from their start up to the backed-up position, which is exact when
    they yield the same batches again. Not backed up: other callbacks' own
    state (e.g. `EarlyStopping`'s patience count), a `Sequence`'s own
    attributes, and the position of a validation generator.

    The model must be built before `fit` (as in Keras), compiled with an ember
    optimizer, and the restarted `fit` must get the same data and arguments.

    Args:
        backup_dir: Directory for the backup (created when needed). Use it for
            this training run only.
        save_freq: `"epoch"` backs up at the end of every epoch; an integer
            `n` every `n` batches, counted across epochs. Defaults to
            `"epoch"`.
        double_checkpoint: Also keep the previous backup (as
            `latest.backup.safetensors.bkp`); it is restored when the latest
            one cannot be read. Defaults to `False`.
        delete_checkpoint: Delete the backup when `fit` finishes. Defaults to
            `True`. Only the backup files are deleted, then `backup_dir` if
            that leaves it empty (Keras deletes the whole directory).

    Raises:
        ValueError: on a bad argument; in `fit`, for an unbuilt model or a
            backup that does not fit the model or the data.
        TypeError: in `fit`, for a model compiled with a non-ember optimizer.

    Example:
        >>> backup = BackupAndRestore(backup_dir="/tmp/backup", save_freq=100)
        >>> backup.save_freq
        100
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        path = os.fspath(backup_dir) if isinstance(backup_dir, (str, bytes, os.PathLike)) else None
        if not path:
            raise ValueError(MSG_BACKUP_DIR.format(value=backup_dir))
        if save_freq != "epoch" and not (_is_int(save_freq) and save_freq > 0):
            raise ValueError(MSG_SAVE_FREQ.format(value=save_freq))
        for name, value in (("double_checkpoint", double_checkpoint), ("delete_checkpoint", delete_checkpoint)):
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(MSG_FLAG.format(name=name, value=value))
        self.backup_dir = os.fsdecode(path)
        self.save_freq = save_freq
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._backup_path = os.path.join(self.backup_dir, BACKUP_FILENAME)
        self._previous_path = self._backup_path + PREVIOUS_SUFFIX
        self._current_epoch = 0
        self._batches_seen_since_last_saving = 0
        self._history, self._history_epochs = {}, []

    def _wants_batch_hooks(self, family):
        """Only backing up every `save_freq` batches needs the train batch hooks."""
        return family == "train" and self.save_freq != "epoch"

    # -- hooks -------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        model = self.model
        if not getattr(model, "built", False):
            raise ValueError(MSG_NOT_BUILT.format(name=getattr(model, "name", model)))
        from ember.optimizers import Optimizer

        if not isinstance(getattr(model, "optimizer", None), Optimizer):
            raise TypeError(MSG_OPTIMIZER.format(name=model.name, optimizer=getattr(model, "optimizer", None)))
        self._current_epoch = 0
        self._batches_seen_since_last_saving = 0
        self._history, self._history_epochs = {}, []
        backup = self._read_backup()
        if backup is None:
            return
        path, tensors, info = backup
        resume = _ResumeState(model, tensors, info, path)
        self._current_epoch = resume.epoch
        self._history = {key: list(values) for key, values in resume.history.items()}
        self._history_epochs = list(resume.history_epochs)
        model._resume_state = resume

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen_since_last_saving += 1
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save(self._current_epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self._history.setdefault(key, []).append(_to_python(value))
        self._history_epochs.append(epoch)
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and is_main_process():
            self._delete_backup()

    # -- files -------------------------------------------------------------------

    def _save(self, epoch, batch):
        """Back up the state after `batch` batches of `epoch` (`batch=0`: at the epoch's start)."""
        model = self.model
        iterator = getattr(model, "_fit_train_iterator", None)
        if iterator is None:
            position, order = batch, None
        else:
            position, order = iterator.position(batch if batch else None)
        info = {
            "epoch": epoch,
            "batch": batch,
            "position": position,
            "order": None if order is None else ("tensor" if isinstance(order, torch.Tensor) else "list"),
            "history": {key: [_encode_log(v) for v in values] for key, values in self._history.items()},
            "history_epochs": self._history_epochs,
        }
        tensors = {f"weights/{key}": value for key, value in safetensors_torch().load(weights_to_bytes(model)).items()}
        tensors.update({f"optimizer/{i}": _cpu(v) for i, v in enumerate(model.optimizer.variables)})
        info["random"] = _capture_random_state(model, tensors)
        info["metrics"] = _capture_metric_state(model, tensors) if batch else None
        if order is not None:
            tensors["data/order"] = torch.as_tensor(order, dtype=torch.int64).cpu().contiguous()
        metadata = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "state": json.dumps(info)}
        data = safetensors_torch().save(tensors, metadata=metadata)
        if not is_main_process():
            return barrier()  # rank 0 writes the backup; every process waits until it is in place
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._backup_path):
            # If we die before the new backup is in place, the restart finds this one.
            os.replace(self._backup_path, self._previous_path)
        atomic_write(self._backup_path, lambda handle: handle.write(data))
        barrier()

    def _read_backup(self):
        """`(path, tensors, info)` of the newest readable backup, `None` when there is none."""
        paths = [path for path in (self._backup_path, self._previous_path) if os.path.exists(path)]
        errors = []
        for path in paths:
            try:
                tensors, info = _read_backup_file(path)
            except ValueError as error:
                errors.append(error)
                continue
            if errors:
                warnings.warn(f"{errors[0]} Restoring the previous backup {path!r} instead.", UserWarning, stacklevel=3)
            return path, tensors, info
        if errors:
            raise errors[0]
        return None

    def _delete_backup(self):
        stale = glob.glob(os.path.join(glob.escape(self.backup_dir), f".{BACKUP_FILENAME}*.tmp"))
        for path in [self._backup_path, self._previous_path, *stale]:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
        try:
            os.rmdir(self.backup_dir)  # only when nothing else is in it
        except OSError:
            pass


def _read_backup_file(path):
    """`(tensors, info)` of a backup file; `ValueError` for anything unreadable."""
    safetensors_torch()  # a clear error when safetensors is missing
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 - not a dict
        if metadata.get("format") != FORMAT_NAME:
            raise ValueError(f"its metadata 'format' is {metadata.get('format')!r}, expected {FORMAT_NAME!r}")
        if metadata.get("format_version") != str(FORMAT_VERSION):
            raise ValueError(f"format version {metadata.get('format_version')!r}, this ember reads {FORMAT_VERSION}")
        info = json.loads(metadata["state"])
    except Exception as error:  # noqa: BLE001 - any parse failure means an unusable file
        raise ValueError(MSG_UNREADABLE.format(path=path, error=error)) from None
    return tensors, info


def _encode_log(value):
    if isinstance(value, np.ndarray):  # a metric with several values
        return {"array": value.tolist(), "dtype": str(value.dtype)}
    return value


def _decode_log(value):
    if isinstance(value, dict) and "array" in value:
        return np.asarray(value["array"], dtype=value["dtype"])
    return value


def _layers_by_path(model):
    """`{layer path: layer}` by the model's structure, as weights files name layers (not by layer name)."""
    return {path: layer for path, layer, _ in layer_entries(model)}


def _seeded_generators(model):
    """`{layer path: torch.Generator}` of the layers drawing from their own generator (seeded layers)."""
    generators = {}
    for path, layer in _layers_by_path(model).items():
        generator = layer.__dict__.get("_generator")
        if isinstance(generator, torch.Generator):
            generators[path] = generator
    return generators


def _capture_random_state(model, tensors):
    """Every random generator's state: JSON-able parts returned, arrays added to `tensors`."""
    _, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    tensors["random/torch"] = torch.get_rng_state()
    tensors["random/numpy"] = torch.from_numpy(keys.astype(np.int64))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"random/cuda/{index}"] = state.cpu()
    layers = {}
    for name, generator in _seeded_generators(model).items():
        layers[name] = str(generator.device)
        tensors[f"random/layers/{name}"] = generator.get_state()
    return {
        "python": [version, list(internal), gauss_next],
        "numpy": [int(position), int(has_gauss), float(cached_gaussian)],
        "cuda_devices": sum(key.startswith("random/cuda/") for key in tensors),
        "layers": layers,
    }


def _capture_metric_state(model, tensors):
    saved = []
    for j, metric in enumerate(model.metrics):
        variables = metric.variables
        saved.append({"name": metric.name, "shapes": [list(v.shape) for v in variables]})
        tensors.update({f"metrics/{j}/{i}": _cpu(v) for i, v in enumerate(backup_state(variables))})
    return saved


class _ResumeState:
    """What `fit` needs to continue from a backup; the weights and optimizer are restored on creation.

    The training loop reads `epoch`, `batch`, `position` and `order` and calls
    the `restore_*` methods (see `ember.trainer.trainer`). Everything is checked
    against the model before anything is changed.
    """

    def __init__(self, model, tensors, info, path):
        self._model, self._tensors, self._info, self._path = model, tensors, info, path
        self.epoch, self.batch, self.position = int(info["epoch"]), int(info["batch"]), int(info["position"])
        order = tensors.get("data/order")
        self.order = order.tolist() if order is not None and info["order"] == "list" else order
        self.history = {key: [_decode_log(v) for v in values] for key, values in info["history"].items()}
        self.history_epochs = list(info["history_epochs"])
        self._restore_model(path)

    def _mismatch(self, detail):
        return ValueError(MSG_MISMATCH.format(path=self._path, detail=detail))

    def _restore_model(self, path):
        model, tensors = self._model, self._tensors
        variables = model.optimizer.variables
        saved = [tensors[f"optimizer/{i}"] for i in range(sum(k.startswith("optimizer/") for k in tensors))]
        if [tuple(v.shape) for v in variables] != [tuple(s.shape) for s in saved]:
            raise self._mismatch(
                f"it holds {len(saved)} optimizer variables of shapes {[tuple(s.shape) for s in saved]}, the "
                f"optimizer {model.optimizer.name!r} has {len(variables)} of shapes {[tuple(v.shape) for v in variables]}"
            )
        missing = sorted(set(self._info["random"]["layers"]) - set(_layers_by_path(model)))
        if missing:
            raise self._mismatch(f"it holds the random generators of layers {missing}, which the model lacks")
        weights = {key[len("weights/"):]: value for key, value in tensors.items() if key.startswith("weights/")}
        assign_weights(model, weights, repr(path))  # checks every weight before assigning any
        model.optimizer.load_own_variables({str(i): value for i, value in enumerate(saved)})

    def restore_history(self, history):
        """Refill the `History` of this `fit` with the epochs trained before the interruption."""
        if history is not None:
            history.history = {key: list(values) for key, values in self.history.items()}
            history.epoch = list(self.history_epochs)

    def restore_random_state(self):
        """Put every random generator back in its backed-up state."""
        saved, tensors = self._info["random"], self._tensors
        version, internal, gauss_next = saved["python"]
        random.setstate((version, tuple(internal), gauss_next))
        position, has_gauss, cached_gaussian = saved["numpy"]
        np.random.set_state(("MT19937", tensors["random/numpy"].numpy().astype(np.uint32), position, has_gauss,
                             cached_gaussian))
        torch.set_rng_state(tensors["random/torch"])
        cuda = [tensors[f"random/cuda/{i}"] for i in range(saved["cuda_devices"])]
        if cuda and torch.cuda.is_available() and torch.cuda.device_count() == len(cuda):
            torch.cuda.set_rng_state_all(cuda)
        layers = _layers_by_path(self._model)
        for path, device in saved["layers"].items():
            generator = torch.Generator(device=device)
            generator.set_state(tensors[f"random/layers/{path}"])
            layers[path]._generator = generator

    def restore_metric_state(self):
        """Put the metrics back in their state part-way through the epoch (they were just reset)."""
        if not is_main_process():
            return  # rank 0 restores the processes' combined state; the others start from zero
        saved = self._info["metrics"] or []
        current = {}
        for metric in self._model.metrics:
            current.setdefault(metric.name, metric)
        missed = []
        for j, entry in enumerate(saved):
            metric = current.get(entry["name"])
            variables = metric.variables if metric is not None else []
            if [list(v.shape) for v in variables] != entry["shapes"]:
                missed.append(entry["name"])
                continue
            with torch.no_grad():
                for i, variable in enumerate(variables):
                    variable.copy_(self._tensors[f"metrics/{j}/{i}"].to(device=variable.device, dtype=variable.dtype))
        if missed:
            warnings.warn(
                f"BackupAndRestore could not restore the partial-epoch state of metrics {missed} (created or "
                f"built only when the first batch arrives); their values for epoch {self.epoch + 1} cover only the "
                "batches trained after the restart.",
                UserWarning,
                stacklevel=2,
            )

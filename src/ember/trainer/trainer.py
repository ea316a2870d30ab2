"""compile / fit / evaluate / predict.

The loop is two iterators: ``_epochs`` yields epoch indices and runs
validation and epoch callbacks; ``_run_steps`` drives one pass of batches
through a step function and dispatches batch callbacks only when some
callback listens. Everything the loop reads from the device is read lazily
(see ``ember.trainer.logs``).

Resuming (``ember.callbacks.BackupAndRestore``): during ``fit`` the training
data's ``EpochIterator`` is ``model._fit_train_iterator`` (its ``position()``
is what a backup records). A callback that restores a backup in
``on_train_begin`` sets ``model._resume_state``, an object with ``epoch``,
``batch`` (batches of that epoch already trained), ``position``/``order``
(for ``EpochIterator.epoch(resume_at=...)``) and the methods
``restore_history(history)``, ``restore_random_state()`` and
``restore_metric_state()``. The loop takes it right after ``on_train_begin``,
starts at that epoch and batch, and calls the restore methods at the points
where the backup was taken: the random state before ``on_epoch_begin`` when
resuming at an epoch's start, else (with the partial-epoch metric state) just
before the first resumed batch.
"""

import dataclasses
import itertools
import sys
import warnings

import numpy as np
import torch

from ember import callbacks as callbacks_module
from ember import optimizers as optimizers_module
from ember.backend.strings import is_string_array
from ember.data import EpochIterator, adapter_for, class_weight_batch_fn, split_validation, unpack_x_y_sample_weight
from ember.data.adapters import is_array_data
from ember.distribute import trainer_hooks as _distribute
from ember.metrics import Mean
from ember.trainer import compiled_steps as _compiled_steps
from ember.trainer import steps as _steps
from ember.mixed_precision.loss_scaling import optimizer_for_policy
from ember.trainer.compile_utils import CompiledLoss, CompiledMetrics
from ember.trainer.devices import place_model, resolve_device
from ember.trainer.logs import Logs, to_float
from ember.trainer.predict_output import PredictOutput
from ember.tree import flatten, map_structure

__all__ = ["compile_model", "evaluate", "fit", "predict"]


@dataclasses.dataclass
class CompileConfig:
    loss: CompiledLoss
    metrics: CompiledMetrics
    run_eagerly: bool
    jit_compile: object
    steps_per_execution: int = 1


class _TorchOptimizer:
    """Lets a ``torch.optim.Optimizer`` instance be passed to ``compile``."""

    def __init__(self, optimizer):
        self.torch_optimizer = optimizer

    def zero_grad(self, params=None):
        self.torch_optimizer.zero_grad(set_to_none=True)

    def step(self, params=None):
        self.torch_optimizer.step()

    def __getattr__(self, name):
        return getattr(self.torch_optimizer, name)


def model_device(model):
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def compile_model(model, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                  weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile="auto",
                  auto_scale_loss=True, device=None):
    _check_positive_int(steps_per_execution, "steps_per_execution")
    model._requested_device = resolve_device(device)
    if isinstance(optimizer, torch.optim.Optimizer):
        model.optimizer = _TorchOptimizer(optimizer)
    else:
        model.optimizer = optimizer_for_policy(model, optimizers_module.get(optimizer), auto_scale_loss)
    if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict, int, float)):
        raise TypeError(f"`loss_weights` must be a list, dict or number, got {type(loss_weights).__name__}.")
    if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
        raise TypeError(
            f"`metrics` must be a list (or a dict keyed by output name), got {type(metrics).__name__}: "
            f"{metrics!r}. Wrap it in a list: metrics=[{metrics!r}]."
        )
    _check_loss_identifiers(loss)
    if jit_compile not in (True, False, "auto"):
        raise ValueError(f"`jit_compile` must be True, False or 'auto', got {jit_compile!r}.")
    _compiled_steps.configure(model, jit_compile, run_eagerly)
    model._compile_config = CompileConfig(
        loss=CompiledLoss(loss, loss_weights),
        metrics=CompiledMetrics(metrics, weighted_metrics),
        run_eagerly=bool(run_eagerly),
        jit_compile=jit_compile,
        steps_per_execution=int(steps_per_execution),
    )
    model._loss_tracker = Mean(name="loss")
    model._added_metrics = {}
    names = model.output_names
    if names is None and not isinstance(metrics, dict):
        names = ["output"]  # a subclassed model: assume one output until a batch says otherwise
    if names:
        model._compile_config.metrics.build(list(names), model._compile_config.loss)
    model.compiled = True
    model.loss = loss


def _check_loss_identifiers(loss):
    """Fail at compile time (not at the first batch) on unknown loss strings."""
    from ember import losses as losses_module

    for entry in flatten(loss) if isinstance(loss, (list, tuple, dict)) else [loss]:
        if isinstance(entry, str):
            losses_module.get(entry)


def _require_compiled(model, method):
    if not getattr(model, "compiled", False):
        raise RuntimeError(
            f"You must call `compile()` before `{method}()`: e.g. "
            "model.compile(optimizer='rmsprop', loss='sparse_categorical_crossentropy')."
        )


def _resolve_verbose(verbose):
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto', got {verbose!r}.")
    return verbose


def _prepare_for_training(model):
    _distribute.prepare_model(model)
    device = place_model(model)
    _steps.collect_trainable_params(model)
    model._regularized_weights = [w for w in model.weights if getattr(w, "regularizer", None) is not None]
    model._callable_loss_fns = [fn for layer in model._flatten_layers() for fn in layer._callable_losses]
    for metric in model.metrics:
        metric.to(device)
    return device


def _run_steps(model, batches, step_fn, callbacks, hook, step=0):
    """Feed one epoch of ``batches`` to ``step_fn``, numbering them from ``step``; returns (logs, steps).

    With ``steps_per_execution=N`` batch callbacks see groups of N steps as
    Keras does: ``on_*_batch_begin(first)`` and ``on_*_batch_end(first + N - 1)``
    (also for a last, shorter group), and ``stop_training`` is read after each group.
    """
    listen = getattr(callbacks, f"needs_{hook}_batch_hooks", True)
    begin = getattr(callbacks, f"on_{hook}_batch_begin")
    end = getattr(callbacks, f"on_{hook}_batch_end")
    per_call = getattr(getattr(model, "_compile_config", None), "steps_per_execution", 1)
    run_group = getattr(step_fn, "run_group", None) if per_call > 1 else None
    if run_group is not None:  # a compiled train step running a whole group per call
        return _run_groups(model, batches, run_group, (listen, begin, end), per_call, hook, step)
    logs, group_start = None, None
    for batch in batches:
        if group_start is None:
            group_start = step
            if listen:
                begin(step)
        logs = step_fn(batch)
        step += 1
        if step - group_start == per_call:
            if listen:
                end(step - 1, logs if isinstance(logs, Logs) else Logs(logs))
            group_start = None
            if hook == "train" and model.stop_training:
                break
    if group_start is not None and listen:
        end(group_start + per_call - 1, logs if isinstance(logs, Logs) else Logs(logs))
    return logs, step


def _run_groups(model, batches, run_group, hooks, per_call, hook, step):
    """``_run_steps`` for a step function that takes ``per_call`` batches at a time."""
    listen, begin, end = hooks
    batches, logs = iter(batches), None
    while group := list(itertools.islice(batches, per_call)):
        if listen:
            begin(step)
        logs = run_group(group)
        if listen:
            end(step + per_call - 1, logs if isinstance(logs, Logs) else Logs(logs))
        step += len(group)
        if hook == "train" and model.stop_training:
            break
    return logs, step


def _final_logs(model, logs):
    if logs is None or isinstance(logs, Logs):
        return dict(Logs(model.metrics))
    return dict(Logs(logs))


class _Default:
    """Marks an argument left at its default (so an explicit shuffle=True can warn where ignored)."""

    def __init__(self, value):
        self.value = value

    def __bool__(self):
        return bool(self.value)

    def __repr__(self):
        return repr(self.value)


_SHUFFLE_DEFAULT = _Default(True)


def _epoch_iterator(model, x, y, sample_weight, batch_size, device, *, shuffle=False, class_weight=None,
                    steps=None, continue_across_epochs=False, argument="x", pool=None, shard=True):
    shuffle_explicit = not isinstance(shuffle, _Default)
    if not shuffle_explicit:
        shuffle = shuffle.value
    if shuffle not in (True, False, "batch"):
        raise ValueError(f"`shuffle` must be True, False or 'batch', got {shuffle!r}.")
    pool = pool or {}
    adapter = adapter_for(
        x, y, sample_weight, batch_size, shuffle=shuffle, class_weight=class_weight, argument=argument,
        input_names=model.input_names, shuffle_explicit=shuffle_explicit, **pool,
    )
    if shard:
        adapter = _distribute.shard(adapter, shard)  # this process's share when several run (see ember.distribute)
    if getattr(adapter, "infinite", False) and steps is None:
        raise ValueError(
            f"`{argument}` is an infinite data source (it never runs out), so the number of batches per "
            f"epoch must be given: pass `steps_per_epoch` (fit), `validation_steps` or `steps` "
            f"(evaluate/predict)."
        )
    if hasattr(adapter, "to"):
        adapter.to(device)
    weight_fn = None if getattr(adapter, "yields_device_tensors", False) else class_weight_batch_fn(class_weight)
    return EpochIterator(adapter, device, steps=steps, continue_across_epochs=continue_across_epochs,
                         class_weight_fn=weight_fn)


def _pool_args(workers, use_multiprocessing, max_queue_size):
    return {"workers": workers, "use_multiprocessing": use_multiprocessing, "max_queue_size": max_queue_size}


def fit(model, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=_SHUFFLE_DEFAULT, class_weight=None,
        sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
        validation_batch_size=None, validation_freq=1, max_queue_size=None, workers=None,
        use_multiprocessing=None):
    _require_compiled(model, "fit")
    verbose = _resolve_verbose(verbose)
    _check_positive_int(epochs, "epochs", allow_zero=True)
    _check_positive_int(steps_per_epoch, "steps_per_epoch", optional=True)
    _check_positive_int(validation_steps, "validation_steps", optional=True)
    if validation_split and validation_data is None:
        (x, y, sample_weight), validation_data = split_validation(x, y, sample_weight, validation_split)
    elif validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be a float in (0, 1), got {validation_split!r}.")
    device = _prepare_for_training(model)
    pool = _pool_args(workers, use_multiprocessing, max_queue_size)
    train = _epoch_iterator(
        model, x, y, sample_weight, batch_size, device, shuffle=shuffle, class_weight=class_weight,
        steps=steps_per_epoch, continue_across_epochs=steps_per_epoch is not None, pool=pool,
    )
    val = None
    try:
        if validation_data is not None:
            vx, vy, vsw = _unpack_validation(validation_data)
            val = _epoch_iterator(model, vx, vy, vsw, validation_batch_size or batch_size, device,
                                  steps=validation_steps, argument="validation_data", pool=pool)
        model._fit_train_iterator = train
        return _fit_loop(model, train, val, epochs, initial_epoch, verbose, callbacks, validation_freq)
    finally:
        _distribute.finish_fit(model)
        model._fit_train_iterator = None
        model._resume_state = None
        train.close()
        if val is not None:
            val.close()


def _fit_loop(model, train, val, epochs, initial_epoch, verbose, callbacks, validation_freq):
    steps = train.steps or train.num_batches
    callback_list = callbacks_module.CallbackList(
        callbacks, add_history=True, add_progbar=verbose != 0, model=model,
        verbose=verbose, epochs=epochs, steps=steps,
    )
    model.stop_training = False
    step_fn = _distribute.wrap_step(model, _compiled_steps.step_function(model, "train"), "train")
    callback_list.on_train_begin()
    resume, model._resume_state = getattr(model, "_resume_state", None), None
    if resume is not None:
        initial_epoch = resume.epoch
        resume.restore_history(callback_list.history)
    epoch_logs, total_steps = {}, 0
    for epoch in range(initial_epoch, epochs):
        if resume is not None and resume.batch == 0:
            resume.restore_random_state()
        model.reset_metrics()
        model.train(True)
        callback_list.on_epoch_begin(epoch)
        if resume is None:
            batches, first = train.epoch(), 0
        else:
            batches, first = train.epoch(resume_at=(resume.batch, resume.position, resume.order)), resume.batch
            if first:
                resume.restore_metric_state()
                resume.restore_random_state()
            resume = None
        logs, ran = _run_steps(model, batches, step_fn, callback_list, "train", first)
        total_steps += ran
        if ran == 0:
            if total_steps == 0:
                raise ValueError(
                    "The training data produced no batches. Check that it is not empty (and that a "
                    "generator has not already been consumed)."
                )
            warnings.warn(_ran_out_message(epoch, steps, 0), UserWarning, stacklevel=3)
            break
        epoch_logs = _final_logs(model, _distribute.sync_logs(model, logs))
        if val is not None and _should_validate(epoch, validation_freq):
            val_logs = _evaluate_loop(model, val, callback_list)
            epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
        train.on_epoch_end()
        callback_list.on_epoch_end(epoch, epoch_logs)
        if train.exhausted and train.persistent:
            if train.steps is not None and ran < train.steps:
                warnings.warn(_ran_out_message(epoch, train.steps, ran), UserWarning, stacklevel=3)
                break
            if train.steps is None and epoch + 1 < epochs:
                warnings.warn(
                    f"Your input ran out of data after epoch {epoch + 1} ({ran} steps): a generator or "
                    f"iterator is never restarted, so training stopped before epoch {epoch + 2} of {epochs}. "
                    "Pass `steps_per_epoch` with a generator that yields `steps_per_epoch * epochs` batches "
                    "(e.g. one that loops forever), or a re-iterable dataset.",
                    UserWarning, stacklevel=3,
                )
                break
        if model.stop_training:
            break
    if epochs > 0 and hasattr(model.optimizer, "finalize_variable_values"):
        # As Keras: e.g. with `use_ema=True`, the weights become their moving averages.
        model.optimizer.finalize_variable_values(model.trainable_weights)
    model.train(False)
    callback_list.on_train_end(epoch_logs)
    return model.history


def _ran_out_message(epoch, expected, ran):
    return (
        f"Your input ran out of data in epoch {epoch + 1}: {ran} of {expected or 'the expected'} steps ran; "
        "training stopped. A generator is never restarted, and a dataset is not restarted when "
        "`steps_per_epoch` is set: make sure the data can produce `steps_per_epoch * epochs` batches "
        "(e.g. repeat it) or lower `steps_per_epoch`."
    )


def _check_positive_int(value, name, optional=False, allow_zero=False):
    if value is None and optional:
        return
    minimum = 0 if allow_zero else 1
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}.")


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int) and not isinstance(validation_freq, bool):
        if validation_freq < 1:
            raise ValueError(f"`validation_freq` must be >= 1, got {validation_freq}.")
        return (epoch + 1) % validation_freq == 0
    if isinstance(validation_freq, (list, tuple, set)):
        return epoch + 1 in validation_freq
    raise ValueError(f"`validation_freq` must be an int or a list of epochs, got {validation_freq!r}.")


def _unpack_validation(validation_data):
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) and is_array_data(validation_data[0]):
        return unpack_x_y_sample_weight(tuple(validation_data))
    if isinstance(validation_data, (tuple, list)):
        raise ValueError(
            "`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight) of "
            f"arrays, or a dataset/generator/Sequence; got a {type(validation_data).__name__} of "
            f"{len(validation_data)} elements."
        )
    return validation_data, None, None


def _evaluate_loop(model, data, callback_list):
    model.reset_metrics()
    model.train(False)
    callback_list.on_test_begin()
    with torch.no_grad():
        test_fn = _distribute.wrap_step(model, _compiled_steps.step_function(model, "test"), "test")
        logs, ran = _run_steps(model, data.epoch(), test_fn, callback_list, "test")
    if ran == 0:
        raise ValueError(
            "The evaluation data produced no batches: it is empty, or a generator given as "
            "`validation_data` ran dry (set `validation_steps` so each validation run takes only that many)."
        )
    logs = _final_logs(model, _distribute.sync_logs(model, logs))
    callback_list.on_test_end(logs)
    return logs


def evaluate(model, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
             callbacks=None, return_dict=False, max_queue_size=None, workers=None, use_multiprocessing=None):
    _require_compiled(model, "evaluate")
    verbose = _resolve_verbose(verbose)
    _check_positive_int(steps, "steps", optional=True)
    device = _prepare_for_training(model)
    data = _epoch_iterator(model, x, y, sample_weight, batch_size, device, steps=steps,
                           pool=_pool_args(workers, use_multiprocessing, max_queue_size))
    try:
        callback_list = callbacks_module.CallbackList(
            callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, epochs=1,
            steps=steps or data.num_batches,
        )
        logs = _evaluate_loop(model, data, callback_list)
    finally:
        data.close()
    if return_dict:
        return logs
    values = [logs[name] for name in model.metrics_names if name in logs] or list(logs.values())
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None, max_queue_size=None,
            workers=None, use_multiprocessing=None):
    verbose = _resolve_verbose(verbose)
    _check_positive_int(steps, "steps", optional=True)
    _distribute.prepare_model(model)
    device = place_model(model)
    data = _epoch_iterator(model, x, None, None, batch_size, device, steps=steps,
                           pool=_pool_args(workers, use_multiprocessing, max_queue_size), shard="predict")
    outputs = PredictOutput(getattr(data.adapter, "num_samples", None))

    predict_fn = _distribute.wrap_step(model, _compiled_steps.step_function(model, "predict"), "predict")

    def step(batch):
        outputs.append(predict_fn(batch))
        return {}

    run_group = getattr(predict_fn, "run_group", None)
    if run_group is not None:  # compiled steps_per_execution groups: one output per batch

        def step_group(batches):
            for output in run_group(batches):
                outputs.append(output)
            return {}

        step.run_group = step_group

    try:
        callback_list = callbacks_module.CallbackList(
            callbacks, add_progbar=verbose != 0, model=model, verbose=verbose, epochs=1,
            steps=steps or data.num_batches,
        )
        model.train(False)
        callback_list.on_predict_begin()
        with torch.no_grad():
            _run_steps(model, data.epoch(), step, callback_list, "predict")
        callback_list.on_predict_end()
    finally:
        data.close()
    if outputs.empty:
        raise ValueError("predict() got no batches: the input is empty.")
    return _distribute.gather_outputs(outputs.result(), data)


def _single_batch(model, x, y, sample_weight, class_weight=None):
    device = _prepare_for_training(model)
    data = _epoch_iterator(model, x, y, sample_weight, _num_samples(x), device, class_weight=class_weight,
                           shard=False)
    return next(iter(data.epoch()))


def train_on_batch(model, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
    _require_compiled(model, "train_on_batch")
    batch = _single_batch(model, x, y, sample_weight, class_weight)
    model.reset_metrics()
    model.train(True)
    logs = model.train_step(batch)
    model.train(False)
    return _single_batch_result(model, logs, return_dict)


def test_on_batch(model, x, y=None, sample_weight=None, return_dict=False):
    _require_compiled(model, "test_on_batch")
    batch = _single_batch(model, x, y, sample_weight)
    model.reset_metrics()
    model.train(False)
    with torch.no_grad():
        logs = model.test_step(batch)
    return _single_batch_result(model, logs, return_dict)


def _predict_leaf(value, device):
    if not isinstance(value, torch.Tensor):
        value = np.asarray(value)
        if is_string_array(value):
            return value  # strings stay NumPy arrays on the host
    return torch.as_tensor(value).to(device)


def predict_on_batch(model, x):
    model.train(False)
    device = place_model(model)
    x = map_structure(lambda a: _predict_leaf(a, device), x)
    with torch.no_grad():
        out = model.predict_step((x,))
    return map_structure(lambda t: t.cpu().numpy(), out)


def _num_samples(x):
    return int(flatten(x)[0].shape[0])


def _single_batch_result(model, logs, return_dict):
    logs = _final_logs(model, logs)
    if return_dict:
        return logs
    values = [to_float(logs[name]) for name in model.metrics_names if name in logs]
    return values[0] if len(values) == 1 else values

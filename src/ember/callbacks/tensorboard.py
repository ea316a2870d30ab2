"""`TensorBoard`: writes training logs for TensorBoard, without TensorFlow.

Event files are written with `torch.utils.tensorboard.SummaryWriter`, which
needs only the `tensorboard` package. The run layout, tag names and steps
follow Keras's callback, so dashboards built for Keras logs read these too.
"""

import contextlib
import io
import os
import socket
import time
import warnings

import numpy as np
import torch

from ember.backend import in_symbolic_scope
from ember.callbacks._tensorboard_utils import (
    check_frequency,
    parse_profile_batch,
    parse_update_freq,
    scalar_items,
    weight_images,
    weights_by_path,
)
from ember.callbacks.callback import Callback
from ember.distribute.process_group import is_main_process
from ember.distribute.rank_zero import NullSummaryWriter
from ember.layers.layer import Layer, _to_keras_layout
from ember.tree import flatten

__all__ = ["TensorBoard"]

MSG_MISSING_TENSORBOARD = (
    "The TensorBoard callback needs the `tensorboard` package (TensorFlow is not needed). "
    'Install it with: pip install "ember[tensorboard]"'
)


def _summary_writer_class():
    """`SummaryWriter`, or an ImportError naming the extra to install."""
    try:
        import tensorboard  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError(MSG_MISSING_TENSORBOARD) from error
    return SummaryWriter


def _has_embeddings(layer):
    return isinstance(layer, Layer) and any(
        w.name == "embeddings" and w.ndim == 2 for w in layer._own_weights
    )


def _learning_rate(optimizer):
    from ember.optimizers import Optimizer

    if isinstance(optimizer, Optimizer):
        return float(optimizer.learning_rate)
    return None


def _iterations(optimizer):
    iterations = getattr(optimizer, "iterations", None) if optimizer is not None else None
    return None if iterations is None else int(iterations)


class TensorBoard(Callback):
    """Writes logs that TensorBoard displays: metrics, weight histograms, the graph, profiles.

    Needs only the `tensorboard` package (`pip install "ember[tensorboard]"`),
    not TensorFlow. View the logs with `tensorboard --logdir <log_dir>`.

    Written under `log_dir`, as Keras does:

    - `train/` and `validation/` runs. At every epoch end the train run gets
      `epoch_<name>` for each training log (`epoch_loss`, `epoch_accuracy`),
      `epoch_learning_rate` (when the optimizer is an ember optimizer) and
      `epoch_steps_per_second` (with `write_steps_per_second`); the
      validation run gets the `val_` logs under the same `epoch_<name>` tags,
      without the prefix. The step is the 0-based epoch index. A metric with
      several values (an array) gets one tag per value, `epoch_<name>/<i>`.
    - After every validation (and `evaluate`) run, the validation run gets
      `evaluation_<name>_vs_iterations` at step `optimizer.iterations`.
    - With `update_freq="batch"` or an integer N, the train run gets
      `batch_<name>` (the running averages of the epoch so far) every N
      training batches, at step = the number of training batches since `fit`
      began (1-based), plus `batch_steps_per_second` with
      `write_steps_per_second`. Reading batch logs waits for the device, so
      with `update_freq="epoch"` (the default) this callback does not listen
      to batch hooks at all. Epoch-level values are written whatever
      `update_freq` is (Keras 3 skips them when the number of batches so far
      is not a multiple of an integer `update_freq`).
    - `histogram_freq=N`: at epochs 0, N, 2N... a histogram of every weight of
      every layer in `model.layers`, tagged `<weight path>/histogram`, where
      the path is Keras's: `dense/kernel` in a functional model,
      `<model name>/dense/kernel` in a Sequential or subclassed one. With
      `write_images`, also the weight as an image, `<weight path>/image`
      (`<weight path>/image/<i>` for the first three images of a kernel with
      several), in Keras's layout and orientation.
    - `write_graph`: the model's op graph, traced with `torch.jit.trace` on
      the first training batch after the first epoch (Keras writes its
      layer-level model config instead). Models whose forward cannot be
      traced get a warning and no graph.
    - `profile_batch`: the given training batches (1-based, counted from the
      start of `fit`) are recorded with `torch.profiler` into
      `train/plugins/profile/<timestamp>/<host>.pt.trace.json`, a Chrome
      trace that Perfetto, `chrome://tracing` or TensorBoard's PyTorch
      profiler plugin open (Keras's torch backend has no profiling).
    - `embeddings_freq=N`: at epochs 0, N, 2N... each layer of `model.layers`
      with a 2-D weight named `embeddings` (as an `Embedding` layer has) is
      written as `embeddings/<epoch>/<layer>/tensors.tsv` and listed in
      `projector_config.pbtxt` for the Projector. A model without such layers
      gets nothing.

    Args:
        log_dir: Directory to write the logs to.
        histogram_freq: Epoch frequency of weight histograms; 0 for none.
        write_graph: Whether to write the model's graph.
        write_images: Whether to write weights as images (with histograms).
        write_steps_per_second: Whether to log training steps per second.
        update_freq: `"epoch"`, `"batch"` (every batch) or an integer N
            (every N batches): how often training metrics are written.
        profile_batch: Training batch to profile, a `(start, stop)` pair of
            batches, or a `"start,stop"` string; 0 turns profiling off.
        embeddings_freq: Epoch frequency of embedding snapshots; 0 for none.
        embeddings_metadata: File name of a metadata TSV (labels, one row per
            embedding row) for every embedding layer, or a dict mapping layer
            names to such files; paths are relative to `log_dir`.

    Example:
        >>> import tempfile, numpy as np, ember
        >>> model = ember.Sequential([ember.Input(shape=(3,)), ember.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 1), "float32")
        >>> with tempfile.TemporaryDirectory() as log_dir:
        ...     _ = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
        ...                   callbacks=[TensorBoard(log_dir)])
        ...     sorted(os.listdir(log_dir))
        ['train', 'validation']
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self._writer_class = _summary_writer_class()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = check_frequency(histogram_freq, "histogram_freq")
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = parse_update_freq(update_freq)
        self.embeddings_freq = check_frequency(embeddings_freq, "embeddings_freq")
        if embeddings_metadata is not None and not isinstance(embeddings_metadata, (str, dict)):
            raise TypeError(
                "`embeddings_metadata` must be None, a file name or a dict of layer name to file "
                f"name, got {type(embeddings_metadata).__name__} {embeddings_metadata!r}."
            )
        self.embeddings_metadata = embeddings_metadata
        self._start_batch, self._stop_batch = parse_profile_batch(profile_batch)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}
        self._global_train_batch = 0
        self._in_fit = False
        self._profiler = None
        self._profile_done = self._start_batch == 0
        self._batch_annotation = None
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0
        self._graph_pending = False
        self._graph_inputs = None
        self._graph_hook = None
        self._projector_entries = []

    # -- writers ----------------------------------------------------------------

    def _writer(self, run):
        if run not in self._writers:
            directory = self._train_dir if run == "train" else self._val_dir
            writer_class = self._writer_class if is_main_process() else NullSummaryWriter  # rank 0 writes
            self._writers[run] = writer_class(log_dir=directory)
        return self._writers[run]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model):
        super().set_model(model)
        self._close_writers()
        self._remove_graph_hook()
        self._graph_pending = self.write_graph
        self._graph_inputs = None
        self._projector_entries = []
        if self.embeddings_freq:
            self._check_embeddings_metadata()

    def _wants_batch_hooks(self, family):
        if family != "train":
            return False
        return self.update_freq != "epoch" or not self._profile_done

    # -- fit --------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._in_fit = True
        self._global_train_batch = 0
        self._profile_done = self._start_batch == 0  # each fit profiles its own batches
        if self._graph_pending and self.model is not None and self._graph_hook is None:
            self._graph_hook = self.model.register_forward_pre_hook(self._capture_graph_inputs)

    def on_train_end(self, logs=None):
        self._in_fit = False
        self._remove_graph_hook()
        if self._profiler is not None:
            self._stop_profiler()
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_time = time.time()
            self._epoch_start_iterations = _iterations(getattr(self.model, "optimizer", None)) or 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self._write_epoch_scalars(epoch, logs)
        if self._graph_pending and self._graph_inputs is not None:
            self._write_graph()
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._write_embeddings(epoch)

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()
        if not self._profile_done:
            if self._global_train_batch == self._start_batch:
                self._start_profiler()
            if self._profiler is not None:
                self._batch_annotation = torch.profiler.record_function(f"batch_{batch}")
                self._batch_annotation.__enter__()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq != "epoch" and self._global_train_batch % self.update_freq == 0:
            step = self._global_train_batch
            writer = self._writer("train")
            if self.write_steps_per_second:
                elapsed = max(time.time() - self._batch_start_time, 1e-12)
                writer.add_scalar("batch_steps_per_second", 1.0 / elapsed, step)
            for tag, value in scalar_items("batch_", logs or {}):
                writer.add_scalar(tag, value, step)
        if self._profiler is not None:
            if self._batch_annotation is not None:
                self._batch_annotation.__exit__(None, None, None)
                self._batch_annotation = None
            if self._global_train_batch >= self._stop_batch:
                self._stop_profiler()

    # -- evaluate ---------------------------------------------------------------

    def on_test_end(self, logs=None):
        iterations = _iterations(getattr(self.model, "optimizer", None))
        if iterations is not None and logs:
            writer = self._writer("validation")
            for tag, value in scalar_items("evaluation_", logs):
                writer.add_scalar(f"{tag}_vs_iterations", value, iterations)
        if not self._in_fit:
            self._close_writers()

    # -- what gets written ------------------------------------------------------

    def _write_epoch_scalars(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        learning_rate = _learning_rate(optimizer)
        if learning_rate is not None:
            train_logs["learning_rate"] = learning_rate
        if self.write_steps_per_second:
            steps = (_iterations(optimizer) or 0) - self._epoch_start_iterations
            train_logs["steps_per_second"] = steps / max(time.time() - self._epoch_start_time, 1e-12)
        for run, run_logs in (("train", train_logs), ("validation", val_logs)):
            if run_logs:
                writer = self._writer(run)
                for tag, value in scalar_items("epoch_", run_logs):
                    writer.add_scalar(tag, value, epoch)

    def _write_weights(self, epoch):
        writer = self._writer("train")
        for path, weight in weights_by_path(self.model):
            values = _to_keras_layout(weight)
            writer.add_histogram(f"{path}/histogram", values, epoch)
            if self.write_images:
                images = weight_images(values)
                if images is None:
                    continue
                if len(images) == 1:
                    writer.add_image(f"{path}/image", images[0], epoch, dataformats="HWC")
                else:
                    for index, image in enumerate(images[:3]):
                        writer.add_image(f"{path}/image/{index}", image, epoch, dataformats="HWC")
        writer.flush()

    def _capture_graph_inputs(self, module, args):
        if self._graph_inputs is None and not in_symbolic_scope():
            leaves = flatten(args)
            if leaves and all(isinstance(leaf, torch.Tensor) for leaf in leaves):
                self._graph_inputs = args
                self._remove_graph_hook()

    def _remove_graph_hook(self):
        if self._graph_hook is not None:
            self._graph_hook.remove()
            self._graph_hook = None

    def _write_graph(self):
        inputs = self._graph_inputs
        self._graph_pending, self._graph_inputs = False, None
        try:
            # A failed trace is also printed before it is raised: the warning below reports it once.
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
                # Tracing is the point here: its deprecation and tracer notices are not for the user.
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                # `compile(jit_compile=True)` sets a compiled `forward` on the instance, which
                # cannot be traced; the class's eager `forward` computes the same graph.
                compiled_forward = self.model.__dict__.pop("forward", None)
                try:
                    self._writer("train").add_graph(self.model, inputs, use_strict_trace=False)
                finally:
                    if compiled_forward is not None:
                        self.model.__dict__["forward"] = compiled_forward
        except Exception as error:  # noqa: BLE001 - any tracing failure only costs the graph
            warnings.warn(
                f"TensorBoard could not trace the model to write its graph ({type(error).__name__}: "
                f"{error}). No graph was written; pass write_graph=False to skip it.",
                UserWarning,
                stacklevel=2,
            )

    # -- embeddings -------------------------------------------------------------

    def _embedding_layers(self):
        return [layer for layer in self.model.layers if _has_embeddings(layer)]

    def _check_embeddings_metadata(self):
        if not isinstance(self.embeddings_metadata, dict):
            return
        names = {layer.name for layer in self._embedding_layers()}
        unknown = sorted(set(self.embeddings_metadata) - names)
        if unknown:
            raise ValueError(
                f"`embeddings_metadata` names layers {unknown} that are not embedding layers of the "
                f"model; its embedding layers are {sorted(names)}. Use their names as keys."
            )

    def _write_embeddings(self, epoch):
        from google.protobuf import text_format
        from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

        layers = self._embedding_layers()
        if not layers or not is_main_process():
            return
        for layer in layers:
            weight = next(w for w in layer._own_weights if w.name == "embeddings")
            relative = os.path.join("embeddings", f"{epoch:05d}", layer.name, "tensors.tsv")
            path = os.path.join(self.log_dir, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            np.savetxt(path, weight.detach().cpu().numpy(), delimiter="\t", fmt="%.9g")
            metadata = self.embeddings_metadata
            if isinstance(metadata, dict):
                metadata = metadata.get(layer.name)
            self._projector_entries.append((f"{layer.name}/embeddings/epoch_{epoch}", relative, metadata))
        config = ProjectorConfig()
        for name, tensor_path, metadata_path in self._projector_entries:
            embedding = config.embeddings.add()
            embedding.tensor_name = name
            embedding.tensor_path = tensor_path
            if metadata_path:
                embedding.metadata_path = metadata_path
        with open(os.path.join(self.log_dir, "projector_config.pbtxt"), "w") as file:
            file.write(text_format.MessageToString(config))

    # -- profiling --------------------------------------------------------------

    def _start_profiler(self):
        activities = [torch.profiler.ProfilerActivity.CPU]
        if torch.cuda.is_available():
            activities.append(torch.profiler.ProfilerActivity.CUDA)
        self._profiler = torch.profiler.profile(activities=activities)
        self._profiler.start()

    def _stop_profiler(self):
        profiler, self._profiler = self._profiler, None
        self._profile_done = True
        if self._batch_annotation is not None:
            self._batch_annotation.__exit__(None, None, None)
            self._batch_annotation = None
        profiler.stop()
        if not is_main_process():
            return
        directory = os.path.join(self._train_dir, "plugins", "profile", time.strftime("%Y_%m_%d_%H_%M_%S"))
        os.makedirs(directory, exist_ok=True)
        profiler.export_chrome_trace(os.path.join(directory, f"{socket.gethostname()}.pt.trace.json"))

"""TensorBoard: event files read back with TensorBoard's own reader and server.

Keras's TensorBoard callback writes through `tensorflow.summary`; the
differential tests run it with a small recording stand-in for that module
(so TensorFlow is not needed) and compare the tags, steps and values Keras
would write with the event files ember writes.
"""

import contextlib
import glob
import io
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import types
import urllib.request

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import ember
from ember.callbacks import CallbackList, TensorBoard
from ember.callbacks._tensorboard_utils import weight_images

STEPS, VAL_STEPS = 4, 2  # batches per epoch with 16 training / 8 validation samples of 4


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = (x @ np.array([[0.5], [-1.0], [0.25]], "float32") + 0.1).astype("float32")
    return x, y


def dense_model(name="net"):
    return ember.Sequential(
        [ember.Input(shape=(3,)), ember.layers.Dense(4, activation="relu", name="hidden"),
         ember.layers.Dense(1, name="out")],
        name=name,
    )


def fit(log_dir, epochs=3, optimizer="sgd", validation=True, **tensorboard_kwargs):
    x, y = data()
    model = dense_model()
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    callback = TensorBoard(log_dir, **tensorboard_kwargs)
    history = model.fit(x, y, batch_size=4, epochs=epochs, verbose=0, shuffle=False,
                        validation_data=(x[:8], y[:8]) if validation else None, callbacks=[callback])
    return model, history


def read(log_dir, run):
    accumulator = EventAccumulator(os.path.join(log_dir, run), size_guidance={
        "scalars": 0, "histograms": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def scalars(accumulator, tag):
    events = accumulator.Scalars(tag)
    return [e.step for e in events], [e.value for e in events]


def as_float32(values):
    return [float(np.float32(v)) for v in values]


# -- epoch scalars ---------------------------------------------------------------


def test_epoch_scalars_equal_the_history_in_train_and_validation_runs(tmp_path):
    schedule = ember.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)
    _, history = fit(tmp_path, optimizer=ember.optimizers.SGD(schedule))
    train, validation = read(tmp_path, "train"), read(tmp_path, "validation")

    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_mae", "epoch_learning_rate"}
    for name in ("loss", "mae"):
        assert scalars(train, f"epoch_{name}") == ([0, 1, 2], as_float32(history.history[name]))
        assert scalars(validation, f"epoch_{name}") == ([0, 1, 2], as_float32(history.history[f"val_{name}"]))
    # The schedule's value after each epoch's updates: 0.05 * 0.5 ** (iterations / 3).
    expected_lr = [0.05 * 0.5 ** (STEPS * (epoch + 1) / 3) for epoch in range(3)]
    steps, values = scalars(train, "epoch_learning_rate")
    assert steps == [0, 1, 2]
    np.testing.assert_allclose(values, expected_lr, rtol=1e-6)
    # Each validation run is also logged against the number of optimizer steps so far.
    for name in ("loss", "mae"):
        assert scalars(validation, f"evaluation_{name}_vs_iterations") == (
            [STEPS, 2 * STEPS, 3 * STEPS], as_float32(history.history[f"val_{name}"]))
    assert not [tag for tag in validation.Tags()["scalars"] if tag.startswith("batch_")]


def test_without_validation_data_only_the_train_run_is_written(tmp_path):
    fit(tmp_path, epochs=1, validation=False, write_graph=False)
    assert sorted(os.listdir(tmp_path)) == ["train"]


def test_a_metric_with_several_values_gets_one_tag_per_value(tmp_path):
    model = dense_model()
    callback = TensorBoard(tmp_path, write_graph=False)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0, {"loss": 0.5, "f1_score": np.array([0.25, 0.75]), "val_f1_score": torch.tensor([0.5, 1.0])})
    callback.on_train_end()
    train, validation = read(tmp_path, "train"), read(tmp_path, "validation")
    assert scalars(train, "epoch_f1_score/0") == ([0], [0.25])
    assert scalars(train, "epoch_f1_score/1") == ([0], [0.75])
    assert scalars(validation, "epoch_f1_score/1") == ([0], [1.0])


# -- batch scalars and the batch hooks -------------------------------------------


def test_update_freq_batch_writes_the_running_averages_at_global_batch_steps(tmp_path):
    model = dense_model()
    x, y = data()
    model.compile(optimizer="sgd", loss="mse")
    initial_predictions = model.predict(x[:4], verbose=0)
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False,
                        callbacks=[TensorBoard(tmp_path, update_freq="batch", write_graph=False)])
    steps, values = scalars(read(tmp_path, "train"), "batch_loss")
    assert steps == list(range(1, 2 * STEPS + 1))  # counted across epochs, from 1
    # The first value is the first batch's loss under the initial weights.
    np.testing.assert_allclose(values[0], np.mean((initial_predictions - y[:4]) ** 2), rtol=1e-5)
    # The running average after an epoch's last batch is that epoch's loss.
    assert [values[STEPS - 1], values[-1]] == as_float32(history.history["loss"])


def test_the_default_does_not_listen_to_batch_hooks():
    # Reading batch logs waits for the device: only batch-level logging may ask for them.
    assert not CallbackList([TensorBoard()]).needs_train_batch_hooks
    assert not CallbackList([TensorBoard(histogram_freq=1, write_images=True)]).needs_train_batch_hooks
    assert CallbackList([TensorBoard(update_freq="batch")]).needs_train_batch_hooks
    assert CallbackList([TensorBoard(update_freq=10)]).needs_train_batch_hooks
    assert CallbackList([TensorBoard(profile_batch=2)]).needs_train_batch_hooks
    for family in ("test", "predict"):
        assert not getattr(CallbackList([TensorBoard(update_freq=1)]), f"needs_{family}_batch_hooks")


def test_epoch_logging_reads_no_batch_logs(tmp_path, monkeypatch):
    from ember.trainer.logs import Logs

    reads = []
    original = Logs._materialize

    def counting_materialize(self):
        if self._values is None:  # a read from the device, not a cached lookup
            reads.append(1)
        return original(self)

    monkeypatch.setattr(Logs, "_materialize", counting_materialize)
    fit(tmp_path, epochs=2, validation=False, write_graph=False)
    assert len(reads) == 2  # each epoch's final logs, none of the STEPS batch logs
    reads.clear()
    fit(tmp_path, epochs=2, validation=False, write_graph=False, update_freq=2)
    assert len(reads) == 2 + STEPS  # plus every second batch of the 2 epochs


# -- differential test against Keras's callback ----------------------------------


class _SummaryRecorder:
    """A stand-in for `tensorflow.summary` recording what Keras's callback writes."""

    def __init__(self):
        self.records = []
        self.writer, self.step, self.condition = None, None, True

    def module(self):
        recorder = self

        class Writer:
            def __init__(self, logdir):
                self.run = os.path.basename(logdir)

            @contextlib.contextmanager
            def as_default(self, step=None):
                saved = recorder.writer, recorder.step
                recorder.writer, recorder.step = self, recorder.step if step is None else step
                try:
                    yield self
                finally:
                    recorder.writer, recorder.step = saved

            def close(self):
                pass

            def flush(self):
                pass

        @contextlib.contextmanager
        def record_if(condition):
            saved, recorder.condition = recorder.condition, condition
            try:
                yield
            finally:
                recorder.condition = saved

        def summary_op(kind):
            def write(name, data, step=None, **kwargs):
                condition = recorder.condition
                if recorder.writer is None or not (condition() if callable(condition) else condition):
                    return False
                step = recorder.step if step is None else step
                recorder.records.append((recorder.writer.run, kind, name, int(step), np.asarray(data)))
                return True
            return write

        summary = types.ModuleType("tensorflow.summary")
        summary.create_file_writer, summary.record_if = Writer, record_if
        summary.scalar, summary.histogram, summary.image = (
            summary_op("scalar"), summary_op("histogram"), summary_op("image"))
        tensorflow = types.ModuleType("tensorflow")
        tensorflow.summary = summary
        return tensorflow, summary


def fake_tensorflow(monkeypatch):
    """Installs the recording `tensorflow.summary` (undone by `monkeypatch`)."""
    import tensorboard.compat

    tensorboard.compat.tf.io  # noqa: B018 - resolve TensorBoard's lazy TF stub before faking TF
    from keras.src.utils.module_utils import tensorflow as keras_lazy_tensorflow

    recorder = _SummaryRecorder()
    tensorflow, summary = recorder.module()
    # Whatever Keras might cache about TensorFlow meanwhile is undone with the fake.
    monkeypatch.setattr(keras_lazy_tensorflow, "module", keras_lazy_tensorflow.module)
    monkeypatch.setattr(keras_lazy_tensorflow, "_available", keras_lazy_tensorflow._available)
    monkeypatch.setitem(sys.modules, "tensorflow", tensorflow)
    monkeypatch.setitem(sys.modules, "tensorflow.summary", summary)
    return recorder, summary


def keras_records(keras, monkeypatch, weights, log_dir, epochs, **kwargs):
    recorder, _ = fake_tensorflow(monkeypatch)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu", name="hidden"),
                              keras.layers.Dense(1, name="out")], name="net")
    model.set_weights(weights)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = data()
    model.fit(x, y, batch_size=4, epochs=epochs, verbose=0, shuffle=False, validation_data=(x[:8], y[:8]),
              callbacks=[keras.callbacks.TensorBoard(str(log_dir), write_graph=False, **kwargs)])
    monkeypatch.delitem(sys.modules, "tensorflow")
    monkeypatch.delitem(sys.modules, "tensorflow.summary")
    return recorder.records


def test_tags_steps_and_values_match_keras(keras, monkeypatch, tmp_path):
    kwargs = dict(update_freq=2, histogram_freq=2, write_images=True, write_steps_per_second=True)
    model = dense_model()
    weights = model.get_weights()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = data()
    model.fit(x, y, batch_size=4, epochs=3, verbose=0, shuffle=False, validation_data=(x[:8], y[:8]),
              callbacks=[TensorBoard(tmp_path / "ember", **kwargs)])
    records = keras_records(keras, monkeypatch, weights, tmp_path / "keras", 3, **kwargs)

    runs = {run: read(tmp_path / "ember", run) for run in ("train", "validation")}
    ours = {(run, "scalar", tag, e.step): e.value
            for run, acc in runs.items() for tag in acc.Tags()["scalars"] for e in acc.Scalars(tag)}
    ours.update({(run, "histogram", tag, e.step): e.histogram_value
                 for run, acc in runs.items() for tag in acc.Tags()["histograms"] for e in acc.Histograms(tag)})
    ours.update({(run, "image", tag, e.step): e.encoded_image_string
                 for run, acc in runs.items() for tag in acc.Tags()["images"] for e in acc.Images(tag)})
    theirs = {(run, kind, tag, step): value for run, kind, tag, step, value in records}
    assert set(ours) == set(theirs)
    assert ("train", "scalar", "batch_loss", 12) in ours and ("train", "histogram", "net/hidden/kernel/histogram", 2) in ours

    for key, expected in theirs.items():
        run, kind, tag, step = key
        if kind == "scalar" and "steps_per_second" not in tag:
            np.testing.assert_allclose(ours[key], expected, rtol=1e-4, atol=1e-6, err_msg=str(key))
        elif kind == "histogram":
            histogram = ours[key]
            assert histogram.num == expected.size
            np.testing.assert_allclose([histogram.min, histogram.max, histogram.sum],
                                       [expected.min(), expected.max(), expected.sum()], atol=1e-5)
        elif kind == "image":
            pixels = np.asarray(Image.open(io.BytesIO(ours[key])))[..., :1]
            # TensorFlow's image summaries: value * 255.5, saturated to uint8.
            expected_pixels = np.clip(expected[0] * 255.5, 0, 255).astype(np.uint8)
            np.testing.assert_allclose(pixels, expected_pixels, atol=1, err_msg=str(key))


# -- weights: histograms and images ----------------------------------------------


def test_histograms_hold_the_weights_every_histogram_freq_epochs(tmp_path):
    model, _ = fit(tmp_path, epochs=3, histogram_freq=2, write_graph=False)
    train = read(tmp_path, "train")
    assert sorted(train.Tags()["histograms"]) == sorted(
        f"net/{layer}/{weight}/histogram" for layer in ("hidden", "out") for weight in ("kernel", "bias"))
    assert train.Tags()["images"] == []
    final = {"hidden": model.layers[0], "out": model.layers[1]}
    for layer_name, layer in final.items():
        events = train.Histograms(f"net/{layer_name}/kernel/histogram")
        assert [e.step for e in events] == [0, 2]
        kernel = layer.get_weights()[0]
        value = events[-1].histogram_value  # written after the last epoch: the final weights
        assert value.num == kernel.size and sum(value.bucket) == kernel.size
        np.testing.assert_allclose([value.min, value.max, value.sum, value.sum_squares],
                                   [kernel.min(), kernel.max(), kernel.sum(), (kernel ** 2).sum()], rtol=1e-5)


def test_no_histograms_by_default(tmp_path):
    fit(tmp_path, epochs=1, write_graph=False)
    assert read(tmp_path, "train").Tags()["histograms"] == []


def test_conv_kernels_are_written_as_one_image_per_output_channel(tmp_path):
    model = ember.Sequential([ember.Input(shape=(5, 2)), ember.layers.Conv1D(4, 2, name="conv"),
                              ember.layers.Flatten(), ember.layers.Dense(1, name="out")], name="cnn")
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(1).normal(size=(8, 5, 2)).astype("float32")
    model.fit(x, x[:, :1, 0], epochs=1, verbose=0,
              callbacks=[TensorBoard(tmp_path, histogram_freq=1, write_images=True, write_graph=False)])
    train = read(tmp_path, "train")
    # A (width, in, out) = (2, 2, 4) kernel: Keras shows the first three of its four channel images.
    assert [t for t in train.Tags()["images"] if t.startswith("cnn/conv/kernel")] == [
        f"cnn/conv/kernel/image/{i}" for i in range(3)]
    kernel = model.layers[0].get_weights()[0]
    for channel in range(3):
        encoded = train.Images(f"cnn/conv/kernel/image/{channel}")[0].encoded_image_string
        pixels = np.asarray(Image.open(io.BytesIO(encoded)))[..., 0]
        np.testing.assert_array_equal(pixels, np.clip(kernel[:, :, channel] * 255.5, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("shape", [(3,), (1, 1), (2, 5), (5, 2), (2, 1, 4), (3, 2, 4), (2, 2, 2, 3),
                                   (2, 2, 2, 5), (1, 3, 1, 4), ()])
def test_weight_images_match_keras(keras, monkeypatch, shape):
    values = np.linspace(-0.5, 1.5, int(np.prod(shape))).reshape(shape).astype("float32")
    recorder, summary = fake_tensorflow(monkeypatch)
    with summary.create_file_writer("run").as_default():
        keras.callbacks.TensorBoard()._log_weight_as_image(values, "weight", 0)
    images = weight_images(values)
    if not recorder.records:
        assert images is None
        return
    [(_, _, _, _, expected)] = recorder.records
    assert images.dtype == np.uint8
    # TensorFlow's image summaries: value * 255.5, saturated to uint8.
    np.testing.assert_array_equal(images, np.clip(expected * 255.5, 0, 255).astype(np.uint8))


# -- graph -----------------------------------------------------------------------


def test_write_graph_writes_the_traced_model_graph(tmp_path):
    fit(tmp_path / "with", epochs=1)
    train = read(tmp_path / "with", "train")
    assert train.Tags()["graph"]
    nodes = train.Graph().node
    assert any("Dense" in node.name for node in nodes)
    assert any(node.op == "aten::relu" for node in nodes)
    fit(tmp_path / "without", epochs=1, write_graph=False)
    assert not read(tmp_path / "without", "train").Tags()["graph"]


def test_an_instance_level_forward_such_as_jit_compile_sets_is_traced_through_the_class(tmp_path):
    # compile(jit_compile=True) puts a compiled `forward` on the instance; tracing it fails.
    model = dense_model()
    eager_forward = model.forward

    def untraceable_forward(*args, **kwargs):
        if torch.jit.is_tracing():
            raise RuntimeError("a compiled forward cannot be traced")
        return eager_forward(*args, **kwargs)

    model.compile(optimizer="sgd", loss="mse")
    model.__dict__["forward"] = untraceable_forward
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path)])
    assert read(tmp_path, "train").Tags()["graph"]
    assert model.__dict__["forward"] is untraceable_forward


def test_a_graph_that_cannot_be_traced_warns_and_training_goes_on(tmp_path, monkeypatch):
    from torch.utils.tensorboard import SummaryWriter

    def failing_add_graph(self, *args, **kwargs):
        raise RuntimeError("cannot trace this model")

    monkeypatch.setattr(SummaryWriter, "add_graph", failing_add_graph)
    with pytest.warns(UserWarning, match="could not trace the model.*cannot trace this model.*write_graph=False"):
        _, history = fit(tmp_path, epochs=2)
    assert scalars(read(tmp_path, "train"), "epoch_loss")[1] == as_float32(history.history["loss"])


# -- evaluate --------------------------------------------------------------------


def test_evaluate_alone_logs_against_the_optimizer_iterations(tmp_path):
    model = dense_model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = data()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    loss = model.evaluate(x, y, batch_size=8, verbose=0, callbacks=[TensorBoard(tmp_path)])
    # Written and closed when evaluate returns: readable right away.
    assert scalars(read(tmp_path, "validation"), "evaluation_loss_vs_iterations") == ([2], as_float32([loss]))


# -- profiling -------------------------------------------------------------------


@pytest.mark.parametrize("profile_batch, annotations", [(2, ["batch_1"]), ((2, 3), ["batch_1", "batch_2"]),
                                                        ("4,5", ["batch_3", "batch_0"])])
def test_profile_batch_records_a_chrome_trace(tmp_path, profile_batch, annotations):
    callback = TensorBoard(tmp_path, profile_batch=profile_batch, write_graph=False)
    model = dense_model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = data()
    callbacks = CallbackList([callback], model=model)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=callbacks)
    assert not callbacks.needs_train_batch_hooks  # nothing left to profile
    traces = glob.glob(os.path.join(tmp_path, "train", "plugins", "profile", "*", "*.pt.trace.json"))
    assert len(traces) == 1
    with open(traces[0]) as file:
        events = sorted(json.load(file)["traceEvents"], key=lambda event: event.get("ts", 0))
    names = [event.get("name") for event in events]
    assert [name for name in names if name in ("batch_0", "batch_1", "batch_2", "batch_3")] == annotations


@pytest.mark.parametrize("profile_batch", [-1, (3, 2), (0, 2), (1, 2, 3), "a,b", 1.5, True])
def test_bad_profile_batch_is_rejected(profile_batch):
    with pytest.raises(ValueError, match=r"profile_batch must be a non-negative integer.*got"):
        TensorBoard(profile_batch=profile_batch)


# -- embeddings ------------------------------------------------------------------


class Embed(ember.layers.Layer):
    def __init__(self, input_dim, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = input_dim, output_dim

    def build(self, input_shape):
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim))

    def call(self, inputs):
        return torch.nn.functional.embedding(inputs.long(), self.embeddings)


def test_embeddings_freq_is_a_no_op_without_embedding_layers(tmp_path):
    fit(tmp_path, epochs=2, embeddings_freq=1, write_graph=False)
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    with pytest.raises(ValueError, match=r"embeddings_metadata.*\['words'\].*embedding layers are \[\]"):
        fit(tmp_path, epochs=1, embeddings_freq=1, embeddings_metadata={"words": "words.tsv"})


def test_embedding_weights_are_written_for_the_projector(tmp_path):
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    model = ember.Sequential([ember.Input(shape=(2,), dtype="int64"), Embed(5, 3, name="words"),
                              ember.layers.Flatten(), ember.layers.Dense(1)], name="tagger")
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([[0, 1], [2, 3], [4, 0], [1, 2]], dtype="int64")
    model.fit(x, np.ones((4, 1), "float32"), epochs=3, verbose=0, callbacks=[TensorBoard(
        tmp_path, embeddings_freq=2, embeddings_metadata={"words": "words.tsv"}, write_graph=False)])
    config = text_format.Parse((tmp_path / "projector_config.pbtxt").read_text(), ProjectorConfig())
    assert [(e.tensor_name, e.metadata_path) for e in config.embeddings] == [
        ("words/embeddings/epoch_0", "words.tsv"), ("words/embeddings/epoch_2", "words.tsv")]
    final = np.loadtxt(tmp_path / config.embeddings[1].tensor_path, delimiter="\t")
    np.testing.assert_array_equal(final.astype("float32"), model.layers[0].get_weights()[0])


# -- arguments and the optional dependency ---------------------------------------


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(update_freq="sometimes"), ValueError, r"update_freq.*'epoch', 'batch' or an integer >= 1.*'sometimes'"),
    (dict(update_freq=0), ValueError, r"update_freq.*got update_freq=0"),
    (dict(histogram_freq=-1), ValueError, r"histogram_freq.*integer >= 0.*got histogram_freq=-1"),
    (dict(embeddings_freq="1"), ValueError, r"embeddings_freq.*got embeddings_freq='1'"),
    (dict(embeddings_metadata=3), TypeError, r"embeddings_metadata.*got int 3"),
])
def test_bad_arguments_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        TensorBoard(**kwargs)


def test_missing_tensorboard_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match=re.escape('pip install "ember[tensorboard]"')):
        TensorBoard()


# -- the TensorBoard server --------------------------------------------------------


def _server_url(server, lines, deadline):
    """The address the server prints on stderr once it listens."""
    while time.monotonic() < deadline and server.poll() is None:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if match:
            return match.group(1)
    return None


def _get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_the_tensorboard_server_serves_the_logged_scalars(tmp_path):
    _, history = fit(tmp_path, epochs=2, write_graph=False)
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(tmp_path), "--host", "127.0.0.1",
         "--port", "0", "--load_fast", "false", "--reload_interval", "1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    lines = queue.Queue()
    # Drained in the background so the server never blocks on a full pipe.
    reader = threading.Thread(target=lambda: [lines.put(line) for line in server.stderr], daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        url = _server_url(server, lines, deadline)
        assert url is not None, "the TensorBoard server did not start"
        data = {}
        while time.monotonic() < deadline:
            if {"train", "validation"} <= set(_get_json(f"{url}/data/runs")):
                data = {run: _get_json(f"{url}/data/plugin/scalars/scalars?run={run}&tag=epoch_loss")
                        for run in ("train", "validation")}
                if all(len(points) == 2 for points in data.values()):
                    break
            time.sleep(0.2)
        # Each point is [wall_time, step, value].
        assert [point[1] for point in data["train"]] == [0, 1]
        assert [point[2] for point in data["train"]] == as_float32(history.history["loss"])
        assert [point[2] for point in data["validation"]] == as_float32(history.history["val_loss"])
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        reader.join(timeout=10)
        server.stderr.close()
    assert server.returncode is not None  # no server left behind


def test_docstring_examples_run():
    import doctest

    from ember.callbacks import _tensorboard_utils, tensorboard

    for module in (tensorboard, _tensorboard_utils):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0

"""Every input kind through fit / evaluate / predict, and the epoch semantics of each."""

import itertools

import numpy as np
import pandas as pd
import pytest
import torch

import ember
from ember import layers


class Recorder(layers.Layer):
    """Records the batch id (first feature of the first sample) of every call, by phase."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = {"train": [], "test": []}

    def call(self, inputs, training=None):
        if not ember.backend.in_symbolic_scope():  # not while the graph is being traced
            self.seen["train" if training else "test"].append(int(inputs[0, 0]))
        return inputs


def recording_model():
    inputs = ember.Input(shape=(3,))
    recorder = Recorder()
    model = ember.Model(inputs, layers.Dense(1)(recorder(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    return model, recorder


def batch(i, size=4):
    x = np.full((size, 3), float(i), dtype="float32")
    return x, np.zeros((size, 1), dtype="float32")


def counting_generator():
    for i in itertools.count():
        yield batch(i)


def test_generator_semantics_from_the_qa():
    """steps_per_epoch=3, epochs=2: batches 0-5 in order; validation_steps=2 draws 0-3 across epochs."""
    model, recorder = recording_model()
    model.fit(counting_generator(), steps_per_epoch=3, epochs=2, validation_data=counting_generator(),
              validation_steps=2, verbose=0)
    assert recorder.seen["train"] == [0, 1, 2, 3, 4, 5]
    assert recorder.seen["test"] == [0, 1, 2, 3]


def test_finite_generator_without_steps_is_consumed_then_training_stops():
    model, recorder = recording_model()
    with pytest.warns(UserWarning, match=r"ran out of data after epoch 1 \(5 steps\).*before epoch 2 of 3"):
        history = model.fit((batch(i) for i in range(5)), epochs=3, verbose=0)
    assert recorder.seen["train"] == [0, 1, 2, 3, 4]
    assert history.epoch == [0]


def test_infinite_iterator_without_steps_is_a_clear_error():
    model, _ = recording_model()
    with pytest.raises(ValueError, match="infinite data source.*steps_per_epoch"):
        model.fit(itertools.cycle([batch(0)]), epochs=1, verbose=0)


class ReIterable:
    """A dataset: each iter() is a fresh pass over 4 batches."""

    def __init__(self, n=4, with_weights=False):
        self.n, self.with_weights = n, with_weights

    def __iter__(self):
        for i in range(self.n):
            x, y = batch(i)
            yield (x, y, np.full(4, 2.0, "float32")) if self.with_weights else (x, y)

    def __len__(self):
        return self.n


def test_dataset_restarts_each_epoch_and_validation_restarts_each_run():
    model, recorder = recording_model()
    model.fit(ReIterable(), epochs=2, validation_data=ReIterable(), validation_steps=2, verbose=0)
    assert recorder.seen["train"] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert recorder.seen["test"] == [0, 1, 0, 1]  # same validation samples every epoch


def test_dataset_with_steps_per_epoch_continues_then_stops_with_warning():
    model, recorder = recording_model()
    with pytest.warns(UserWarning, match=r"ran out of data in epoch 3: 0 of 3 steps"):
        history = model.fit(ReIterable(6), epochs=4, steps_per_epoch=3, verbose=0)
    assert recorder.seen["train"] == [0, 1, 2, 3, 4, 5]
    assert history.epoch == [0, 1]


def test_sample_weight_as_third_batch_element():
    model, _ = recording_model()
    unweighted = model.evaluate(ReIterable(), verbose=0)
    weighted = model.evaluate(ReIterable(with_weights=True), verbose=0)
    assert weighted == pytest.approx(2 * unweighted, rel=1e-6)


def test_torch_dataset_and_dataloader():
    x = torch.arange(40, dtype=torch.float32).reshape(10, 4)[:, :3].contiguous()
    x[:, 0] = torch.arange(10, dtype=torch.float32)
    y = torch.zeros(10, 1)
    dataset = torch.utils.data.TensorDataset(x, y)
    model, recorder = recording_model()
    model.fit(dataset, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert recorder.seen["train"] == [0, 4, 8, 0, 4, 8]  # map-style: batched for you, in order
    loader = torch.utils.data.DataLoader(dataset, batch_size=5)
    recorder.seen["train"].clear()
    model.fit(loader, epochs=1, verbose=0)
    assert recorder.seen["train"] == [0, 5]
    with pytest.warns(UserWarning, match="shuffle=True` is ignored for a DataLoader"):
        model.fit(loader, epochs=1, shuffle=True, verbose=0)
    assert model.predict(loader, verbose=0).shape == (10, 1)
    np.testing.assert_allclose(model.evaluate(loader, verbose=0), model.evaluate(x.numpy(), y.numpy(), verbose=0), rtol=1e-5)
    with pytest.raises(ValueError, match="Do not pass `batch_size` when `x` is a DataLoader"):
        model.fit(loader, batch_size=5, verbose=0)


def test_iterable_style_torch_dataset():
    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            for i in range(6):
                yield torch.full((3,), float(i)), torch.zeros(1)

    model, recorder = recording_model()
    model.fit(Stream(), batch_size=2, epochs=2, verbose=0)
    assert recorder.seen["train"] == [0, 2, 4, 0, 2, 4]


def test_pandas_inputs_by_column_name():
    frame = pd.DataFrame({"a": np.arange(8.0), "b": np.ones(8)})
    target = pd.Series(np.arange(8.0))
    a = ember.Input(shape=(1,), name="a")
    b = ember.Input(shape=(1,), name="b")
    model = ember.Model([a, b], layers.Dense(1)(layers.concatenate([a, b])))
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(frame, target, epochs=1, verbose=0)  # columns "a" and "b" feed inputs "a" and "b"
    assert "loss" in history.history
    by_hand = model.predict({"a": frame[["a"]].to_numpy(), "b": frame[["b"]].to_numpy()}, verbose=0)
    np.testing.assert_allclose(model.predict(frame, verbose=0), by_hand)
    single = ember.Sequential([ember.Input(shape=(2,)), layers.Dense(1)])
    single.compile(optimizer="sgd", loss="mse")
    single.fit(frame, target, epochs=1, verbose=0)
    np.testing.assert_allclose(single.predict(frame, verbose=0), single.predict(frame.to_numpy(), verbose=0))


def test_tf_dataset_is_converted_batch_by_batch():
    class FakeTFDataset:
        """Stands in for tf.data.Dataset (TensorFlow is not installed here): same duck type."""

        def __init__(self, n):
            self.n = n

        def cardinality(self):
            return np.int64(self.n)

        def as_numpy_iterator(self):
            return iter([batch(i) for i in range(self.n)])

    FakeTFDataset.__module__ = "tensorflow.python.data.ops.dataset_ops"
    model, recorder = recording_model()
    model.fit(FakeTFDataset(3), epochs=2, verbose=0)
    assert recorder.seen["train"] == [0, 1, 2, 0, 1, 2]
    infinite = FakeTFDataset(-1)
    with pytest.raises(ValueError, match="infinite data source"):
        model.fit(infinite, epochs=1, verbose=0)


def test_unknown_length_shows_unknown_until_first_epoch_ends(capsys, monkeypatch):
    monkeypatch.setattr("ember.utils.progbar._stdout_is_interactive", lambda: True)
    model, _ = recording_model()
    model.fit(ReIterableNoLen(), epochs=2, verbose=1)
    out = capsys.readouterr().out
    first, second = out.split("Epoch 2/2")
    assert "/Unknown" in first and "/Unknown" not in second and "4/4" in second


class ReIterableNoLen(ReIterable):
    __len__ = None


def test_inconsistent_generator_batches_are_a_clear_error():
    def gen():
        yield batch(0)
        yield batch(1)[0].astype("int64"), batch(1)[1]

    model, _ = recording_model()
    with pytest.raises(ValueError, match="Batch 1 has a different structure or dtypes"):
        model.fit(gen(), epochs=1, verbose=0)


def test_batch_not_matching_model_inputs_names_them():
    a = ember.Input(shape=(1,), name="a")
    b = ember.Input(shape=(1,), name="b")
    model = ember.Model([a, b], layers.Dense(1)(layers.concatenate([a, b])))
    model.compile(optimizer="sgd", loss="mse")
    data = [({"a": np.ones((2, 1)), "c": np.ones((2, 1))}, np.ones((2, 1)))]
    with pytest.raises(ValueError, match=r"expects inputs named \['a', 'b'\].*missing \['b'\]"):
        model.fit(ReIterableFrom(data), epochs=1, verbose=0)


class ReIterableFrom:
    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


def test_empty_and_invalid_data_errors():
    model, _ = recording_model()
    with pytest.raises(ValueError, match="produced no batches"):
        model.fit(iter([]), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="empty arrays"):
        model.fit(np.zeros((0, 3)), np.zeros((0, 1)), verbose=0)
    with pytest.raises(ValueError, match="validation_split` is only supported for NumPy arrays"):
        model.fit(counting_generator(), steps_per_epoch=1, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="`y` must not be given"):
        model.fit(counting_generator(), np.zeros(3), steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match=r"x\['b'\]: 3"):
        ember.data.adapter_for({"a": np.zeros((4, 1)), "b": np.zeros((3, 1))}, np.zeros(4))


def test_evaluate_and_predict_steps_with_generators():
    model, recorder = recording_model()
    model.evaluate(counting_generator(), steps=3, verbose=0)
    assert recorder.seen["test"] == [0, 1, 2]
    out = model.predict((batch(i)[0] for i in range(3)), verbose=0)
    assert out.shape == (12, 1)


def test_generator_aliases_are_deprecated_but_work():
    model, recorder = recording_model()
    with pytest.warns(DeprecationWarning, match="fit_generator is deprecated; use Model.fit"):
        model.fit_generator(counting_generator(), steps_per_epoch=2, epochs=1, verbose=0)
    assert recorder.seen["train"] == [0, 1]
    with pytest.warns(DeprecationWarning, match="evaluate_generator"):
        model.evaluate_generator(counting_generator(), steps=2, verbose=0)
    with pytest.warns(DeprecationWarning, match="predict_generator"):
        assert model.predict_generator(counting_generator(), steps=2, verbose=0).shape == (8, 1)


def test_keras2_pool_arguments_are_accepted_for_generators():
    model, recorder = recording_model()
    model.fit(counting_generator(), steps_per_epoch=2, epochs=1, workers=2, use_multiprocessing=False,
              max_queue_size=5, verbose=0)
    assert recorder.seen["train"] == [0, 1]


def test_shuffle_batch_mode_shuffles_within_batch_sized_chunks():
    torch.manual_seed(0)
    x = np.arange(20, dtype="float32").reshape(20, 1)
    adapter = ember.data.adapter_for(x, x, batch_size=8, shuffle="batch")
    epochs = [[b[0][:, 0].long().tolist() for b in adapter] for _ in range(3)]
    for batches in epochs:
        chunks = sorted(sorted(b) for b in batches)
        assert chunks == [list(range(0, 8)), list(range(8, 16)), list(range(16, 20))]
    assert len({tuple(map(tuple, batches)) for batches in epochs}) > 1  # a new order each epoch
    model, recorder = recording_model()
    with pytest.raises(ValueError, match="`shuffle` must be True, False or 'batch'"):
        model.fit(np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"), shuffle="yes", verbose=0)


def test_fit_shuffle_batch_reaches_the_array_adapter():
    model, recorder = recording_model()
    x = np.repeat(np.arange(12, dtype="float32"), 3).reshape(12, 3)
    torch.manual_seed(0)
    model.fit(x, np.zeros((12, 1), "float32"), batch_size=4, epochs=2, shuffle="batch", verbose=0)
    # each batch's first sample comes from one 4-sample chunk; all chunks are seen every epoch
    for epoch in (recorder.seen["train"][:3], recorder.seen["train"][3:]):
        assert sorted(first // 4 for first in epoch) == [0, 1, 2]

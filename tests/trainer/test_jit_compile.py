"""compile(jit_compile=True): whole train/test/predict steps through torch.compile.

The oracle is the same model trained eagerly from the same weights: losses,
metrics, weights and predictions must agree within 1e-4. Where only the
mechanism is under test, the steps compile with the cheap ``aot_eager``
backend; one test uses the default inductor backend.
"""

import numpy as np
import pytest
import torch
from torch._dynamo.backends.registry import lookup_backend

import ember
from ember import layers


class CountingBackend:
    """A torch.compile backend that counts the graphs it compiles."""

    def __init__(self, inner="aot_eager"):
        self.inner = inner
        self.graphs = 0

    def __call__(self, graph_module, example_inputs):
        self.graphs += 1
        return lookup_backend(self.inner)(graph_module, example_inputs)


def _mlp(seed=0, subclass=None):
    torch.manual_seed(seed)
    inputs = ember.Input(shape=(5,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    outputs = layers.Dense(3, activation="softmax")(hidden)
    return (subclass or ember.Model)(inputs, outputs)


def _data(n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = rng.integers(0, 3, n)
    weights = rng.uniform(0.5, 1.5, n).astype("float32")
    return x, y, weights


def _compiled(model, backend="aot_eager", **compile_kwargs):
    compile_kwargs.setdefault("loss", "sparse_categorical_crossentropy")
    compile_kwargs.setdefault("metrics", ["sparse_categorical_accuracy"])
    model.compile(jit_compile=True, **compile_kwargs)
    model._step_compiler.backend = backend
    return model


def _assert_histories_close(eager, compiled):
    assert eager.keys() == compiled.keys()
    for key in eager:
        np.testing.assert_allclose(compiled[key], eager[key], rtol=1e-4, atol=1e-6, err_msg=key)


def _assert_weights_close(eager_model, compiled_model):
    for expected, actual in zip(eager_model.get_weights(), compiled_model.get_weights()):
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6)


OPTIMIZERS = {
    "sgd_nesterov": lambda: ember.optimizers.SGD(learning_rate=0.05, momentum=0.5, nesterov=True),
    "adam_schedule": lambda: ember.optimizers.Adam(
        learning_rate=ember.optimizers.schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)
    ),
    "rmsprop_centered_momentum": lambda: ember.optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
    "adamw_eager_update": lambda: ember.optimizers.AdamW(learning_rate=0.01, weight_decay=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fit_matches_eager_with_sample_weights_and_validation(name):
    x, y, weights = _data()
    results = []
    for jit in (False, True):
        model = _mlp()
        if jit:
            _compiled(model, optimizer=OPTIMIZERS[name](), weighted_metrics=["sparse_categorical_accuracy"])
        else:
            model.compile(optimizer=OPTIMIZERS[name](), loss="sparse_categorical_crossentropy",
                          metrics=["sparse_categorical_accuracy"], weighted_metrics=["sparse_categorical_accuracy"])
        history = model.fit(x, y, sample_weight=weights, batch_size=20, epochs=3, shuffle=False,
                            validation_data=(x[:24], y[:24]), validation_batch_size=12, verbose=0)
        results.append((model, history.history))
    (eager_model, eager_history), (jit_model, jit_history) = results
    _assert_histories_close(eager_history, jit_history)
    _assert_weights_close(eager_model, jit_model)
    assert int(jit_model.optimizer.iterations) == int(eager_model.optimizer.iterations) == 6
    assert jit_model._step_compiler.failed is None


def test_partial_last_batch_compiles_once_not_every_epoch():
    x, y, _ = _data(40)  # batches of 16, 16 and 8
    backend = CountingBackend()
    model = _compiled(_mlp(), backend=backend, optimizer=ember.optimizers.Adam(
        learning_rate=ember.optimizers.schedules.ExponentialDecay(0.01, decay_steps=1, decay_rate=0.9)))
    per_epoch = []
    counter = ember.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: per_epoch.append(backend.graphs))
    model.fit(x, y, batch_size=16, epochs=3, shuffle=True, verbose=0, callbacks=[counter])
    # One graph with a dynamic batch size serves the batches of 16 and the last batch of 8; later
    # epochs compile nothing, and the changing learning rate and step count never cause a recompile.
    assert per_epoch == [1, 1, 1]


def test_tensor_state_changed_between_fits_is_read_by_the_compiled_step_without_recompiling():
    x, y, _ = _data(40)
    backend = CountingBackend()
    model = _compiled(_mlp(), backend=backend, optimizer=ember.optimizers.SGD(learning_rate=0.1))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    graphs = backend.graphs
    model.optimizer.learning_rate.assign(0.0)  # a variable: a graph input, read at every step
    frozen = model.get_weights()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    for before, after in zip(frozen, model.get_weights()):
        np.testing.assert_array_equal(after, before)
    model.set_weights([w + 1.0 for w in frozen])
    expected = _mlp(seed=1)
    expected.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x, batch_size=16, verbose=0),
                               expected.predict(x, batch_size=16, verbose=0), rtol=1e-5, atol=1e-6)
    assert backend.graphs == graphs + 1  # only the predict step's graph was new


def test_layer_configuration_changes_take_effect_when_compiled_again():
    # As Keras's compiled steps: Python attributes read while tracing (here `trainable`) are
    # constants of the graph; compile() again traces anew.
    x, y, _ = _data(40)
    model = _compiled(_mlp(), backend=CountingBackend(), optimizer="sgd")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.layers[1].trainable = False
    _compiled(model, backend=CountingBackend(), optimizer="sgd")
    frozen = [w.copy() for w in model.layers[1].get_weights()]
    other = [w.copy() for w in model.layers[2].get_weights()]
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    for before, after in zip(frozen, model.layers[1].get_weights()):
        np.testing.assert_array_equal(after, before)
    assert any(not np.array_equal(b, a) for b, a in zip(other, model.layers[2].get_weights()))


def test_inductor_backend_matches_eager_and_does_not_recompile():
    x, y, _ = _data(40)
    eager = _mlp()
    eager.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    eager_history = eager.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    compiled = _mlp()
    compiled.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                     metrics=["sparse_categorical_accuracy"], jit_compile=True)
    assert compiled._step_compiler.backend == "inductor"
    graphs = []
    counter = ember.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: graphs.append(torch._dynamo.utils.counters["stats"]["unique_graphs"]))
    jit_history = compiled.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[counter]).history
    _assert_histories_close(eager_history, jit_history)
    _assert_weights_close(eager, compiled)
    assert graphs[0] == graphs[1] == graphs[2]
    assert compiled._step_compiler.failed is None


def test_evaluate_and_predict_match_eager():
    x, y, weights = _data(40)
    eager = _mlp()
    eager.compile(loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    backend = CountingBackend()
    compiled = _compiled(_mlp(), backend=backend)
    for _ in range(2):
        expected = eager.evaluate(x, y, sample_weight=weights, batch_size=16, verbose=0, return_dict=True)
        actual = compiled.evaluate(x, y, sample_weight=weights, batch_size=16, verbose=0, return_dict=True)
        assert actual.keys() == expected.keys()
        for key in expected:
            assert actual[key] == pytest.approx(expected[key], rel=1e-5)
    np.testing.assert_allclose(compiled.predict(x, batch_size=16, verbose=0),
                               eager.predict(x, batch_size=16, verbose=0), rtol=1e-5, atol=1e-7)
    assert backend.graphs > 0


class _Untraceable(layers.Layer):
    """Multiplies by one; the graph break makes a full-graph compilation fail."""

    def call(self, inputs):
        torch._dynamo.graph_break()
        return inputs * 1.0


def test_compile_failure_warns_once_and_trains_eagerly():
    x, y, _ = _data(40)
    histories = []
    for jit in (False, True):
        torch.manual_seed(0)
        inputs = ember.Input(shape=(5,))
        outputs = layers.Dense(3, activation="softmax")(_Untraceable()(inputs))
        model = ember.Model(inputs, outputs)
        if not jit:
            model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
            histories.append(model.fit(x, y, batch_size=16, epochs=2, validation_data=(x, y), verbose=0).history)
            continue
        _compiled(model, optimizer="sgd", metrics=None)
        with pytest.warns(UserWarning, match=r"could not be compiled.*Unsupported.*graph_break") as record:
            histories.append(model.fit(x, y, batch_size=16, epochs=2, validation_data=(x, y), verbose=0).history)
            model.predict(x, batch_size=16, verbose=0)
        assert len(record) == 1
        assert "model now runs eagerly" in str(record[0].message)
    _assert_histories_close(*histories)


def test_run_eagerly_and_auto_do_not_compile():
    x, y, _ = _data(40)
    for kwargs in ({"jit_compile": True, "run_eagerly": True}, {"jit_compile": "auto"}, {"jit_compile": False}):
        model = _mlp()
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", **kwargs)
        before = torch._dynamo.utils.counters["stats"]["unique_graphs"]
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        model.evaluate(x, y, batch_size=16, verbose=0)
        assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == before, kwargs
    with pytest.raises(ValueError, match="`jit_compile` must be True, False or 'auto', got 'yes'"):
        _mlp().compile(loss="mse", jit_compile="yes")


class _CustomStepModel(ember.Model):
    """The "customize what happens in fit" pattern: its own train and test steps."""

    def train_step(self, data):
        x, y = data[0], data[1]
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred)
        self.zero_grad()
        loss.backward()
        trainable = [v for v in self.trainable_weights]
        self.optimizer.apply([v.grad for v in trainable], trainable)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data[0], data[1]
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred)
        for metric in self.metrics:
            metric.update_state(loss) if metric.name == "loss" else metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_custom_train_and_test_steps_are_compiled():
    x, y, _ = _data(40)
    eager = _mlp(subclass=_CustomStepModel)
    eager.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    eager_history = eager.fit(x, y, batch_size=16, epochs=2, shuffle=False, validation_data=(x, y), verbose=0).history
    backend = CountingBackend()
    compiled = _compiled(_mlp(subclass=_CustomStepModel), backend=backend, optimizer="adam")
    jit_history = compiled.fit(x, y, batch_size=16, epochs=2, shuffle=False, validation_data=(x, y), verbose=0).history
    _assert_histories_close(eager_history, jit_history)
    _assert_weights_close(eager, compiled)
    assert backend.graphs > 0 and compiled._step_compiler.failed is None


class RecordingBackend(CountingBackend):
    """A counting backend that also keeps each graph's generated Python code."""

    def __init__(self, inner="aot_eager"):
        super().__init__(inner)
        self.code = []

    def __call__(self, graph_module, example_inputs):
        self.code.append(graph_module.code)
        return super().__call__(graph_module, example_inputs)


def _text_classifier(recurrent, seed=0):
    torch.manual_seed(seed)
    inputs = ember.Input(shape=(7,), dtype="int64")
    hidden = layers.Embedding(20, 6, mask_zero=recurrent is layers.GRU)(inputs)
    outputs = layers.Dense(1, activation="sigmoid")(recurrent(5)(hidden))
    return ember.Model(inputs, outputs)


@pytest.mark.parametrize("recurrent", [layers.LSTM, layers.GRU], ids=["lstm_fused", "gru_masked_loop"])
def test_recurrent_model_trains_as_eager_with_the_recurrence_outside_the_graphs(recurrent):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 20, (24, 7))
    x[::3, 4:] = 0  # padding: the masked GRU runs its timestep loop, the LSTM its fused kernel
    y = rng.integers(0, 2, 24).astype("float32")
    fit_kwargs = dict(batch_size=10, epochs=2, shuffle=False, validation_data=(x[:12], y[:12]), verbose=0)
    eager = _text_classifier(recurrent)
    eager.compile(optimizer="adam", loss="binary_crossentropy", metrics=["binary_accuracy"])
    eager_history = eager.fit(x, y, **fit_kwargs).history
    backend = RecordingBackend()
    compiled = _compiled(_text_classifier(recurrent), backend=backend, optimizer="adam", loss="binary_crossentropy",
                         metrics=["binary_accuracy"])
    jit_history = compiled.fit(x, y, **fit_kwargs).history
    assert eager_history.keys() == jit_history.keys()
    for key in eager_history:
        np.testing.assert_allclose(jit_history[key], eager_history[key], rtol=1e-5, atol=1e-7, err_msg=key)
    for expected, actual in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(compiled.predict(x, verbose=0), eager.predict(x, verbose=0), rtol=1e-5, atol=1e-7)
    assert compiled._step_compiler.failed is None
    # The graphs hold the embedding, the dense head, loss, metrics and update, never the recurrence.
    assert backend.graphs > 0
    name = recurrent.__name__.lower()
    assert not any(f"_VF.{name}" in code or f"torch.{name}" in code for code in backend.code)
    assert not any("sigmoid" in code and "tanh" in code for code in backend.code)


class _GroupRecorder(ember.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append((batch, dict(logs)))


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam_schedule", "sgd_momentum"])
def test_steps_per_execution_runs_each_group_in_one_compiled_call_with_one_step_at_a_time_numbers(optimizer):
    x, y, weights = _data(72)  # 4 batches of 16 and one of 8 per epoch: groups of 3 + (1 full + 1 partial)

    def make_optimizer():
        if optimizer == "rmsprop":
            return ember.optimizers.RMSprop(learning_rate=0.01)
        if optimizer == "sgd_momentum":
            return ember.optimizers.SGD(learning_rate=0.05, momentum=0.9)
        schedule = ember.optimizers.schedules.ExponentialDecay(0.02, decay_steps=1, decay_rate=0.8)
        return ember.optimizers.Adam(learning_rate=schedule)

    eager = _mlp()
    eager.compile(optimizer=make_optimizer(), loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    eager_recorder = _GroupRecorder()
    eager_history = eager.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                              validation_data=(x, y), callbacks=[eager_recorder]).history
    backend = CountingBackend()
    grouped = _compiled(_mlp(), backend=backend, optimizer=make_optimizer(), steps_per_execution=3)
    groups = []
    run_group = grouped._step_compiler.step("train").run_group

    def counting_group(batches):
        groups.append(len(batches))
        return run_group(batches)

    grouped._step_compiler.step("train").run_group = counting_group
    recorder = _GroupRecorder()
    graphs = []
    counter = ember.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: graphs.append(backend.graphs))
    history = grouped.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0, validation_data=(x, y),
                          callbacks=[recorder, counter]).history
    _assert_histories_close(eager_history, history)
    _assert_weights_close(eager, grouped)
    assert int(grouped.optimizer.iterations) == int(eager.optimizer.iterations) == 15
    assert groups == [3, 2] * 3
    # Batch callbacks see the group's last step, with the logs one-step-at-a-time training had there.
    assert [batch for batch, _ in recorder.ends] == [2, 5] * 3
    by_step = [logs for _, logs in eager_recorder.ends]
    for (batch, logs), expected in zip(recorder.ends, [by_step[e * 5 + i] for e in range(3) for i in (2, 4)]):
        for key in expected:
            np.testing.assert_allclose(logs[key], expected[key], rtol=1e-4, atol=1e-6, err_msg=f"{batch} {key}")
    # Epoch 1 compiles the single train and test steps (the first group of each warms up one batch
    # at a time; the last, partial batches use them too), epoch 2 the 3-step train and test groups;
    # then nothing.
    assert graphs[1] == graphs[0] + 2 == graphs[2]
    assert grouped._step_compiler.failed is None


def test_steps_per_execution_groups_with_sample_weights_or_mixed_shapes_fall_back_to_single_steps():
    x, y, weights = _data(40)
    eager = _mlp()
    eager.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    eager.fit(x, y, sample_weight=weights, batch_size=8, epochs=2, shuffle=False, verbose=0)
    grouped = _compiled(_mlp(), optimizer="adam", metrics=None, steps_per_execution=4)
    grouped.fit(x, y, sample_weight=weights, batch_size=8, epochs=2, shuffle=False, verbose=0)
    _assert_weights_close(eager, grouped)
    assert grouped._step_compiler.failed is None
    batches = [(torch.ones(4, 5), torch.zeros(4, dtype=torch.long), None),
               (torch.ones(3, 5), torch.zeros(3, dtype=torch.long), None)]
    from ember.trainer.compiled_steps import _uniform

    assert not _uniform(batches)  # another batch size
    assert _uniform([batches[0], batches[0]])
    assert not _uniform([batches[0], (torch.ones(4, 5), torch.zeros(4, dtype=torch.long), torch.ones(4))])
    assert not _uniform([batches[0], (torch.ones(4, 5).double(), torch.zeros(4, dtype=torch.long), None)])


def test_steps_per_execution_groups_read_stop_training_after_each_group():
    class StopAtSecondEnd(ember.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch >= 5:
                self.model.stop_training = True

    x, y, _ = _data(160)
    model = _compiled(_mlp(), optimizer="sgd", steps_per_execution=3)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[StopAtSecondEnd()])
    assert int(model.optimizer.iterations) == 6  # two groups of three, then stopped


def test_steps_per_execution_evaluate_runs_groups_of_test_steps_with_one_step_at_a_time_results():
    x, y, weights = _data(72)
    eager = _mlp()
    eager.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    expected = eager.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    backend = CountingBackend()
    grouped = _compiled(_mlp(), backend=backend, optimizer="adam", steps_per_execution=4)
    first = grouped.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)  # warms up, compiles
    graphs = backend.graphs
    second = grouped.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)  # 9 batches: 4 + 4 + 1
    for result in (first, second):
        for key in expected:
            np.testing.assert_allclose(result[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)
    assert backend.graphs == graphs
    assert graphs == 2  # the single test step and the 4-step group


def test_steps_per_execution_predict_runs_groups_with_outputs_in_order():
    x, _, _ = _data(72)
    eager = _mlp()
    expected = eager.predict(x, batch_size=8, verbose=0)
    backend = CountingBackend()
    grouped = _compiled(_mlp(), backend=backend, optimizer="adam", steps_per_execution=4)
    first = grouped.predict(x, batch_size=8, verbose=0)  # warms up, compiles
    graphs = backend.graphs
    second = grouped.predict(x, batch_size=8, verbose=0)  # 9 batches: 4 + 4 + 1
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second, expected, rtol=1e-5, atol=1e-6)
    assert backend.graphs == graphs == 2  # the single predict step and the 4-step group


def test_steps_per_execution_groups_of_multi_input_batches_match_eager():
    rng = np.random.default_rng(1)
    data = {"a": rng.normal(size=(48, 3)).astype("float32"), "b": rng.normal(size=(48, 2)).astype("float32")}
    y = rng.normal(size=(48, 1)).astype("float32")

    def model(**compile_kwargs):
        torch.manual_seed(0)
        a, b = ember.Input(shape=(3,), name="a"), ember.Input(shape=(2,), name="b")
        merged = layers.Concatenate()([layers.Dense(4, activation="relu")(a), b])
        net = ember.Model({"a": a, "b": b}, layers.Dense(1)(merged))
        net.compile(optimizer="adam", loss="mse", metrics=["mae"], **compile_kwargs)
        return net

    eager = model()
    expected = eager.fit(data, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
    backend = CountingBackend()
    grouped = model(jit_compile=True, steps_per_execution=3)
    grouped._step_compiler.backend = backend
    history = grouped.fit(data, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
    _assert_histories_close(expected, history)
    _assert_weights_close(eager, grouped)
    assert backend.graphs == 2  # the single step (warm-up) and the 3-step group of dict batches

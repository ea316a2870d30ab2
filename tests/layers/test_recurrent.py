"""SimpleRNN / LSTM / GRU / Bidirectional / TimeDistributed: harness checks, numerics against Keras 3
(same weights), fused-kernel vs loop equality, masks, states, dropout, saving and errors."""

import numpy as np
import pytest
import torch

import ember
from ember import layers

from .harness import run_layer_test

RNN_CLASSES = ("SimpleRNN", "LSTM", "GRU")
NUM_STATES = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}

# kwargs covering every output arrangement, direction and the non-fused variants.
KERAS_CASES = [
    {},
    {"return_sequences": True},
    {"return_state": True},
    {"return_sequences": True, "return_state": True, "go_backwards": True},
    {"go_backwards": True},
    {"use_bias": False, "return_sequences": True},
    {"activation": "relu", "return_sequences": True},
    {"bias_initializer": "random_normal"},
]

MASK = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1], [0, 1, 1, 1, 1]], dtype=bool)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _pair(keras, class_name, **kwargs):
    """The Keras layer and an ember layer of the same class holding the same weights."""
    theirs = getattr(keras.layers, class_name)(4, **kwargs)
    ours = getattr(layers, class_name)(4, **kwargs)
    x = _x(3, 5, 2)
    theirs(x)
    ours(torch.from_numpy(x))
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def _assert_matches(theirs_out, ours_out):
    theirs_out, ours_out = _as_list(theirs_out), _as_list(ours_out)
    assert len(theirs_out) == len(ours_out)
    for a, b in zip(theirs_out, ours_out):
        np.testing.assert_allclose(_numpy(b), _numpy(a), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------- harness
@pytest.mark.parametrize("class_name", RNN_CLASSES)
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"return_sequences": True}, {"return_state": True}, {"recurrent_dropout": 0.2, "go_backwards": True}],
)
def test_harness(class_name, kwargs):
    n = NUM_STATES[class_name]
    expected = (2, 4, 3) if kwargs.get("return_sequences") else (2, 3)
    if kwargs.get("return_state"):
        expected = [expected] + [(2, 3)] * n
    run_layer_test(getattr(layers, class_name), {"units": 3, **kwargs}, (2, 4, 5), expected, 3)


def test_harness_gru_reset_before_and_wrappers():
    run_layer_test(layers.GRU, {"units": 3, "reset_after": False}, (2, 4, 5), (2, 3), 3)
    run_layer_test(layers.Bidirectional, {"layer": layers.LSTM(3, return_sequences=True)}, (2, 4, 5), (2, 4, 6), 6)
    run_layer_test(layers.Bidirectional, {"layer": layers.GRU(3), "merge_mode": "sum"}, (2, 4, 5), (2, 3), 6)
    run_layer_test(layers.TimeDistributed, {"layer": layers.Dense(3)}, (2, 4, 5), (2, 4, 3), 2)


# ---------------------------------------------------------------------- numerics vs Keras
@pytest.mark.parametrize("class_name", RNN_CLASSES)
@pytest.mark.parametrize("kwargs", KERAS_CASES, ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()) or "default")
@pytest.mark.parametrize("masked", [False, True])
def test_outputs_match_keras(keras, class_name, kwargs, masked):
    theirs, ours = _pair(keras, class_name, **kwargs)
    x = _x(3, 5, 2, seed=1)
    mask = MASK if masked else None
    expected = theirs(x, mask=mask)
    got = ours(torch.from_numpy(x), mask=None if mask is None else torch.from_numpy(mask))
    _assert_matches(expected, got)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_variants_match_keras(keras, reset_after):
    theirs, ours = _pair(keras, "GRU", reset_after=reset_after, return_sequences=True, bias_initializer="ones")
    expected_bias_shape = (2, 12) if reset_after else (12,)
    assert ours.get_weights()[2].shape == expected_bias_shape
    x = _x(3, 5, 2, seed=2)
    _assert_matches(theirs(x), ours(torch.from_numpy(x)))


@pytest.mark.parametrize("class_name", RNN_CLASSES)
def test_initial_state_matches_keras(keras, class_name):
    theirs, ours = _pair(keras, class_name, return_state=True)
    x = _x(3, 5, 2, seed=3)
    states = [_x(3, 4, seed=10 + i) for i in range(NUM_STATES[class_name])]
    expected = theirs(x, initial_state=states)
    got = ours(torch.from_numpy(x), initial_state=[torch.from_numpy(s) for s in states])
    _assert_matches(expected, got)


def test_keras_weight_layouts_and_defaults():
    lstm, gru, rnn = layers.LSTM(4), layers.GRU(4), layers.SimpleRNN(4)
    for layer in (lstm, gru, rnn):
        layer(torch.zeros(1, 2, 3))
    assert [w.shape for w in lstm.get_weights()] == [(3, 16), (4, 16), (16,)]
    assert [w.shape for w in gru.get_weights()] == [(3, 12), (4, 12), (2, 12)]
    assert [w.shape for w in rnn.get_weights()] == [(3, 4), (4, 4), (4,)]
    # unit_forget_bias: the forget gate (second quarter, order i, f, c, o) starts at one.
    np.testing.assert_array_equal(lstm.get_weights()[2], np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    # orthogonal recurrent kernel: orthonormal rows.
    recurrent = lstm.get_weights()[1]
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)


# ---------------------------------------------------------------------- fused kernel vs loop
@pytest.mark.parametrize("class_name", RNN_CLASSES)
@pytest.mark.parametrize(
    "kwargs", [{"return_sequences": True, "return_state": True}, {"go_backwards": True, "use_bias": False}]
)
def test_fused_path_equals_loop(monkeypatch, class_name, kwargs):
    layer = getattr(layers, class_name)(4, bias_initializer="random_normal", **kwargs)
    x = torch.from_numpy(_x(3, 6, 2, seed=4))
    layer(x)
    calls = []
    original = layer._fused
    monkeypatch.setattr(layer, "_fused", lambda *a: calls.append(1) or original(*a))
    fused = _as_list(layer(x))
    assert calls, "the default configuration must run the fused kernel"
    monkeypatch.setattr(layer, "_fused_ok", lambda: False)
    looped = _as_list(layer(x))
    assert len(calls) == 1
    for a, b in zip(fused, looped):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
    # Gradients agree too.
    grads = []
    for ok in (True, False):
        monkeypatch.setattr(layer, "_fused_ok", lambda ok=ok: ok)
        layer.zero_grad()
        sum(o.sum() for o in _as_list(layer(x))).backward()
        grads.append([w.grad.clone() for w in layer.trainable_weights])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_non_default_configs_use_the_loop(monkeypatch):
    x = torch.from_numpy(_x(2, 3, 2))
    for layer in (layers.LSTM(3, recurrent_activation="hard_sigmoid"), layers.GRU(3, reset_after=False)):
        layer(x)
        monkeypatch.setattr(layer, "_fused", lambda *a: pytest.fail("fused path used"))
        layer(x)
        layer(x, mask=torch.ones(2, 3, dtype=torch.bool))


# ---------------------------------------------------------------------- masks
def test_mask_from_embedding_matches_keras(keras):
    tokens = np.array([[3, 1, 2, 0, 0], [4, 4, 0, 0, 0], [1, 2, 3, 4, 1]])

    def make(lib):
        inputs = lib.Input(shape=(5,), dtype="int32")
        h = lib.layers.Embedding(6, 3, mask_zero=True)(inputs)
        h = lib.layers.LSTM(4, return_sequences=True)(h)
        outputs = lib.layers.GRU(2)(h)
        return lib.Model(inputs, outputs)

    ours, theirs = make(ember), make(keras)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(tokens, verbose=0), theirs.predict(tokens, verbose=0), rtol=1e-5, atol=1e-5)
    # The sequence output carries the embedding's mask; the last output carries none.
    embedding, lstm = layers.Embedding(6, 3, mask_zero=True), layers.LSTM(4, return_sequences=True)
    sequence = lstm(embedding(torch.from_numpy(tokens)))
    np.testing.assert_array_equal(sequence._keras_mask.numpy(), tokens != 0)
    assert lstm.compute_mask(None, torch.from_numpy(tokens != 0)) is not None
    assert layers.LSTM(4).compute_mask(None, torch.from_numpy(tokens != 0)) is None


def test_masked_steps_carry_state():
    layer = layers.SimpleRNN(3, return_sequences=True, return_state=True)
    x = torch.from_numpy(_x(1, 4, 2))
    full, _ = layer(x[:, :2])
    masked, state = layer(x, mask=torch.tensor([[True, True, False, False]]))
    torch.testing.assert_close(masked[:, 2], full[:, 1])
    torch.testing.assert_close(masked[:, 3], full[:, 1])
    torch.testing.assert_close(state, full[:, 1])


# ---------------------------------------------------------------------- wrappers vs Keras
@pytest.mark.parametrize(
    "inner, merge_mode",
    [
        ({"class_name": "LSTM"}, "concat"),
        ({"class_name": "GRU", "return_sequences": True}, "sum"),
        ({"class_name": "SimpleRNN", "return_sequences": True}, None),
        ({"class_name": "LSTM", "return_sequences": True, "return_state": True}, "ave"),
        ({"class_name": "GRU", "return_state": True}, "mul"),
    ],
)
@pytest.mark.parametrize("masked", [False, True])
def test_bidirectional_matches_keras(keras, inner, merge_mode, masked):
    inner = dict(inner)
    class_name = inner.pop("class_name")
    theirs = keras.layers.Bidirectional(getattr(keras.layers, class_name)(3, **inner), merge_mode=merge_mode)
    ours = layers.Bidirectional(getattr(layers, class_name)(3, **inner), merge_mode=merge_mode)
    x = _x(3, 5, 2, seed=5)
    theirs(x)
    ours(torch.from_numpy(x))
    assert len(ours.weights) == len(theirs.weights) == 6
    ours.set_weights(theirs.get_weights())
    mask = MASK if masked else None
    expected = theirs(x, mask=mask)
    got = ours(torch.from_numpy(x), mask=None if mask is None else torch.from_numpy(mask))
    _assert_matches(expected, got)


def test_time_distributed_matches_keras(keras):
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="tanh"))
    ours = layers.TimeDistributed(layers.Dense(3, activation="tanh"))
    x = _x(2, 4, 5)
    theirs(x)
    ours(torch.from_numpy(x))
    ours.set_weights(theirs.get_weights())
    _assert_matches(theirs(x), ours(torch.from_numpy(x)))


# ---------------------------------------------------------------------- states and dropout
def test_stateful_carries_states_across_calls():
    stateful = layers.GRU(3, stateful=True)
    plain = layers.GRU(3, return_sequences=True)
    x = torch.from_numpy(_x(2, 6, 2))
    stateful(x[:, :3])
    plain(x)
    stateful.set_weights(plain.get_weights())
    stateful.reset_states()
    stateful(x[:, :3])
    second = stateful(x[:, 3:])
    torch.testing.assert_close(second, plain(x)[:, -1])
    stateful.reset_states()
    torch.testing.assert_close(stateful(x[:, :3]), plain(x)[:, 2])
    with pytest.raises(ValueError, match="batch size 2, got a batch of 1"):
        stateful(x[:1, :3])


@pytest.mark.parametrize("kwargs", [{"dropout": 0.5}, {"recurrent_dropout": 0.5}])
def test_dropout_only_in_training_and_seeded(kwargs):
    x = torch.from_numpy(_x(4, 5, 3))
    layer = layers.LSTM(3, seed=7, **kwargs)
    inference = layer(x)
    torch.testing.assert_close(layer(x, training=False), inference)
    trained = layer(x, training=True)
    assert not torch.allclose(trained, inference)
    twin = layers.LSTM(3, seed=7, **kwargs)
    twin(x)
    twin.set_weights(layer.get_weights())
    torch.testing.assert_close(twin(x, training=True), trained)


# ---------------------------------------------------------------------- saving
def test_save_load_round_trip(tmp_path):
    inputs = ember.Input(shape=(5,), dtype="int32")
    h = layers.Embedding(7, 3, mask_zero=True)(inputs)
    h = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(h)
    h = layers.TimeDistributed(layers.Dense(2))(h)
    outputs = layers.SimpleRNN(2, go_backwards=True)(h)
    model = ember.Model(inputs, outputs)
    tokens = np.array([[1, 2, 3, 0, 0], [6, 5, 4, 3, 2]])
    model.save(tmp_path / "rnn.ember")
    loaded = ember.models.load_model(tmp_path / "rnn.ember")
    np.testing.assert_array_equal(loaded.predict(tokens, verbose=0), model.predict(tokens, verbose=0))
    for layer in model.layers:
        assert loaded.get_layer(layer.name).get_config() == layer.get_config()


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("class_name", RNN_CLASSES)
def test_wrong_rank_is_a_clear_error(class_name):
    layer = getattr(layers, class_name)(3)
    with pytest.raises(ValueError, match=rf"{class_name} layer .* expects inputs of rank 3.*got shape \(2, 5\)"):
        layer(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="expects inputs of rank 3"):
        layer(ember.Input(shape=(4, 5, 6)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="`units` must be a positive integer, got units=0"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match=r"`dropout` must be a number in \[0, 1\), got dropout=1.5"):
        layers.GRU(2, dropout=1.5)
    with pytest.raises(ValueError, match="has 2 state\\(s\\), but initial_state holds 1"):
        layers.LSTM(2)(torch.zeros(1, 3, 2), initial_state=[torch.zeros(1, 2)])
    with pytest.raises(ValueError, match=r"initial state must have shape \(1, 2\), got \(1, 3\)"):
        layers.GRU(2)(torch.zeros(1, 3, 2), initial_state=[torch.zeros(1, 3)])
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="needs a recurrent layer"):
        layers.Bidirectional(layers.Dense(2))
    with pytest.raises(ValueError, match=r"TimeDistributed layer .* rank >= 3.*got shape \(2, 5\)"):
        layers.TimeDistributed(layers.Dense(2))(torch.zeros(2, 5))


# ---------------------------------------------------------------------- ConvLSTM2D
CONV_LSTM_CASES = [
    {"kernel_size": 3},
    {"kernel_size": 3, "padding": "same", "strides": 2, "return_sequences": True, "return_state": True},
    {"kernel_size": 3, "dilation_rate": 2, "go_backwards": True, "return_sequences": True},
    {"kernel_size": (2, 3), "padding": "same", "use_bias": False},
]


@pytest.mark.parametrize("kwargs", CONV_LSTM_CASES, ids=lambda k: "-".join(f"{a}={b}" for a, b in k.items()))
@pytest.mark.parametrize("masked", [False, True])
def test_conv_lstm_matches_keras(keras, kwargs, masked):
    x = _x(2, 3, 6, 5, 2, seed=6)
    theirs = keras.layers.ConvLSTM2D(4, bias_initializer="random_normal", **kwargs)
    ours = layers.ConvLSTM2D(4, **kwargs)
    theirs(x)
    ours(torch.from_numpy(x))
    ours.set_weights(theirs.get_weights())
    mask = np.array([[1, 1, 0], [0, 1, 1]], dtype=bool) if masked else None
    expected = theirs(x, mask=mask)
    got = ours(torch.from_numpy(x), mask=None if mask is None else torch.from_numpy(mask))
    _assert_matches(expected, got)


def test_conv_lstm_harness_and_errors():
    run_layer_test(layers.ConvLSTM2D, {"filters": 2, "kernel_size": 3}, (2, 3, 5, 5, 2), (2, 3, 3, 2), 3)
    run_layer_test(
        layers.ConvLSTM2D,
        {"filters": 2, "kernel_size": 2, "padding": "same", "return_sequences": True, "recurrent_dropout": 0.3},
        (2, 3, 4, 4, 1),
        (2, 3, 4, 4, 2),
        3,
    )
    with pytest.raises(ValueError, match=r"expects inputs of rank 5.*got shape \(2, 3, 4\)"):
        layers.ConvLSTM2D(2, 3)(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="channels_last' only, got data_format='channels_first'"):
        layers.ConvLSTM2D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="`padding` must be 'valid' or 'same', got padding='causal'"):
        layers.ConvLSTM2D(2, 3, padding="causal")


def test_conv_lstm_save_load_round_trip(tmp_path):
    inputs = ember.Input(shape=(3, 5, 5, 2))
    outputs = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True)(inputs)
    model = ember.Model(inputs, outputs)
    x = _x(2, 3, 5, 5, 2)
    model.save(tmp_path / "conv_lstm.ember")
    loaded = ember.models.load_model(tmp_path / "conv_lstm.ember")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[-1].get_config() == model.layers[-1].get_config()

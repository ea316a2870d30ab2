"""MultiHeadAttention, GroupQueryAttention, Attention, AdditiveAttention: numerics against Keras 3, layouts, masks, errors."""

import numpy as np
import pytest
import torch

import ember
from ember.layers import AdditiveAttention, Attention, GroupQueryAttention, MultiHeadAttention

from .harness import run_layer_test

RNG = np.random.default_rng(7)


def _rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _np(tensor):
    return tensor.detach().cpu().numpy()


def _twin_mha(keras, kwargs, *inputs):
    """A Keras MHA and an ember MHA with Keras's (random) weights, both built on ``inputs``."""
    theirs = keras.layers.MultiHeadAttention(**kwargs)
    theirs(*inputs)
    ours = MultiHeadAttention(**kwargs)
    ours(*[torch.tensor(x) for x in inputs])
    ours.set_weights([w + 0.1 * _rand(*w.shape) for w in theirs.get_weights()])
    theirs.set_weights(ours.get_weights())
    return ours, theirs


MHA_CASES = [
    (dict(num_heads=2, key_dim=3), [(2, 4, 6), (2, 5, 6)]),
    (dict(num_heads=2, key_dim=3, value_dim=4, output_shape=7), [(2, 4, 6), (2, 5, 5), (2, 5, 3)]),
    (dict(num_heads=1, key_dim=4, use_bias=False), [(2, 3, 4), (2, 3, 4)]),
    (dict(num_heads=2, key_dim=2), [(2, 3, 4, 5), (2, 3, 4, 5)]),
    (dict(num_heads=2, key_dim=2, attention_axes=(2,)), [(2, 3, 4, 5), (2, 3, 2, 5)]),
    (dict(num_heads=3, key_dim=2, attention_axes=1), [(2, 3, 4, 5), (2, 2, 4, 5)]),
]


@pytest.mark.parametrize("kwargs, shapes", MHA_CASES)
def test_mha_matches_keras(keras, kwargs, shapes):
    inputs = [_rand(*s) for s in shapes]
    ours, theirs = _twin_mha(keras, kwargs, *inputs)
    for w_ours, w_theirs in zip(ours.get_weights(), theirs.get_weights()):
        assert w_ours.shape == w_theirs.shape
    expected, expected_scores = theirs(*inputs, return_attention_scores=True)
    got_plain = ours(*[torch.tensor(x) for x in inputs])
    got, scores = ours(*[torch.tensor(x) for x in inputs], return_attention_scores=True)
    np.testing.assert_allclose(_np(got_plain), _np(expected), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(_np(got), _np(expected), atol=1e-5, rtol=1e-5)
    assert scores.shape == tuple(expected_scores.shape)
    np.testing.assert_allclose(_np(scores), _np(expected_scores), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("use_causal_mask", [False, True])
def test_mha_masks_match_keras(keras, use_causal_mask):
    query, value = _rand(2, 4, 6), _rand(2, 4, 6)
    mask = RNG.random((2, 4, 4)) > 0.4
    mask[0, 1] = False  # a fully masked row: uniform attention, as Keras
    ours, theirs = _twin_mha(keras, dict(num_heads=2, key_dim=3), query, value)
    expected, expected_scores = theirs(
        query, value, attention_mask=mask, use_causal_mask=use_causal_mask, return_attention_scores=True
    )
    args = dict(attention_mask=torch.tensor(mask), use_causal_mask=use_causal_mask)
    got_fused = ours(torch.tensor(query), torch.tensor(value), **args)
    got, scores = ours(torch.tensor(query), torch.tensor(value), return_attention_scores=True, **args)
    for result in (got_fused, got):
        np.testing.assert_allclose(_np(result), _np(expected), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(_np(scores), _np(expected_scores), atol=1e-5, rtol=1e-5)
    if use_causal_mask:
        assert (_np(scores)[..., np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]] < 1e-6).all()


def test_mha_causal_only_matches_keras(keras):
    x = _rand(2, 5, 4)
    ours, theirs = _twin_mha(keras, dict(num_heads=2, key_dim=2), x, x)
    np.testing.assert_allclose(
        _np(ours(torch.tensor(x), torch.tensor(x), use_causal_mask=True)),
        _np(theirs(x, x, use_causal_mask=True)),
        atol=1e-5,
        rtol=1e-5,
    )


def test_mha_weight_layouts_and_dropout(keras):
    layer = MultiHeadAttention(num_heads=3, key_dim=4, value_dim=5, output_shape=2, dropout=0.5)
    layer(torch.ones(1, 2, 6), torch.ones(1, 3, 7))
    assert [w.shape for w in layer.get_weights()] == [
        (6, 3, 4), (3, 4), (7, 3, 4), (3, 4), (7, 3, 5), (3, 5), (3, 5, 2), (2,)
    ]
    q, v = torch.randn(4, 3, 6), torch.randn(4, 3, 7)
    torch.testing.assert_close(layer(q, v), layer(q, v))  # inference: no dropout
    assert not torch.allclose(layer(q, v, training=True), layer(q, v))


def test_mha_harness_self_attention():
    # The shared harness calls layers with one tensor; a thin subclass makes it self-attention.
    class SelfAttention(MultiHeadAttention):
        def call(self, inputs, training=None):
            return super().call(inputs, inputs, training=training)

    SelfAttention.build = lambda self, input_shape: MultiHeadAttention.build(self, input_shape, input_shape)
    run_layer_test(SelfAttention, dict(num_heads=2, key_dim=3), (2, 4, 5), (2, 4, 5), expected_num_trainable_weights=8)


def test_mha_in_functional_model_and_saving(tmp_path):
    query = ember.Input(shape=(4, 6))
    value = ember.Input(shape=(None, 6))
    out = MultiHeadAttention(num_heads=2, key_dim=3, name="mha")(query, value, use_causal_mask=True)
    out = GroupQueryAttention(2, 4, 2)(out, value)
    out = ember.layers.concatenate([Attention(use_scale=True)([out, value]), AdditiveAttention()([out, value])])
    model = ember.Model([query, value], ember.layers.Dense(1)(out))
    q, v = torch.randn(3, 4, 6), torch.randn(3, 4, 6)
    model.save(tmp_path / "mha.ember")
    loaded = ember.models.load_model(tmp_path / "mha.ember")
    torch.testing.assert_close(loaded([q, v]), model([q, v]))
    assert loaded.get_layer("mha").get_config() == model.get_layer("mha").get_config()


def test_mha_config_round_trip():
    layer = MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, output_shape=5, attention_axes=(1,), use_bias=False)
    config = layer.get_config()
    assert config["output_shape"] == (5,) and config["attention_axes"] == (1,) and config["value_dim"] == 4
    assert MultiHeadAttention.from_config(config).get_config() == config


def test_mha_errors():
    with pytest.raises(ValueError, match=r"`num_heads` must be a positive integer, got 0"):
        MultiHeadAttention(0, 3)
    with pytest.raises(ValueError, match=r"`dropout` must be a number in \[0, 1\), got 1.5"):
        MultiHeadAttention(2, 3, dropout=1.5)
    with pytest.raises(ValueError, match=r"needs `query` of rank >= 3.*got shape \(2, 4\)"):
        MultiHeadAttention(2, 3)(torch.ones(2, 4), torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"attention_axes.*rank 3, got \(2,\)"):
        MultiHeadAttention(2, 3, attention_axes=2)(torch.ones(2, 4, 3), torch.ones(2, 4, 3))
    layer = MultiHeadAttention(2, 3)
    layer(torch.ones(1, 2, 4), torch.ones(1, 2, 4))
    with pytest.raises(ValueError, match=r"built for query/value feature sizes 4/4, got shapes \(1, 2, 5\)"):
        layer(torch.ones(1, 2, 5), torch.ones(1, 2, 4))
    with pytest.raises(ValueError, match=r"`attention_mask` must have shape \(B, T, S\), got shape \(2, 2\)"):
        layer(torch.ones(1, 2, 4), torch.ones(1, 2, 4), attention_mask=torch.ones(2, 2, dtype=torch.bool))


ATTENTION_CASES = [
    (Attention, dict()),
    (Attention, dict(use_scale=True)),
    (Attention, dict(score_mode="concat")),
    (Attention, dict(use_scale=True, score_mode="concat")),
    (AdditiveAttention, dict()),
    (AdditiveAttention, dict(use_scale=False)),
]


@pytest.mark.parametrize("cls, kwargs", ATTENTION_CASES)
@pytest.mark.parametrize("with_key", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_attention_layers_match_keras(keras, cls, kwargs, with_key, masked):
    theirs = getattr(keras.layers, cls.__name__)(**kwargs)
    ours = cls(**kwargs)
    inputs = [_rand(2, 3, 4), _rand(2, 5, 6)] + [_rand(2, 5, 4)] if with_key else [_rand(2, 3, 4), _rand(2, 5, 4)]
    theirs(inputs)
    ours([torch.tensor(x) for x in inputs])
    ours.set_weights([w * 1.5 + 0.3 for w in theirs.get_weights()])
    theirs.set_weights(ours.get_weights())
    call = {}
    if masked:
        masks = [np.array([[1, 1, 0], [1, 1, 1]], bool), np.array([[1, 0, 1, 1, 0], [1, 1, 1, 1, 1]], bool)]
        call = dict(mask=masks, use_causal_mask=True)
    expected, expected_scores = theirs(inputs, return_attention_scores=True, **call)
    if masked:
        call["mask"] = [torch.tensor(m) for m in masks]
    got, scores = ours([torch.tensor(x) for x in inputs], return_attention_scores=True, **call)
    np.testing.assert_allclose(_np(got), _np(expected), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(_np(scores), _np(expected_scores), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls, kwargs, n_weights", [
    (Attention, dict(), 0), (Attention, dict(use_scale=True, score_mode="concat"), 2), (AdditiveAttention, dict(), 1),
])
def test_attention_layers_harness(cls, kwargs, n_weights):
    run_layer_test(cls, kwargs, [(2, 3, 4), (2, 5, 4)], (2, 3, 4), expected_num_trainable_weights=n_weights)


def test_attention_dot_formula_numpy():
    query, value = _rand(1, 2, 3), _rand(1, 4, 3)
    scores = query @ value.transpose(0, 2, 1)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    got = Attention()([torch.tensor(query), torch.tensor(value)])
    np.testing.assert_allclose(_np(got), weights @ value, atol=1e-5)


def test_attention_errors():
    with pytest.raises(ValueError, match=r"`score_mode` must be one of \('dot', 'concat'\), got 'add'"):
        Attention(score_mode="add")
    with pytest.raises(ValueError, match=r"expects a list \[query, value\].*got Tensor"):
        Attention()(torch.ones(2, 3, 4))
    with pytest.raises(ValueError, match=r"rank-3 `value`.*got shape \(2, 4\)"):
        Attention()([torch.ones(2, 3, 4), torch.ones(2, 4)])
    with pytest.raises(ValueError, match=r"`dropout` must be a number in \[0, 1\), got -0.1"):
        AdditiveAttention(dropout=-0.1)


@pytest.mark.parametrize("kwargs, shapes", [
    (dict(head_dim=3, num_query_heads=4, num_key_value_heads=2), [(2, 3, 6), (2, 4, 5)]),
    (dict(head_dim=2, num_query_heads=3, num_key_value_heads=1, use_bias=False), [(2, 3, 4), (2, 3, 4), (2, 3, 5)]),
    (dict(head_dim=2, num_query_heads=2, num_key_value_heads=2), [(1, 4, 4), (1, 4, 4)]),
])
@pytest.mark.parametrize("masked", [False, True])
def test_group_query_attention_matches_keras(keras, kwargs, shapes, masked):
    inputs = [_rand(*s) for s in shapes]
    theirs = keras.layers.GroupQueryAttention(**kwargs)
    theirs(*inputs)
    ours = GroupQueryAttention(**kwargs)
    ours(*[torch.tensor(x) for x in inputs])
    ours.set_weights([w + 0.1 * _rand(*w.shape) for w in theirs.get_weights()])
    theirs.set_weights(ours.get_weights())
    call = {}
    if masked:
        mask = RNG.random((shapes[0][0], shapes[0][1], shapes[1][1])) > 0.3
        mask[0, 0] = False
        call = dict(attention_mask=mask, use_causal_mask=True)
    expected, expected_scores = theirs(*inputs, return_attention_scores=True, **call)
    if masked:
        call["attention_mask"] = torch.tensor(mask)
    got_fused = ours(*[torch.tensor(x) for x in inputs], **call)
    got, scores = ours(*[torch.tensor(x) for x in inputs], return_attention_scores=True, **call)
    for result in (got_fused, got):
        np.testing.assert_allclose(_np(result), _np(expected), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(_np(scores), _np(expected_scores), atol=1e-5, rtol=1e-5)


def test_group_query_attention_harness_config_and_errors():
    class SelfAttention(GroupQueryAttention):
        def call(self, inputs, training=None):
            return super().call(inputs, inputs, training=training)

    SelfAttention.build = lambda self, input_shape: GroupQueryAttention.build(self, input_shape, input_shape)
    run_layer_test(
        SelfAttention, dict(head_dim=2, num_query_heads=4, num_key_value_heads=2), (2, 3, 5), (2, 3, 5),
        expected_num_trainable_weights=8,
    )
    with pytest.raises(ValueError, match=r"`num_query_heads` \(3\) must be a multiple of `num_key_value_heads` \(2\)"):
        GroupQueryAttention(2, 3, 2)
    with pytest.raises(ValueError, match=r"rank-3 `query`.*got shape \(2, 3, 4, 5\)"):
        GroupQueryAttention(2, 2, 1)(torch.ones(2, 3, 4, 5), torch.ones(2, 3, 4, 5))

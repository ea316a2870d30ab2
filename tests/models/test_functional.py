"""Functional models: graph building, shape inference, structures, errors."""

import numpy as np
import pytest
import torch

import ember
from ember import layers


def test_shape_inference_with_none_dims():
    inputs = ember.Input(shape=(None, 10), name="ts")
    assert inputs.shape == (None, None, 10)
    x = layers.Dense(4)(inputs)
    assert x.shape == (None, None, 4)
    flat = layers.Flatten()(ember.Input(shape=(3, 4)))
    assert flat.shape == (None, 12)
    reshaped = layers.Reshape((-1, 2))(ember.Input(shape=(8,)))
    assert reshaped.shape == (None, 4, 2)


def test_layer_names_are_unique_and_output_names_follow_layers():
    ember.backend.clear_session()
    inputs = ember.Input(shape=(3,))
    a = layers.Dense(2)(inputs)
    b = layers.Dense(2)(a)
    model = ember.Model(inputs, [a, b])
    assert [layer.name for layer in model.layers] == ["input_layer", "dense", "dense_1"]
    assert model.output_names == ["dense", "dense_1"]
    assert model.name == "functional"
    assert model.get_layer("dense_1") is model.layers[2]
    assert model.get_layer(index=1) is model.layers[1]
    with pytest.raises(ValueError, match="No such layer: 'nope'"):
        model.get_layer("nope")


def test_list_and_dict_inputs_and_outputs():
    a = ember.Input(shape=(3,), name="a")
    b = ember.Input(shape=(2,), name="b")
    merged = torch.cat([layers.Dense(4, name="da")(a), layers.Dense(4, name="db")(b)], dim=-1)
    out1 = layers.Dense(1, name="score")(merged)
    out2 = layers.Dense(5, name="cls")(merged)
    model = ember.Model(inputs={"a": a, "b": b}, outputs={"score": out1, "cls": out2})
    xa, xb = torch.randn(6, 3), torch.randn(6, 2)
    result = model({"a": xa, "b": xb})
    assert set(result) == {"score", "cls"}
    assert result["score"].shape == (6, 1) and result["cls"].shape == (6, 5)
    # Same computation by hand from the layers.
    by_hand = model.get_layer("score")(torch.cat([model.get_layer("da")(xa), model.get_layer("db")(xb)], -1))
    torch.testing.assert_close(result["score"], by_hand)
    as_list = ember.Model([a, b], [out1, out2])
    r = as_list([xa, xb])
    assert isinstance(r, list) and len(r) == 2
    torch.testing.assert_close(r[0], result["score"])
    with pytest.raises(ValueError, match=r"expects inputs named \['a', 'b'\]"):
        model({"a": xa})


def test_shared_layer_and_keyword_tensors():
    shared = layers.Dense(3, name="shared")
    x1 = ember.Input(shape=(4,))
    x2 = ember.Input(shape=(4,))
    model = ember.Model([x1, x2], shared(x1) + shared(x2))
    assert len(model.trainable_weights) == 2  # one kernel, one bias: shared
    a, b = torch.randn(2, 4), torch.randn(2, 4)
    torch.testing.assert_close(model([a, b]), shared(a) + shared(b))

    class Endpoint(layers.Layer):
        def call(self, targets, logits):
            self.add_loss(torch.mean(torch.square(targets - logits)))
            return torch.softmax(logits, dim=-1)

    inputs = ember.Input(shape=(3,), name="inputs")
    targets = ember.Input(shape=(2,), name="targets")
    logits = layers.Dense(2)(inputs)
    predictions = Endpoint(name="predictions")(logits=logits, targets=targets)
    assert predictions.shape == (None, 2)
    model = ember.Model(inputs=[inputs, targets], outputs=predictions)
    data = {"inputs": torch.randn(5, 3), "targets": torch.randn(5, 2)}
    out = model(data)
    assert out.shape == (5, 2)
    assert len(model.losses) == 1


def test_symbolic_torch_ops_and_nn_modules():
    inputs = ember.Input(shape=(4,))
    x = torch.relu(inputs) * 2.0 + 1.0
    linear = torch.nn.Linear(4, 3)
    y = layers.TorchModuleWrapper(linear)(x)
    model = ember.Model(inputs, y)
    data = torch.randn(5, 4)
    torch.testing.assert_close(model(data), linear(torch.relu(data) * 2 + 1))
    assert len(model.trainable_weights) == 2
    assert {id(p) for p in model.parameters()} == {id(p) for p in linear.parameters()}


def test_nested_model_as_layer():
    inner_in = ember.Input(shape=(3,))
    inner = ember.Model(inner_in, layers.Dense(2, name="inner_dense")(inner_in), name="inner")
    outer_in = ember.Input(shape=(3,))
    outer = ember.Model(outer_in, layers.Dense(1, name="head")(inner(outer_in)))
    data = torch.randn(4, 3)
    torch.testing.assert_close(outer(data), outer.get_layer("head")(inner(data)))
    assert len(outer.weights) == 4
    assert outer.get_layer("inner") is inner


def test_wrong_input_shape_is_a_clear_error():
    inputs = ember.Input(shape=(784,), name="digits")
    model = ember.Model(inputs, layers.Dense(10)(inputs))
    with pytest.raises(ValueError, match=r"expected shape \(None, 784\), got \(2, 780\)"):
        model(torch.zeros(2, 780))
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="incompatible"):
        model.fit(np.zeros((4, 780), "float32"), np.zeros((4, 10), "float32"), verbose=0)
    with pytest.raises(ValueError, match="Dense layer"):
        layers.Dense(3)(ember.Input(shape=(None,)))


def test_construction_errors():
    inputs = ember.Input(shape=(3,))
    with pytest.raises(TypeError, match="must be tensors created from ember.Input"):
        ember.Model(inputs, torch.zeros(3))
    other = ember.Input(shape=(3,))
    with pytest.raises(ValueError, match="not in the model's `inputs`"):
        ember.Model(inputs, layers.Add()([inputs, other]) if hasattr(layers, "Add") else inputs + other)
    with pytest.raises(ValueError, match="unique"):
        ember.Model(inputs, layers.Dense(2, name="same")(layers.Dense(3, name="same")(inputs)))
    with pytest.raises(TypeError, match="symbolic"):
        bool(inputs)


def test_summary_matches_keras_layout(keras, capsys):
    inputs = ember.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    ember.Model(inputs=inputs, outputs=outputs, name="functional").summary()
    ours = capsys.readouterr().out
    k_in = keras.Input(shape=(784,), name="digits")
    kx = keras.layers.Dense(64, activation="relu", name="dense_1")(k_in)
    k_out = keras.layers.Dense(10, activation="softmax", name="predictions")(kx)
    lines = []
    keras.Model(k_in, k_out, name="functional").summary(print_fn=lambda line, **kw: lines.append(line))
    theirs = "\n".join(lines)
    for row in ("digits (InputLayer)", "(None, 784)", "50,240", "650", "Total params: 50,890 (198.79 KB)",
                "Non-trainable params: 0 (0.00 B)"):
        assert row in ours and row in theirs
    assert ours.strip().splitlines()[1] == theirs.strip().splitlines()[1]  # the same top border


def test_summary_connected_to_column(capsys):
    a = ember.Input(shape=(3,), name="a")
    b = ember.Input(shape=(3,), name="b")
    model = ember.Model([a, b], layers.Dense(1, name="out")(a + b))
    model.summary()
    out = capsys.readouterr().out
    assert "Connected to" in out and "a[0][0]" in out and "b[0][0]" in out


def test_plain_nn_module_called_on_symbolic_tensor_trains():
    inputs = ember.Input(shape=(4,))
    linear = torch.nn.Linear(4, 1)
    model = ember.Model(inputs, linear(inputs))
    assert {id(p) for p in model.trainable_weights} == {id(linear.weight), id(linear.bias)}
    before = linear.weight.detach().clone()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.random.rand(8, 4).astype("float32"), np.ones((8, 1), "float32"), verbose=0)
    assert not torch.equal(before, linear.weight.detach())


def test_summary_expand_nested_show_trainable_and_print_fn():
    inner_in = ember.Input(shape=(3,))
    inner = ember.Model(inner_in, layers.Dense(2, name="inner_dense")(inner_in), name="inner")
    x = ember.Input(shape=(3,))
    outer = ember.Model(x, layers.Dense(1, name="head")(inner(x)))
    inner.trainable = False
    lines = []
    outer.summary(print_fn=lines.append, show_trainable=True)
    text = "\n".join(lines)
    assert "inner (Functional)" in text and "inner_dense" not in text
    assert "Trainable" in lines[2]
    row = next(line for line in lines if "inner (Functional)" in line)
    assert row.rstrip("│ ").endswith("N")
    assert " Trainable params: 3 (12.00 B)" in lines and " Non-trainable params: 8 (32.00 B)" in lines
    lines.clear()
    outer.summary(print_fn=lines.append, expand_nested=True)
    assert any("└ inner_dense (Dense)" in line for line in lines)
    lines.clear()
    outer.summary(print_fn=lines.append, line_length=120)
    assert max(len(line) for line in lines) > 100
    assert outer.count_params() == 11

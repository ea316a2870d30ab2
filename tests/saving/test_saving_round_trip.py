"""model.save / load_model round trips: the loaded model has the same graph, config and outputs."""

import hashlib
import json
import zipfile

import numpy as np
import pytest
import torch

import ember
from ember import layers

from .custom_objects import Scale, SumPenalty, TwoTower, scaled_tanh


def _rand(*shape):
    return np.random.default_rng(1).random(shape, dtype=np.float32)


def _assert_same_predictions(model, loaded, x):
    expected, got = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    if isinstance(expected, dict):
        assert expected.keys() == got.keys()
        expected, got = list(expected.values()), [got[k] for k in expected]
    for e, g in zip(expected if isinstance(expected, list) else [expected], got if isinstance(got, list) else [got]):
        np.testing.assert_array_equal(e, g)


def _assert_same_weights(model, loaded):
    assert len(model.weights) == len(loaded.weights)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_functional_multi_io_shared_and_nested(tmp_path):
    inner_in = ember.Input(shape=(4,))
    inner = ember.Model(inner_in, layers.Dense(3, name="inner_dense")(inner_in), name="inner")
    tower = ember.Sequential([layers.Dense(3, activation="relu"), layers.Dense(3)], name="tower")
    a = ember.Input(shape=(4,), name="a")
    b = ember.Input(shape=(3,), name="b")
    shared = layers.Dense(3, name="shared")
    u = shared(inner(a))
    v = shared(tower(b))  # `shared` is called twice; `tower` is built on this call
    w = tower(u)
    total = layers.Add(name="total")([u, v, w])
    score = layers.Dense(1, activation="sigmoid", name="score")(layers.concatenate([u, w]))
    model = ember.Model({"a": a, "b": b}, {"total": total, "score": score}, name="multi")
    path = tmp_path / "multi.ember"
    model.save(path)

    loaded = ember.models.load_model(path)
    x = {"a": _rand(5, 4), "b": _rand(5, 3)}
    _assert_same_predictions(model, loaded, x)
    _assert_same_weights(model, loaded)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.output_names == ["total", "score"] and loaded.input_names == ["a", "b"]
    assert loaded.name == "multi"
    assert isinstance(loaded.get_layer("tower"), ember.Sequential)
    assert len(loaded.get_layer("shared")._inbound_nodes) == 2

    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    assert config["class_name"] == "Functional"
    shared_entry = next(entry for entry in config["config"]["layers"] if entry["name"] == "shared")
    histories = [node["args"]["config"]["value"][0]["config"]["keras_history"] for node in shared_entry["inbound_nodes"]]
    assert histories == [["inner", 0, 0], ["tower", 0, 0]]


def test_torch_function_nodes_are_saved_by_name(tmp_path):
    inputs = ember.Input(shape=(6,))
    hidden = layers.Dense(4)(inputs)
    mixed = torch.sum(hidden, dim=1, keepdim=True) * 0.1 + hidden[:, :1]
    joined = torch.cat([torch.nn.functional.relu(hidden), mixed], dim=1)
    model = ember.Model(inputs, joined)
    model.save(tmp_path / "ops.ember")

    loaded = ember.models.load_model(tmp_path / "ops.ember")
    x = _rand(3, 6)
    _assert_same_predictions(model, loaded, x)
    config = zipfile.ZipFile(tmp_path / "ops.ember").read("config.json").decode()
    for name in ("torch.sum", "torch.mul", "torch.add", "torch.cat", "torch.nn.functional.relu", "operator.getitem"):
        assert f'"name": "{name}"' in config
    # The recomputation by hand: the graph replays the same functions.
    h = loaded.layers[1](torch.as_tensor(x))
    expected = torch.cat([torch.relu(h), h.sum(1, keepdim=True) * 0.1 + h[:, :1]], dim=1)
    torch.testing.assert_close(loaded(torch.as_tensor(x)), expected)


def test_symbolic_add_loss_survives(tmp_path):
    inputs = ember.Input(shape=(3,))
    outputs = layers.Dense(2)(inputs)
    model = ember.Model(inputs, outputs)
    model.add_loss(torch.mean(torch.square(outputs)) * 0.5)
    model.save(tmp_path / "loss.ember")
    loaded = ember.models.load_model(tmp_path / "loss.ember")
    x = torch.as_tensor(_rand(4, 3))
    model(x)
    loaded(x)
    torch.testing.assert_close(loaded.losses[0], model.losses[0])
    torch.testing.assert_close(loaded.losses[0], torch.mean(torch.square(loaded(x))) * 0.5)


def test_sequential_round_trips(tmp_path):
    with_input = ember.Sequential(
        [ember.Input(shape=(8, 8, 3)), layers.Conv2D(4, 3, activation="relu"), layers.GlobalMaxPooling2D(),
         layers.Dropout(0.2), layers.Dense(2, activation="softmax")],
        name="cnn",
    )
    with_input.save(tmp_path / "cnn.ember")
    loaded = ember.models.load_model(tmp_path / "cnn.ember")
    assert isinstance(loaded, ember.Sequential) and loaded.name == "cnn"
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in with_input.layers]
    assert loaded.layers[2].rate == 0.2
    _assert_same_predictions(with_input, loaded, _rand(2, 8, 8, 3))

    built_on_call = ember.Sequential([layers.Dense(3), layers.Dense(1)])
    built_on_call(torch.zeros(2, 5))
    built_on_call.save(tmp_path / "late.ember")
    _assert_same_predictions(built_on_call, ember.models.load_model(tmp_path / "late.ember"), _rand(4, 5))

    from_input_shape = ember.Sequential([layers.Dense(3, input_shape=(5,)), layers.Dense(1)])
    from_input_shape.save(tmp_path / "shape.ember")
    _assert_same_predictions(from_input_shape, ember.models.load_model(tmp_path / "shape.ember"), _rand(4, 5))

    unbuilt = ember.Sequential([layers.Dense(3)])
    unbuilt.save(tmp_path / "unbuilt.ember")
    again = ember.models.load_model(tmp_path / "unbuilt.ember")
    assert not again.built and again.weights == []


def test_subclassed_model_with_custom_layer(tmp_path):
    model = TwoTower(units=5, factor=0.25, name="towers")
    model(torch.zeros(1, 3))
    with torch.no_grad():
        model.scale.scale.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    model.save(tmp_path / "sub.ember")

    loaded = ember.models.load_model(tmp_path / "sub.ember")
    assert type(loaded) is TwoTower and loaded.units == 5 and loaded.factor == 0.25 and loaded.name == "towers"
    assert isinstance(loaded.scale, Scale) and loaded.scale.factor == 0.25
    _assert_same_weights(model, loaded)
    _assert_same_predictions(model, loaded, _rand(4, 3))
    config = json.loads(zipfile.ZipFile(tmp_path / "sub.ember").read("config.json"))
    assert config["registered_name"] == "SavingTests>TwoTower"


def test_custom_layer_activation_and_regularizer_in_a_graph(tmp_path):
    inputs = ember.Input(shape=(4,))
    hidden = layers.Dense(3, activation=scaled_tanh, kernel_regularizer=SumPenalty(0.5))(inputs)
    outputs = Scale(factor=3.0, name="scale")(hidden)
    model = ember.Model(inputs, outputs)
    model.save(tmp_path / "custom.ember")

    loaded = ember.models.load_model(tmp_path / "custom.ember")
    dense = loaded.layers[1]
    assert dense.activation is scaled_tanh
    assert isinstance(dense.kernel_regularizer, SumPenalty) and dense.kernel_regularizer.strength == 0.5
    assert loaded.get_layer("scale").factor == 3.0
    _assert_same_predictions(model, loaded, _rand(3, 4))
    x = torch.as_tensor(_rand(3, 4))
    loaded(x)
    torch.testing.assert_close(loaded.losses[0], 0.5 * dense.kernel.abs().sum())


def test_metadata_lists_every_member_with_its_checksum(tmp_path):
    inputs = ember.Input(shape=(2,))
    model = ember.Model(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.ember")
    archive = zipfile.ZipFile(tmp_path / "m.ember")
    metadata = json.loads(archive.read("metadata.json"))
    assert metadata["format"] == "ember.model" and metadata["format_version"] == 1
    assert metadata["ember_version"] == ember.__version__ and metadata["date_saved"]
    assert sorted(metadata["members"]) == sorted(
        ["config.json", "model.weights.safetensors", "compile.json", "optimizer.safetensors"]
    )
    for name, info in metadata["members"].items():
        data = archive.read(name)
        assert info == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def test_uncompiled_model_has_no_compile_members_and_loads_uncompiled(tmp_path):
    inputs = ember.Input(shape=(2,))
    model = ember.Model(inputs, layers.Dense(1)(inputs))
    model.save(tmp_path / "plain.ember")
    assert sorted(zipfile.ZipFile(tmp_path / "plain.ember").namelist()) == [
        "config.json", "metadata.json", "model.weights.safetensors"
    ]
    assert not ember.models.load_model(tmp_path / "plain.ember").compiled


def test_save_model_function_and_overwrite(tmp_path):
    inputs = ember.Input(shape=(2,))
    model = ember.Model(inputs, layers.Dense(1)(inputs))
    path = str(tmp_path / "m.ember")
    ember.saving.save_model(model, path)

    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(path, overwrite=False)
    model.save(path, overwrite=True)
    _assert_same_predictions(model, ember.saving.load_model(path), _rand(2, 2))


BUILT_IN_LAYERS = {
    "Activation": (lambda: layers.Activation("softplus"), (5,)),
    "Add": (None, (5,)),
    "Concatenate": (None, (5,)),
    "Conv1D": (lambda: layers.Conv1D(3, 2, strides=2, padding="same", activation="relu"), (6, 2)),
    "Conv2D": (lambda: layers.Conv2D(2, (2, 3), dilation_rate=(1, 1), use_bias=False), (5, 5, 2)),
    "Conv3D": (lambda: layers.Conv3D(2, 2, padding="same"), (4, 4, 4, 2)),
    "Conv1DTranspose": (lambda: layers.Conv1DTranspose(2, 3, strides=2, output_padding=1), (5, 2)),
    "Conv2DTranspose": (lambda: layers.Conv2DTranspose(2, 3, strides=2, padding="same"), (4, 4, 2)),
    "Conv3DTranspose": (lambda: layers.Conv3DTranspose(2, 2, strides=2), (2, 3, 2, 2)),
    "DepthwiseConv1D": (lambda: layers.DepthwiseConv1D(2, depth_multiplier=2, padding="same"), (6, 2)),
    "DepthwiseConv2D": (lambda: layers.DepthwiseConv2D(2, depth_multiplier=2, strides=2), (5, 5, 2)),
    "SeparableConv1D": (lambda: layers.SeparableConv1D(3, 2, depth_multiplier=2, activation="relu"), (6, 2)),
    "SeparableConv2D": (lambda: layers.SeparableConv2D(3, 2, padding="same", pointwise_regularizer="l2"), (4, 4, 2)),
    "Dense": (lambda: layers.Dense(3, kernel_initializer="he_normal", bias_regularizer="l2"), (5,)),
    "Dropout": (lambda: layers.Dropout(0.3, seed=4), (5,)),
    "Flatten": (lambda: layers.Flatten(), (2, 3)),
    "GlobalAveragePooling1D": (lambda: layers.GlobalAveragePooling1D(keepdims=True), (4, 3)),
    "GlobalAveragePooling2D": (lambda: layers.GlobalAveragePooling2D(), (4, 4, 3)),
    "GlobalMaxPooling1D": (lambda: layers.GlobalMaxPooling1D(), (4, 3)),
    "GlobalMaxPooling2D": (lambda: layers.GlobalMaxPooling2D(keepdims=True), (4, 4, 3)),
    "Reshape": (lambda: layers.Reshape((3, 2)), (6,)),
    # pooling, reshaping, merging
    "AveragePooling1D": (lambda: layers.AveragePooling1D(3, strides=2, padding="same"), (6, 2)),
    "AveragePooling2D": (lambda: layers.AveragePooling2D((2, 3), data_format="channels_first"), (2, 5, 6)),
    "AveragePooling3D": (lambda: layers.AveragePooling3D(2), (4, 4, 4, 2)),
    "MaxPooling1D": (lambda: layers.MaxPooling1D(), (6, 2)),
    "MaxPooling2D": (lambda: layers.MaxPooling2D(3, strides=2, padding="same"), (5, 5, 2)),
    "MaxPooling3D": (lambda: layers.MaxPooling3D((1, 2, 2)), (3, 4, 4, 2)),
    "GlobalAveragePooling3D": (lambda: layers.GlobalAveragePooling3D(keepdims=True), (3, 3, 3, 2)),
    "GlobalMaxPooling3D": (lambda: layers.GlobalMaxPooling3D(), (3, 3, 3, 2)),
    "Average": (None, (5,)),
    "Maximum": (None, (5,)),
    "Minimum": (None, (5,)),
    "Multiply": (None, (5,)),
    "Subtract": (None, (5,)),
    "Dot": (lambda: layers.Dot(axes=1, normalize=True), (5,), "pair"),
    "Identity": (lambda: layers.Identity(), (5,)),
    "Lambda": (lambda: layers.Lambda(ember.activations.get("relu")), (5,)),
    "Permute": (lambda: layers.Permute((2, 1)), (3, 4)),
    "RepeatVector": (lambda: layers.RepeatVector(3), (5,)),
    "Cropping1D": (lambda: layers.Cropping1D((1, 2)), (6, 2)),
    "Cropping2D": (lambda: layers.Cropping2D(((1, 0), (0, 2))), (5, 5, 2)),
    "Cropping3D": (lambda: layers.Cropping3D(1), (4, 4, 4, 2)),
    "ZeroPadding1D": (lambda: layers.ZeroPadding1D((0, 2)), (4, 2)),
    "ZeroPadding2D": (lambda: layers.ZeroPadding2D(((1, 0), (2, 1))), (3, 3, 2)),
    "ZeroPadding3D": (lambda: layers.ZeroPadding3D(1, data_format="channels_first"), (2, 2, 2, 2)),
    "UpSampling1D": (lambda: layers.UpSampling1D(3), (4, 2)),
    "UpSampling2D": (lambda: layers.UpSampling2D((2, 3), interpolation="bilinear"), (3, 3, 2)),
    "UpSampling3D": (lambda: layers.UpSampling3D(2), (2, 2, 2, 2)),
    # normalization and regularization
    "BatchNormalization": (lambda: layers.BatchNormalization(momentum=0.9), (4, 4, 3)),
    "LayerNormalization": (lambda: layers.LayerNormalization(epsilon=1e-5), (4, 3)),
    "GroupNormalization": (lambda: layers.GroupNormalization(groups=2), (4, 4)),
    "UnitNormalization": (lambda: layers.UnitNormalization(), (5,)),
    "SpectralNormalization": (lambda: layers.SpectralNormalization(layers.Dense(3)), (5,)),
    "SpatialDropout1D": (lambda: layers.SpatialDropout1D(0.2), (4, 3)),
    "SpatialDropout2D": (lambda: layers.SpatialDropout2D(0.2), (4, 4, 3)),
    "SpatialDropout3D": (lambda: layers.SpatialDropout3D(0.2), (2, 2, 2, 3)),
    "GaussianNoise": (lambda: layers.GaussianNoise(0.1), (5,)),
    "GaussianDropout": (lambda: layers.GaussianDropout(0.1), (5,)),
    "AlphaDropout": (lambda: layers.AlphaDropout(0.1), (5,)),
    "ActivityRegularization": (lambda: layers.ActivityRegularization(l1=0.01), (5,)),
    # recurrent and embedding
    "Embedding": (lambda: layers.Embedding(10, 3, mask_zero=True), (5,), "indices"),
    "LSTM": (lambda: layers.LSTM(3, return_sequences=True), (4, 2)),
    "GRU": (lambda: layers.GRU(3, reset_after=False), (4, 2)),
    "SimpleRNN": (lambda: layers.SimpleRNN(3, go_backwards=True), (4, 2)),
    "Bidirectional": (lambda: layers.Bidirectional(layers.LSTM(3)), (4, 2)),
    "TimeDistributed": (lambda: layers.TimeDistributed(layers.Dense(2)), (4, 3)),
    "ConvLSTM2D": (lambda: layers.ConvLSTM2D(2, 3, padding="same"), (3, 5, 5, 2)),
    # attention
    "MultiHeadAttention": (lambda: layers.MultiHeadAttention(num_heads=2, key_dim=3), (4, 5), "attention"),
    "GroupQueryAttention": (
        lambda: layers.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2), (4, 5), "attention"
    ),
    "Attention": (lambda: layers.Attention(use_scale=True), (4, 5), "pair"),
    "AdditiveAttention": (lambda: layers.AdditiveAttention(), (4, 5), "pair"),
    # preprocessing
    "Rescaling": (lambda: layers.Rescaling(1 / 255.0, offset=0.5), (5,)),
    "Masking": (lambda: layers.Masking(mask_value=1.0), (4, 3)),
    "CenterCrop": (lambda: layers.CenterCrop(3, 2), (5, 4, 2)),
    "Resizing": (lambda: layers.Resizing(3, 6, interpolation="bicubic", crop_to_aspect_ratio=True), (5, 4, 2)),
    "Normalization": (lambda: layers.Normalization(axis=(1, 2), mean=0.5, variance=2.0), (4, 3)),
    "Discretization": (lambda: layers.Discretization([-0.5, 0.0, 0.5], output_mode="one_hot"), (5,)),
    "CategoryEncoding": (lambda: layers.CategoryEncoding(10, output_mode="count"), (5,), "indices"),
    "IntegerLookup": (lambda: layers.IntegerLookup(vocabulary=[3, 1, 4], mask_token=0), (5,), "indices"),
    "StringLookup": (lambda: layers.StringLookup(vocabulary=["s1", "s4"], output_mode="count"), (5,), "strings"),
    "TextVectorization": (
        lambda: layers.TextVectorization(vocabulary=["s1", "s4", "s7"], output_sequence_length=3), (), "strings"
    ),
}
# Layers that are not saved on their own: the input, the base class and the torch-module wrapper.
NOT_STANDALONE = {"InputLayer", "Layer", "TorchModuleWrapper", "TorchOpLayer", "Model", "Functional", "Sequential"}


def test_every_built_in_layer_is_in_the_table():
    assert set(ember.saving.serialization.LAYERS) - NOT_STANDALONE == set(BUILT_IN_LAYERS)


@pytest.mark.parametrize("class_name", sorted(BUILT_IN_LAYERS))
def test_built_in_layer_config_round_trips(tmp_path, class_name):
    make, shape, *how = BUILT_IN_LAYERS[class_name]
    how = how[0] if how else "single"
    inputs = ember.Input(shape=shape, dtype={"indices": "int64", "strings": "string"}.get(how))
    if make is None:  # merge layers take two inputs
        layer = getattr(layers, class_name)()
        outputs = layer([inputs, layers.Dense(shape[-1])(inputs)])
    elif how == "pair":  # a list [query, value]
        layer = make()
        outputs = layer([inputs, layers.Dense(shape[-1])(inputs)])
    elif how == "attention":  # query, value as two arguments
        layer = make()
        outputs = layer(inputs, layers.Dense(shape[-1])(inputs))
    else:
        layer = make()
        outputs = layer(inputs)
    model = ember.Model(inputs, outputs)
    model.save(tmp_path / "layer.ember")
    loaded = ember.models.load_model(tmp_path / "layer.ember").get_layer(layer.name)
    assert type(loaded) is type(layer)
    assert loaded.get_config() == layer.get_config()
    x = np.random.default_rng(0).integers(0, 10, (2, *shape)) if how in ("indices", "strings") else _rand(2, *shape)
    if how == "strings":
        x = np.char.add("s", x.astype(str))
    _assert_same_predictions(model, ember.models.load_model(tmp_path / "layer.ember"), x)

"""save_weights / load_weights: structural matching, Keras layouts, Keras .weights.h5, clear mismatches."""

import json
import struct

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import ember
from ember import layers

from .custom_objects import TwoTower


def _mlp(hidden=5, depth=2):
    stack = [ember.Input(shape=(4,))] + [layers.Dense(hidden, activation="relu") for _ in range(depth - 1)]
    return ember.Sequential(stack + [layers.Dense(2)])


def _rand(*shape):
    return np.random.default_rng(2).random(shape, dtype=np.float32)


def test_round_trip_between_two_instances(tmp_path):
    source, target = _mlp(), _mlp()
    assert [layer.name for layer in source.layers] != [layer.name for layer in target.layers]
    source.save_weights(tmp_path / "mlp.weights.safetensors")
    target.load_weights(tmp_path / "mlp.weights.safetensors")
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = _rand(3, 4)
    np.testing.assert_array_equal(source.predict(x, verbose=0), target.predict(x, verbose=0))


def test_file_layout_keys_and_keras_array_layouts(tmp_path):
    model = ember.Sequential([ember.Input(shape=(6, 6, 2)), layers.Conv2D(3, 3), layers.Flatten(), layers.Dense(2)])
    model.save_weights(tmp_path / "cnn.weights.safetensors")
    arrays = load_file(tmp_path / "cnn.weights.safetensors")
    assert sorted(arrays) == ["layers/conv2d/vars/0", "layers/conv2d/vars/1", "layers/dense/vars/0", "layers/dense/vars/1"]
    kernel = model.layers[0].get_weights()[0]
    assert kernel.shape == (3, 3, 2, 3)  # Keras's (kh, kw, in, out)
    np.testing.assert_array_equal(arrays["layers/conv2d/vars/0"].numpy(), kernel)
    with open(tmp_path / "cnn.weights.safetensors", "rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        metadata = json.loads(handle.read(size))["__metadata__"]
    assert metadata["format"] == "ember.weights" and metadata["format_version"] == "1"
    assert json.loads(metadata["layers"])["layers/conv2d"]["weights"] == ["kernel", "bias"]


def test_loads_keras_weights_h5(tmp_path, keras):
    inner = keras.Sequential([keras.layers.Dense(3, activation="tanh")])
    k_in = keras.Input(shape=(6, 6, 2))
    k_x = keras.layers.Flatten()(keras.layers.Conv2D(3, 3, activation="relu")(k_in))
    k_model = keras.Model(k_in, keras.layers.Dense(2)(inner(keras.layers.Dense(4)(k_x))))
    k_model.save_weights(str(tmp_path / "k.weights.h5"))

    e_inner = ember.Sequential([layers.Dense(3, activation="tanh")])
    e_in = ember.Input(shape=(6, 6, 2))
    e_x = layers.Flatten()(layers.Conv2D(3, 3, activation="relu")(e_in))
    e_model = ember.Model(e_in, layers.Dense(2)(e_inner(layers.Dense(4)(e_x))))
    e_model.load_weights(tmp_path / "k.weights.h5")

    x = _rand(4, 6, 6, 2)
    np.testing.assert_allclose(e_model.predict(x, verbose=0), k_model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    for e, k in zip(e_model.get_weights(), k_model.get_weights()):
        np.testing.assert_array_equal(e, k)


def test_subclassed_model_weights_by_attribute(tmp_path):
    source, target = TwoTower(units=3), TwoTower(units=3)
    source(torch.zeros(1, 2))
    target(torch.zeros(1, 2))
    source.save_weights(tmp_path / "sub.weights.safetensors")
    assert sorted(load_file(tmp_path / "sub.weights.safetensors")) == [
        "head/vars/0", "head/vars/1", "hidden/vars/0", "hidden/vars/1", "scale/vars/0"
    ]
    target.load_weights(tmp_path / "sub.weights.safetensors")
    x = torch.as_tensor(_rand(2, 2))
    torch.testing.assert_close(source(x), target(x), rtol=0, atol=0)


def test_wrapped_torch_module_weights(tmp_path):
    source = ember.Model(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)))
    target = ember.Model(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)))
    with torch.no_grad():
        source._module[1].running_mean.fill_(0.5)
    source.save_weights(tmp_path / "torch.weights.safetensors")
    target.load_weights(tmp_path / "torch.weights.safetensors")
    for (name, a), b in zip(source._module.state_dict().items(), target._module.state_dict().values()):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_mismatch_names_the_layer_and_shapes_and_changes_nothing(tmp_path):
    _mlp(hidden=5).save_weights(tmp_path / "five.weights.safetensors")
    target = _mlp(hidden=3)
    before = target.get_weights()
    name = target.layers[0].name
    with pytest.raises(ValueError, match=rf"(?s)layer '{name}' \(Dense, path 'layers/dense'\).*\[\(4, 3\), \(3,\)\].*\[\(4, 5\), \(5,\)\]"):
        target.load_weights(tmp_path / "five.weights.safetensors")
    for a, b in zip(before, target.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing was assigned


def test_skip_mismatch_loads_the_rest_with_a_warning(tmp_path):
    source = ember.Sequential([ember.Input(shape=(4,)), layers.Dense(5), layers.Dense(2), layers.Dense(1)])
    target = ember.Sequential([ember.Input(shape=(4,)), layers.Dense(5), layers.Dense(3), layers.Dense(1)])
    source.save_weights(tmp_path / "w.weights.safetensors")
    kept = target.layers[1].get_weights()
    with pytest.warns(UserWarning, match=r"(?s)Skipping 2 mismatching layer\(s\).*path 'layers/dense_1'"):
        target.load_weights(tmp_path / "w.weights.safetensors", skip_mismatch=True)
    for a, b in zip(source.layers[0].get_weights(), target.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(kept, target.layers[1].get_weights()):
        np.testing.assert_array_equal(a, b)
    # dense_2 has (3, 1) in the target and (2, 1) in the file: skipped too.
    assert target.layers[2].get_weights()[0].shape == (3, 1)


def test_extra_and_missing_layers_are_errors(tmp_path):
    _mlp(depth=3).save_weights(tmp_path / "deep.weights.safetensors")
    with pytest.raises(ValueError, match=r"path 'layers/dense_2'.*the model has no layer there"):
        _mlp(depth=2).load_weights(tmp_path / "deep.weights.safetensors")
    _mlp(depth=2).save_weights(tmp_path / "shallow.weights.safetensors")
    with pytest.raises(ValueError, match=r"(?s)2 layer\(s\) do not match.*has 0 of shapes \[\]"):
        _mlp(depth=3).load_weights(tmp_path / "shallow.weights.safetensors")


def test_unbuilt_model_says_to_build_it(tmp_path):
    _mlp().save_weights(tmp_path / "w.weights.safetensors")
    with pytest.raises(ValueError, match="not built yet: call the model on data first"):
        ember.Sequential([layers.Dense(5, activation="relu"), layers.Dense(2)]).load_weights(
            tmp_path / "w.weights.safetensors"
        )


def test_load_weights_from_a_model_file(tmp_path):
    source = _mlp()
    source.save(tmp_path / "m.ember")
    target = _mlp()
    target.load_weights(tmp_path / "m.ember")
    np.testing.assert_array_equal(source.predict(_rand(2, 4), verbose=0), target.predict(_rand(2, 4), verbose=0))


def test_filename_rules(tmp_path):
    model = _mlp()
    with pytest.raises(ValueError, match=r"must end in `\.weights\.safetensors`.*model\.save"):
        model.save_weights(tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.safetensors` \(ember\), `\.weights\.h5`"):
        model.load_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"must end in `\.ember`.*save_weights"):
        model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r"end in `\.ember`.*This is a weights file.*load_weights"):
        ember.models.load_model(tmp_path / "w.weights.safetensors")
    with pytest.raises(FileNotFoundError, match="No weights file"):
        model.load_weights(tmp_path / "missing.weights.safetensors")
    model.save_weights(tmp_path / "w.weights.safetensors")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save_weights(tmp_path / "w.weights.safetensors", overwrite=False)


def test_other_safetensors_files_are_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(2)}, str(tmp_path / "foreign.weights.safetensors"))
    with pytest.raises(ValueError, match="not an ember weights file.*'format' is None"):
        _mlp().load_weights(tmp_path / "foreign.weights.safetensors")
    (tmp_path / "junk.weights.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        _mlp().load_weights(tmp_path / "junk.weights.safetensors")

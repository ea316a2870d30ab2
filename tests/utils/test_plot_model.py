"""plot_model / model_to_dot: nodes, edges and labels of the DOT graph, rendered files, missing tools."""

import builtins
import re

import pytest

import ember
from ember import layers
from ember.utils import model_visualization

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _multi_io_model():
    """The guide's model with two inputs and two outputs."""
    img_input = ember.Input(shape=(8, 8, 3), name="img_input")
    ts_input = ember.Input(shape=(None, 4), name="ts_input")
    x1 = layers.Conv2D(3, 3, name="conv2d")(img_input)
    x1 = layers.GlobalMaxPooling2D(name="gmp2d")(x1)
    x2 = layers.Conv1D(3, 3, name="conv1d")(ts_input)
    x2 = layers.GlobalMaxPooling1D(name="gmp1d")(x2)
    x = layers.concatenate([x1, x2], name="concat")
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, activation="softmax", name="class_output")(x)
    return ember.Model(inputs=[img_input, ts_input], outputs=[score_output, class_output])


def _names_by_id(dot):
    """Map graph node id -> 'name (Type)' text read back from the labels."""
    out = {}
    for node in dot.get_nodes():
        label = node.get_label()
        if not label:
            continue
        match = re.search(r"<b>([^<]+)</b> \((\w+)\)", label)
        out[node.get_name()] = f"{match.group(1)} ({match.group(2)})"
    return out


def _edges_by_name(dot):
    names = _names_by_id(dot)
    return {(names[e.get_source()], names[e.get_destination()]) for e in dot.get_edges()}


def test_multi_io_model_nodes_and_edges():
    dot = model_visualization.model_to_dot(_multi_io_model())
    assert sorted(_names_by_id(dot).values()) == sorted(
        [
            "img_input (InputLayer)",
            "ts_input (InputLayer)",
            "conv2d (Conv2D)",
            "conv1d (Conv1D)",
            "gmp2d (GlobalMaxPooling2D)",
            "gmp1d (GlobalMaxPooling1D)",
            "concat (Concatenate)",
            "score_output (Dense)",
            "class_output (Dense)",
        ]
    )
    assert _edges_by_name(dot) == {
        ("img_input (InputLayer)", "conv2d (Conv2D)"),
        ("ts_input (InputLayer)", "conv1d (Conv1D)"),
        ("conv2d (Conv2D)", "gmp2d (GlobalMaxPooling2D)"),
        ("conv1d (Conv1D)", "gmp1d (GlobalMaxPooling1D)"),
        ("gmp2d (GlobalMaxPooling2D)", "concat (Concatenate)"),
        ("gmp1d (GlobalMaxPooling1D)", "concat (Concatenate)"),
        ("concat (Concatenate)", "score_output (Dense)"),
        ("concat (Concatenate)", "class_output (Dense)"),
    }
    source = dot.to_string()
    assert "rankdir=TB" in source and "dpi=200" in source
    assert "Output shape" not in source


def test_labels_show_shapes_dtype_activation_trainable():
    model = _multi_io_model()
    model.get_layer("score_output").trainable = False
    dot = model_visualization.model_to_dot(
        model, show_shapes=True, show_dtype=True, show_layer_activations=True, show_trainable=True, rankdir="LR", dpi=50
    )
    labels = {name: node.get_label() for node in dot.get_nodes() for name in [_names_by_id(dot).get(node.get_name())]}
    concat = labels["concat (Concatenate)"]
    assert "Input shape: <b>[(None, 3), (None, 3)]</b>" in concat
    assert "Output shape: <b>(None, 6)</b>" in concat
    assert "Output dtype: <b>float32</b>" in concat
    assert "Activation" not in concat and "rainable" not in concat  # no activation, no weights
    conv1d = labels["conv1d (Conv1D)"]
    assert "Input shape: <b>(None, None, 4)</b>" in conv1d and "Output shape: <b>(None, None, 3)</b>" in conv1d
    assert "Activation: <b>softmax</b>" in labels["class_output (Dense)"]
    assert "<b>Trainable</b>" in labels["class_output (Dense)"]
    assert "<b>Non-trainable</b>" in labels["score_output (Dense)"]
    assert "Input shape" not in labels["img_input (InputLayer)"]
    assert "Output shape: <b>(None, 8, 8, 3)</b>" in labels["img_input (InputLayer)"]
    source = dot.to_string()
    assert "rankdir=LR" in source and "dpi=50" in source


def test_hide_layer_names():
    dot = model_visualization.model_to_dot(_multi_io_model(), show_layer_names=False)
    labels = " ".join(node.get_label() or "" for node in dot.get_nodes())
    assert "score_output" not in labels and "Dense" in labels


@pytest.mark.parametrize("extension, magic", [("png", PNG_MAGIC), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_plot_model_writes_file_by_extension(tmp_path, extension, magic):
    path = tmp_path / f"model.{extension}"
    result = ember.utils.plot_model(_multi_io_model(), to_file=str(path), show_shapes=True, dpi=40)
    assert result is None or hasattr(result, "data")
    assert path.read_bytes().startswith(magic)


def test_plot_model_without_extension_writes_png(tmp_path):
    ember.utils.plot_model(_multi_io_model(), to_file=str(tmp_path / "graph"), dpi=30)
    assert (tmp_path / "graph.png").read_bytes().startswith(PNG_MAGIC)


def test_sequential_chain_without_input_node(tmp_path):
    model = ember.Sequential([ember.Input(shape=(4,)), layers.Dense(3, name="a"), layers.Dense(2, name="b")])
    dot = model_visualization.model_to_dot(model)
    assert sorted(_names_by_id(dot).values()) == ["a (Dense)", "b (Dense)"]
    assert _edges_by_name(dot) == {("a (Dense)", "b (Dense)")}
    unbuilt = ember.Sequential([layers.Dense(3, name="c"), layers.Dense(2, name="d")])
    assert _edges_by_name(model_visualization.model_to_dot(unbuilt)) == {("c (Dense)", "d (Dense)")}


def test_expand_nested_model():
    inner_in = ember.Input(shape=(4,), name="inner_in")
    inner = ember.Model(inner_in, layers.Dense(3, name="inner_dense")(inner_in), name="inner")
    outer_in = ember.Input(shape=(4,), name="outer_in")
    outer = ember.Model(outer_in, layers.Dense(2, name="head")(inner(outer_in)))
    collapsed = model_visualization.model_to_dot(outer)
    kind = type(inner).__name__
    assert _edges_by_name(collapsed) == {("outer_in (InputLayer)", f"inner ({kind})"), (f"inner ({kind})", "head (Dense)")}
    expanded = model_visualization.model_to_dot(outer, expand_nested=True)
    names = {}
    for sub in expanded.get_subgraphs():
        names.update(_names_by_id(sub))
    names.update(_names_by_id(expanded))
    edges = {(names[e.get_source()], names[e.get_destination()]) for e in expanded.get_edges()}
    assert edges == {
        ("outer_in (InputLayer)", "inner_in (InputLayer)"),
        ("inner_in (InputLayer)", "inner_dense (Dense)"),
        ("inner_dense (Dense)", "head (Dense)"),
    }


def test_missing_pydot_error(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pydot":
            raise ImportError("No module named 'pydot'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install pydot.*apt-get install graphviz"):
        ember.utils.plot_model(_multi_io_model())


def test_missing_dot_program_error(monkeypatch, tmp_path):
    monkeypatch.setattr(model_visualization.shutil, "which", lambda name: None)
    with pytest.raises(OSError, match=r"`dot` program.*apt-get install graphviz"):
        ember.utils.plot_model(_multi_io_model(), to_file=str(tmp_path / "m.png"))
    assert not (tmp_path / "m.png").exists()


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"rankdir.*got 'XY'"):
        model_visualization.model_to_dot(_multi_io_model(), rankdir="XY")
    with pytest.raises(TypeError, match=r"expects an ember Model.*int"):
        model_visualization.model_to_dot(3)

"""model.export: artifacts that load and predict without ember's classes."""

import os

import pytest
import torch

import ember
from ember import layers


def _model():
    a = ember.Input(shape=(8,), name="a")
    b = ember.Input(shape=(3,), name="b")
    x = layers.concatenate([layers.Dense(4, activation="relu")(a), b])
    x = layers.Dropout(0.5)(x)
    return ember.Model([a, b], layers.Dense(2, activation="softmax")(x))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("fmt, suffix, load", [
    ("torch", ".pt2", lambda p: torch.export.load(p).module()),
    ("torchscript", ".pt", torch.jit.load),
])
def test_exported_artifact_predicts_like_the_model(tmp_path, fmt, suffix, load, capsys):
    model = _model()
    path = str(tmp_path / f"model{suffix}")
    model.export(path, format=fmt)
    assert "Saved artifact" in capsys.readouterr().out
    loaded = load(path)
    xa, xb = torch.randn(5, 8), torch.randn(5, 3)  # a batch size other than the example's
    torch.testing.assert_close(loaded([xa, xb]), model([xa, xb]))
    assert os.listdir(tmp_path) == [f"model{suffix}"]  # no temporary file left behind


def test_export_errors(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match="Unknown export format 'tf_saved_model'"):
        model.export(str(tmp_path / "m"), format="tf_saved_model")

    class Sub(ember.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    with pytest.raises(ValueError, match="Pass `input_signature="):
        Sub().export(str(tmp_path / "s.pt2"))
    sub = Sub()
    sub.export(str(tmp_path / "s.pt2"), input_signature=(None, 4), verbose=False)
    x = torch.randn(3, 4)
    torch.testing.assert_close(torch.export.load(str(tmp_path / "s.pt2")).module()(x), sub(x))
    try:
        import onnx  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install onnx"):
            model.export(str(tmp_path / "m.onnx"), format="onnx")
        assert not any(name.endswith(".part.onnx") for name in os.listdir(tmp_path))

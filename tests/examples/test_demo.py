"""The README's demo: the guide's end-to-end example on offline data, with the fallback note."""

import importlib.util
import pathlib
import sys

import pytest

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "guide_end_to_end.py"


def _load_demo():
    spec = importlib.util.spec_from_file_location("guide_end_to_end", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_runs_offline_and_saves_curves(tmp_path, monkeypatch, capsys):
    demo = _load_demo()
    plot = tmp_path / "curves.png"
    monkeypatch.setattr(sys, "argv", ["demo", "--epochs", "2", "--plot", str(plot)])
    demo.main()
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "val_sparse_categorical_accuracy" in out
    assert "test loss, test acc: [" in out
    assert "predictions shape: (3, 10)" in out
    assert plot.exists() and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_falls_back_to_digits_with_a_note(tmp_path, monkeypatch, capsys):
    demo = _load_demo()

    def offline(**kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(demo.ember.datasets.mnist, "load_data", offline)
    name, ((x_train, _), _) = demo.get_data(use_mnist=True)
    assert "Note: could not load MNIST" in capsys.readouterr().out
    assert name.startswith("digits") and x_train.shape[1] == 64

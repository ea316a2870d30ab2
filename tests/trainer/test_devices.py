"""Device choice: CUDA, else MPS, else CPU; compile(device=...); models moved by the user stay put."""

import numpy as np
import pytest
import torch

import ember
from ember.trainer import devices


def _model():
    model = ember.Sequential([ember.Input((3,)), ember.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.fixture
def availability(monkeypatch):
    def set_available(cuda=False, mps=False, cuda_count=1):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda_count if cuda else 0)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return set_available


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_default_device_prefers_cuda_then_mps(availability, cuda, mps, expected):
    availability(cuda=cuda, mps=mps)
    assert devices.default_device() == torch.device(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("cpu", "cpu"), (torch.device("cpu"), "cpu"), ("cuda", "cuda"), ("cuda:1", "cuda:1"), ("mps", "mps")],
)
def test_resolve_available_devices(availability, value, expected):
    availability(cuda=True, mps=True, cuda_count=2)
    assert devices.resolve_device(value) == torch.device(expected)
    assert devices.resolve_device(None) is None


@pytest.mark.parametrize(
    ("value", "available", "message"),
    [
        ("cuda", {}, r"device='cuda' was requested but CUDA is not available"),
        ("cuda:1", {"cuda": True, "cuda_count": 1}, r"device='cuda:1'.*has 1 CUDA device\(s\)"),
        ("mps", {}, r"device='mps' was requested but MPS is not available"),
        ("gpu", {}, r"`device` must be None, a device string .* got 'gpu'"),
        (3, {}, r"`device` must be None, a device string .* got 3"),
        ("xla", {}, r"device='xla' is not supported"),
    ],
)
def test_bad_or_unavailable_device_is_a_clear_error(availability, value, available, message):
    availability(**available)
    with pytest.raises(ValueError, match=message):
        devices.resolve_device(value)
    with pytest.raises(ValueError, match=message):
        _model().compile(optimizer="sgd", loss="mse", device=value)


def test_model_on_cpu_moves_once_to_the_default_device(monkeypatch):
    monkeypatch.setattr(devices, "default_device", lambda: torch.device("cuda", 0))
    model = _model()
    moves = []
    model.to = lambda device: moves.append(device)  # stands in for a real copy to the GPU
    assert devices.place_model(model) == torch.device("cuda", 0)
    assert devices.place_model(model) == torch.device("cpu")  # still on the CPU: the user put it back
    assert moves == [torch.device("cuda", 0)]


def test_model_moved_by_the_user_is_respected(monkeypatch):
    monkeypatch.setattr(devices, "default_device", lambda: torch.device("cuda", 0))
    model = _model().to("meta")
    assert devices.place_model(model) == torch.device("meta")
    assert all(p.device.type == "meta" for p in model.parameters())


def test_requested_device_wins_over_the_users_move():
    model = _model().to("meta")
    moves = []
    model.to = lambda device: moves.append(device)
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    assert devices.place_model(model) == torch.device("cpu")
    assert moves == [torch.device("cpu")]


def test_compile_device_cpu_overrides_the_default(monkeypatch):
    monkeypatch.setattr(devices, "default_device", lambda: torch.device("meta"))
    model = ember.Sequential([ember.Input((3,)), ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    x = np.random.rand(16, 3).astype("float32")
    history = model.fit(x, x.sum(1, keepdims=True), batch_size=4, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert all(w.device.type == "cpu" for w in model.weights)
    assert model.predict(x, verbose=0).shape == (16, 1)


def test_fit_evaluate_predict_place_the_model(monkeypatch):
    placed = []
    original = devices.place_model

    def spy(model):
        placed.append(model)
        return original(model)

    monkeypatch.setattr(ember.trainer.trainer, "place_model", spy)
    model = _model()
    x = np.random.rand(8, 3).astype("float32")
    y = np.random.rand(8, 2).astype("float32")
    model.fit(x, y, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    model.predict_on_batch(x)
    assert placed == [model] * 4

"""ember.datasets.mnist: download, cache and checksum, against a local file of the same format."""

import hashlib
import os

import numpy as np
import pytest

from ember.datasets import mnist


@pytest.fixture
def fake_mnist(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "served" / "mnist.npz"
    path.parent.mkdir()
    arrays = {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 2, dtype=np.uint8),
    }
    np.savez(path, **arrays)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return path.as_uri(), digest, arrays


def test_downloads_once_and_returns_keras_tuple(fake_mnist, tmp_path, monkeypatch):
    origin, digest, arrays = fake_mnist
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    (x_train, y_train), (x_test, y_test) = mnist.load_data(origin=origin, file_hash=digest)
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert x_train.dtype == np.uint8 and x_train.shape == (6, 28, 28)
    cached = tmp_path / "home" / "datasets" / "mnist.npz"
    assert cached.exists()
    # Second call uses the cache: the origin is no longer needed.
    (x2, _), _ = mnist.load_data(origin="file:///nonexistent/mnist.npz", file_hash=digest)
    np.testing.assert_array_equal(x2, arrays["x_train"])


def test_checksum_mismatch_raises_and_leaves_nothing(fake_mnist, tmp_path, monkeypatch):
    origin, _, _ = fake_mnist
    home = tmp_path / "home"
    monkeypatch.setenv("EMBER_HOME", str(home))
    with pytest.raises(ValueError, match="expected 0000"):
        mnist.load_data(origin=origin, file_hash="0" * 64)
    assert os.listdir(home / "datasets") == []


def test_corrupt_cache_is_downloaded_again(fake_mnist, tmp_path, monkeypatch):
    origin, digest, arrays = fake_mnist
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    cached = tmp_path / "home" / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"truncated")
    (x_train, _), _ = mnist.load_data(origin=origin, file_hash=digest)
    np.testing.assert_array_equal(x_train, arrays["x_train"])


def test_canonical_location_and_hash():
    assert mnist.ORIGIN.endswith("/tf-keras-datasets/mnist.npz")
    assert len(mnist.SHA256) == 64

"""MNIST handwritten digits: 60,000 training and 10,000 test 28x28 grayscale images."""

import numpy as np

from ember.datasets._download import get_file

__all__ = ["load_data"]

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz", origin=ORIGIN, file_hash=SHA256, timeout=60):
    """Load MNIST, downloading it once into the cache.

    Args:
        path: File name inside the cache directory, or an absolute path.
        origin: Download location (the canonical one by default).
        file_hash: Expected SHA-256 of the file.
        timeout: Seconds to wait for the server.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
        ``(N, 28, 28)`` and uint8 labels of shape ``(N,)``, as Keras returns them.
    """
    local = get_file(path, origin=origin, file_hash=file_hash, timeout=timeout)
    with np.load(local, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])

"""ember: Keras's model-building and training API, implemented natively on PyTorch."""

__version__ = "0.1.0"

"""Batches from a ``tf.data.Dataset``, when TensorFlow happens to be installed.

TensorFlow is never imported by ember: a dataset is recognised by its type's
module and converted batch by batch to NumPy with ``as_numpy_iterator()``.
"""

__all__ = ["TFDatasetAdapter", "is_tf_dataset"]

_INFINITE, _UNKNOWN = -1, -2


def is_tf_dataset(value):
    module = type(value).__module__ or ""
    return module.startswith("tensorflow") and hasattr(value, "as_numpy_iterator") and hasattr(value, "cardinality")


class TFDatasetAdapter:
    """One pass of the dataset per ``iter()`` (restarted each epoch, as Keras does)."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.restartable = True
        self.yields_device_tensors = False
        cardinality = int(dataset.cardinality())
        self.infinite = cardinality == _INFINITE
        self.num_batches = cardinality if cardinality >= 0 else None

    def __iter__(self):
        return iter(self.dataset.as_numpy_iterator())

    def on_epoch_end(self):
        pass

    def close(self):
        pass

"""Batches from ``torch.utils.data``: a ``DataLoader`` as given, a ``Dataset`` batched for you."""

import torch

__all__ = ["TorchDataAdapter", "is_torch_data"]


def is_torch_data(value):
    return isinstance(value, (torch.utils.data.Dataset, torch.utils.data.DataLoader))


class TorchDataAdapter:
    """A DataLoader keeps its own batching, shuffling and workers; a Dataset gets a DataLoader.

    Map-style datasets are batched with ``batch_size`` (default 32) and
    shuffled when ``shuffle=True``; iterable-style datasets are batched in
    order. Samples are collated with PyTorch's default collate function, so a
    dataset returning ``(x, y)`` pairs yields ``(x_batch, y_batch)``.
    """

    def __init__(self, data, batch_size=None, shuffle=False):
        if isinstance(data, torch.utils.data.DataLoader):
            loader = data
        else:
            iterable_style = isinstance(data, torch.utils.data.IterableDataset)
            loader = torch.utils.data.DataLoader(
                data,
                batch_size=32 if batch_size is None else batch_size,
                shuffle=bool(shuffle) and not iterable_style,
            )
        self.loader = loader
        # A map-style Dataset batched here can be sharded by index over data-parallel processes.
        self.batched_here = loader is not data and not isinstance(data, torch.utils.data.IterableDataset)
        self.restartable = True
        self.yields_device_tensors = False
        try:
            self.num_batches = len(loader)
        except TypeError:
            self.num_batches = None

    def __iter__(self):
        for batch in self.loader:
            # PyTorch's default collate turns an (x, y) sample into a [x, y] list.
            yield tuple(batch) if isinstance(batch, list) and len(batch) in (2, 3) else batch

    def on_epoch_end(self):
        pass

    def close(self):
        pass

"""``PredictOutput``: where ``predict`` puts each batch's outputs.

When the number of samples is known (arrays, tensors), each output leaf gets
one preallocated NumPy array of that length on the first batch, and every
batch is copied into its slice: peak memory is the result itself plus one
batch, and no device tensor outlives its step. When it is unknown (generators,
datasets), batches are kept as NumPy arrays and joined once at the end. Nested
outputs (lists, tuples, dicts) keep their structure.
"""

import numpy as np
import torch

from ember.tree import flatten, map_structure, pack_sequence_as

__all__ = ["PredictOutput"]


def _to_numpy(leaf):
    if isinstance(leaf, torch.Tensor):
        leaf = leaf.detach()
        if leaf.dtype is torch.bfloat16:  # NumPy has no bfloat16
            leaf = leaf.float()
        return leaf.cpu().numpy()
    return np.asarray(leaf)


class PredictOutput:
    """Collects ``predict``'s batch outputs into NumPy arrays.

    Args:
        num_samples: the number of samples ``predict`` will see, or ``None``
            when unknown (then batches are joined at the end). A source that
            yields fewer samples gets trimmed results; one that yields more
            falls back to joining.

    Example:
        >>> out = PredictOutput(num_samples=3)
        >>> out.append(torch.ones(2, 1)); out.append(torch.zeros(1, 1))
        >>> out.result().ravel().tolist()
        [1.0, 1.0, 0.0]
    """

    def __init__(self, num_samples=None):
        self.num_samples = num_samples
        self._structure = None
        self._buffers = None  # preallocated arrays, one per output leaf
        self._chunks = None  # per leaf: list of arrays (unknown length, or overflow)
        self._filled = 0
        self._batches = 0

    def append(self, outputs):
        """Add one batch's outputs (a tensor or a nested structure of tensors)."""
        leaves = [_to_numpy(leaf) for leaf in flatten(outputs)]
        if self._batches == 0:
            self._structure = map_structure(lambda _: None, outputs)  # the nesting, not the tensors
            self._start(leaves)
        if len(leaves) != len(self._chunks if self._chunks is not None else self._buffers):
            raise ValueError(
                f"predict(): a batch gave {len(leaves)} outputs but the first gave "
                f"{len(self._chunks if self._chunks is not None else self._buffers)}; predict_step must "
                "return the same structure for every batch."
            )
        self._batches += 1
        rows = leaves[0].shape[0] if leaves[0].ndim else 1
        if self._buffers is not None and self._filled + rows > self.num_samples:
            self._to_chunks()
        if self._buffers is not None:
            for buffer, leaf in zip(self._buffers, leaves):
                buffer[self._filled : self._filled + rows] = leaf
            self._filled += rows
        else:
            for chunks, leaf in zip(self._chunks, leaves):
                chunks.append(leaf)

    def _start(self, leaves):
        if self.num_samples is not None and all(leaf.ndim for leaf in leaves):
            self._buffers = [np.empty((self.num_samples,) + leaf.shape[1:], leaf.dtype) for leaf in leaves]
        else:
            self._chunks = [[] for _ in leaves]

    def _to_chunks(self):
        self._chunks = [[buffer[: self._filled]] for buffer in self._buffers]
        self._buffers = None

    @property
    def empty(self):
        return self._batches == 0

    def result(self):
        """The outputs, nested like the model's outputs, as NumPy arrays."""
        if self._buffers is not None:
            arrays = [buffer[: self._filled] if self._filled < self.num_samples else buffer for buffer in self._buffers]
        else:
            arrays = [np.concatenate(chunks) if len(chunks) > 1 else chunks[0] for chunks in self._chunks]
        return pack_sequence_as(self._structure, arrays)

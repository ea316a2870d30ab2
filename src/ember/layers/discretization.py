"""``Discretization``: buckets numbers by boundaries, given or adapted from data.

``adapt`` summarises the data in a bounded-size quantile summary (the same
approximation Keras uses, so adapted boundaries are identical) and places
``num_bins - 1`` boundaries at its quantiles.
"""

import numpy as np
import torch

from ember.layers.layer import Layer
from ember.layers.preprocessing import CATEGORY_OUTPUT_MODES, _as_float_tensor, _check_output_mode, encode_categories

__all__ = ["Discretization"]


def quantile_summary(values, epsilon):
    """Summarize a batch as ``[values, weights]`` with about ``1 / epsilon`` entries.

    The sorted values are subsampled every ``int(n * epsilon)`` positions
    (starting at the last position of the first stride), each kept value
    weighing ``n * epsilon``; batches with ``n * epsilon < 1`` are kept whole
    with weight 1. This is the summary Keras's ``Discretization.adapt`` builds.
    """
    values = np.sort(np.asarray(values, dtype=np.float32).reshape(-1))
    stride = values.size * epsilon
    if int(stride) < 1:
        return np.stack([values, np.ones_like(values)])
    kept = values[int(stride) - 1 :: int(stride)]
    return np.stack([kept, np.full_like(kept, stride)])  # float32, like the data


def compress_summary(summary, epsilon):
    """Re-sample a ``[values, weights]`` summary at cumulative-weight fractions ``epsilon, 2 epsilon, ..., 1``.

    The new values, and the new cumulative weights, interpolate the old ones
    against the old cumulative weight fractions; a summary with fewer
    entries than fractions is returned unchanged.
    """
    count = int(np.ceil(1.0 / epsilon - 1e-9))  # 1 / epsilon fractions, the last one 1 (1e-9: float noise)
    fractions = np.append(np.arange(epsilon, 1.0, epsilon)[: count - 1], 1.0)
    if summary.shape[1] < fractions.size:
        return summary
    # Summaries are float32 (cumulative weights included), which Keras's approximation reproduces bit for bit.
    cumulative = np.cumsum(summary[1])
    total = cumulative[-1]
    positions = cumulative / total
    values = np.interp(fractions, positions, summary[0])
    weights = np.diff(np.concatenate([[0.0], np.interp(fractions, positions, cumulative)]))
    return np.stack([values, weights]).astype(np.float32)


def merge_summaries(previous, current, epsilon):
    """Merge two summaries (weighted merge by value), then compress to ``epsilon``."""
    merged = np.concatenate([previous, current], axis=1)
    merged = merged[:, np.argsort(merged[0], kind="stable")]
    return compress_summary(merged, epsilon)


def summary_bin_boundaries(summary, num_bins):
    """The ``num_bins - 1`` boundaries at cumulative-weight fractions ``1 / num_bins, 2 / num_bins, ...``."""
    return compress_summary(summary, 1.0 / num_bins)[0][:-1]


def _batches(data, batch_size, steps):
    if isinstance(data, (np.ndarray, torch.Tensor, list, tuple)) and not (
        isinstance(data, (list, tuple)) and data and isinstance(data[0], (np.ndarray, torch.Tensor))
    ):
        array = data.detach().cpu().numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
        if batch_size is None or array.ndim == 0:
            batches = [array]
        else:
            batches = [array[start : start + batch_size] for start in range(0, len(array), batch_size)]
    else:
        batches = data
    for step, batch in enumerate(batches):
        if steps is not None and step >= steps:
            return
        if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], (np.ndarray, torch.Tensor)):
            batch = batch[0]  # (x, y) pairs from a data loader: adapt on x
        yield batch.detach().cpu().numpy() if isinstance(batch, torch.Tensor) else np.asarray(batch)


class Discretization(Layer):
    """Buckets numbers by ``bin_boundaries``: bucket ``i`` holds ``b[i-1] <= x < b[i]``.

    Give ``bin_boundaries``, or ``num_bins`` and call ``adapt(data)`` to place
    the boundaries at (approximate) quantiles of the data.

    Args:
        bin_boundaries: Sorted list of boundaries; ``n`` boundaries give
            ``n + 1`` buckets (values below the first go to bucket 0).
        num_bins: Number of buckets ``adapt`` computes boundaries for (the
            ``num_bins - 1`` boundaries at the ``1 / num_bins`` quantiles).
        epsilon: Error tolerance of ``adapt``'s quantile summary, in (0, 1]:
            the summary keeps about ``1 / epsilon`` weighted values per batch.
        output_mode: ``"int"`` (bucket indices, int64), or ``"one_hot"``,
            ``"multi_hot"``, ``"count"`` (encoded as by ``CategoryEncoding``).

    Example:
        >>> Discretization([0.0, 1.0])(torch.tensor([-1.0, 0.5, 3.0]))
        tensor([0, 1, 2])
        >>> layer = Discretization(num_bins=4)
        >>> layer.adapt(np.arange(10.0))
        >>> [round(b, 4) for b in layer.bin_boundaries]
        [1.5, 4.0, 6.5]
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", **kwargs):
        kwargs.pop("sparse", None)
        super().__init__(**kwargs)
        if bin_boundaries is not None and num_bins is not None:
            raise ValueError(
                "Discretization takes either `bin_boundaries` or `num_bins` (then call `adapt()`), not both; "
                f"got bin_boundaries={bin_boundaries!r} and num_bins={num_bins!r}."
            )
        if bin_boundaries is None and num_bins is None:
            raise ValueError(
                "Discretization needs either `bin_boundaries` (a sorted list of numbers) or `num_bins` "
                "(then call `adapt(data)`); got neither."
            )
        if num_bins is not None and (isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer))
                                     or num_bins < 1):
            raise ValueError(f"Discretization `num_bins` must be a positive integer, got num_bins={num_bins!r}.")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 < epsilon <= 1:
            raise ValueError(f"Discretization `epsilon` must be a number in (0, 1], got epsilon={epsilon!r}.")
        if bin_boundaries is not None:
            bin_boundaries = [float(b) for b in bin_boundaries]
            if any(b > a for b, a in zip(bin_boundaries, bin_boundaries[1:])):
                raise ValueError(
                    f"Discretization `bin_boundaries` must be sorted ascending, got {list(bin_boundaries)}."
                )
        _check_output_mode("Discretization", output_mode, ("int",) + CATEGORY_OUTPUT_MODES)
        self.bin_boundaries = bin_boundaries
        self.num_bins = None if num_bins is None else int(num_bins)
        self.epsilon = float(epsilon)
        self.output_mode = output_mode
        # Set by the constructor's `bin_boundaries`; adapted boundaries (restored from a config) stay adaptable.
        self._fixed_boundaries = bin_boundaries is not None and num_bins is None

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        boundaries = config.get("bin_boundaries")
        if boundaries is not None and config.get("num_bins") is not None:
            config.pop("bin_boundaries")  # adapted: restore them after construction
            layer = cls(**config)
            layer.bin_boundaries = [float(b) for b in boundaries]
            return layer
        return cls(**config)

    def adapt(self, data, batch_size=None, steps=None):
        """Set ``bin_boundaries`` to approximate ``1 / num_bins`` quantiles of ``data``.

        Each batch is reduced to a weighted quantile summary of about
        ``1 / epsilon`` values and merged into the running summary; the
        boundaries interpolate the summary's values against their cumulative
        weights. While ``data`` holds at most ``1 / epsilon`` values per batch
        the boundaries are exact: the values at fractions ``k / num_bins`` of
        the cumulative count ``1, 2, ..., n`` of the sorted data (NumPy's
        ``np.interp(k * n / num_bins, np.arange(1, n + 1), np.sort(data))``).

        Args:
            data: An array or tensor (all its values are pooled), or an
                iterable of such batches (a list of arrays, a generator, a
                ``DataLoader`` yielding ``(x, y)``: ``x`` is used).
            batch_size: Optional number of samples per batch when ``data`` is
                one array (each batch is summarized, then merged).
            steps: Optional number of batches to use.
        """
        if self._fixed_boundaries:
            raise ValueError(
                f"Discretization layer {self.name!r} was created with `bin_boundaries`; it cannot be adapted. "
                "Create it with `num_bins` instead."
            )
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size < 1):
            raise ValueError(f"Discretization.adapt `batch_size` must be a positive integer, got {batch_size!r}.")
        summary = np.empty((2, 0), dtype=np.float32)
        for batch in _batches(data, batch_size, steps):
            if batch.size:
                summary = merge_summaries(summary, quantile_summary(batch, self.epsilon), self.epsilon)
        if summary.shape[1] == 0:
            raise ValueError("Discretization.adapt got no data: pass a non-empty array or iterable of batches.")
        self.bin_boundaries = summary_bin_boundaries(summary, self.num_bins).tolist()

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                f"Discretization layer {self.name!r} has no `bin_boundaries` yet: call `adapt(data)` first "
                "(or create it with `bin_boundaries`)."
            )
        inputs = _as_float_tensor(inputs)
        boundaries = torch.tensor(self.bin_boundaries, dtype=inputs.dtype, device=inputs.device)
        indices = torch.bucketize(inputs, boundaries, right=True)
        if self.output_mode == "int":
            return indices
        return encode_categories(indices, len(self.bin_boundaries) + 1, self.output_mode, layer_name=self.name)

    def get_config(self):
        config = super().get_config()
        config.update(
            bin_boundaries=None if self.bin_boundaries is None else list(self.bin_boundaries),
            num_bins=self.num_bins,
            epsilon=self.epsilon,
            output_mode=self.output_mode,
        )
        return config

"""The ``Regularizer`` base class."""

import numpy as np
import torch

__all__ = ["Regularizer", "as_tensor"]


def as_tensor(x):
    """``x`` as a floating ``torch.Tensor`` (tensors pass through unchanged)."""
    if isinstance(x, torch.Tensor):
        return x
    tensor = torch.as_tensor(np.asarray(x))
    return tensor if tensor.is_floating_point() else tensor.to(torch.get_default_dtype())


class Regularizer:
    """Base class of weight and activity regularizers.

    A regularizer is a callable ``x -> scalar tensor`` whose value is added to
    the training loss. Pass one to a layer as ``kernel_regularizer``,
    ``bias_regularizer`` or ``activity_regularizer``; the layer reports its
    value in ``layer.losses`` and ``fit`` adds it to the loss it minimizes.

    Subclasses override ``__call__`` and, so that layer configs can be saved
    and restored, ``get_config`` (``cls.from_config(obj.get_config())`` must
    rebuild an equal regularizer).

    Example:
        >>> class SumOfSquares(Regularizer):
        ...     def __init__(self, factor=0.1):
        ...         self.factor = factor
        ...     def __call__(self, x):
        ...         return self.factor * torch.sum(torch.square(x))
        ...     def get_config(self):
        ...         return {"factor": self.factor}
        >>> float(SumOfSquares()(torch.ones(2, 2)))
        0.4000000059604645
    """

    def __call__(self, x):
        """Return the penalty for ``x`` as a scalar tensor (zero for the base class).

        Args:
            x: The weight or activation tensor.

        Returns:
            A 0-d tensor of ``x``'s dtype.
        """
        x = as_tensor(x)
        return torch.zeros((), dtype=x.dtype, device=x.device)

    def get_config(self):
        """Return the constructor arguments as a JSON-friendly dict."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement get_config(); define get_config() returning its "
            "constructor arguments so the regularizer can be serialized."
        )

    @classmethod
    def from_config(cls, config):
        """Build a regularizer from the dict returned by ``get_config``."""
        return cls(**config)

    def __repr__(self):
        try:
            config = self.get_config()
        except NotImplementedError:
            return f"{type(self).__name__}()"
        args = ", ".join(f"{k}={v!r}" for k, v in config.items())
        return f"{type(self).__name__}({args})"

"""The ``Constraint`` base class."""

__all__ = ["Constraint"]


class Constraint:
    """Base class of weight constraints.

    A constraint is a callable ``w -> w`` that projects a weight back into an
    allowed set. Pass one to a layer as ``kernel_constraint`` or
    ``bias_constraint``; the optimizer applies it after every update. Weights
    are given in Keras's layout (a Conv2D kernel is
    ``(rows, cols, input_depth, filters)``), so ``axis`` arguments mean what
    they mean in Keras.

    Subclasses override ``__call__`` and, when their constructor takes
    arguments, ``get_config``.

    Example:
        >>> import torch
        >>> class ClipToOne(Constraint):
        ...     def __call__(self, w):
        ...         return torch.clamp(w, -1.0, 1.0)
        >>> ClipToOne()(torch.tensor([-3.0, 0.5])).tolist()
        [-1.0, 0.5]
    """

    def __call__(self, w):
        """Return the constrained weight (the base class returns ``w`` unchanged).

        Args:
            w: The weight tensor, in Keras's layout.

        Returns:
            A tensor of the same shape and dtype.
        """
        return w

    def get_config(self):
        """Return the constructor arguments as a JSON-friendly dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Build a constraint from the dict returned by ``get_config``."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

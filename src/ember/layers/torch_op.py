"""``TorchOpLayer``: a torch function applied to symbolic tensors, as a graph node.

``torch.sum(x1) * 0.1`` on a KerasTensor ``x1`` records nodes that apply the
same functions to real tensors when the model runs.
"""

from ember.layers.layer import Layer

__all__ = ["TorchOpLayer"]


class TorchOpLayer(Layer):
    """Applies ``fn(*args, **kwargs)``; created automatically, rarely by hand."""

    def __init__(self, fn, name=None):
        fn_name = getattr(fn, "__name__", type(fn).__name__)
        super().__init__(name=name or _op_name(fn_name))
        self.fn = fn
        self.built = True

    def call(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def get_config(self):
        raise NotImplementedError(f"Layer {self.name!r} wraps a Python function and cannot be serialized.")


def _op_name(fn_name):
    from ember.backend.naming import unique_name

    return unique_name(fn_name.strip("_") or "op")

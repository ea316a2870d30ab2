"""``TorchModuleWrapper``: any ``torch.nn.Module`` as an ember layer."""

import torch

from ember.layers.layer import Layer

__all__ = ["TorchModuleWrapper"]


class TorchModuleWrapper(Layer):
    """Use a plain ``torch.nn.Module`` (or callable) inside functional or Sequential models.

    Its parameters become the layer's weights (trainable when ``requires_grad``).
    The module's train/eval mode follows the ``training`` flag of the call.
    """

    def __init__(self, module, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.module = module
        self.built = True

    def call(self, *args, training=None, **kwargs):
        module = self.module
        if isinstance(module, torch.nn.Module) and training is not None and module.training != bool(training):
            module.train(bool(training))
        return module(*args, **kwargs)

    def get_config(self):
        raise NotImplementedError(f"Layer {self.name!r} wraps a torch module and has no Keras config.")

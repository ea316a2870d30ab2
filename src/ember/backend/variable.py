"""``Variable``: a ``torch.nn.Parameter`` with Keras's variable methods."""

import copy

import numpy as np
import torch


class Variable(torch.nn.Parameter):
    """A ``Parameter`` that also offers Keras's ``assign`` family and ``numpy()``.

    Arithmetic on a ``Variable`` returns plain tensors, exactly as for a
    ``Parameter``; the extra methods update the storage in place without
    recording autograd history.

    Example:
        >>> v = Variable(torch.zeros(2), requires_grad=False)
        >>> _ = v.assign_add(torch.ones(2))
        >>> v.numpy().tolist()
        [1.0, 1.0]
    """

    def __new__(cls, data=None, requires_grad=True, name=None):
        if data is None:
            data = torch.empty(0)
        var = torch.Tensor._make_subclass(cls, data, requires_grad)
        var._keras_name = name
        return var

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(memory_format=torch.preserve_format), self.requires_grad)
        memo[id(self)] = result
        # Keras-side attributes (name, declared trainability, layout converters, regularizer).
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return result

    def __reduce_ex__(self, proto):
        return (_rebuild_variable, (self.data, self.requires_grad, getattr(self, "_keras_name", None)))

    def __repr__(self):
        return f"<Variable name={self.name!r} shape={tuple(self.shape)} dtype={self.dtype}>\n{self.data!r}"

    @property
    def name(self):
        return getattr(self, "_keras_name", None)

    @property
    def trainable(self):
        return self.requires_grad

    @trainable.setter
    def trainable(self, value):
        self.requires_grad_(bool(value))

    @property
    def value(self):
        """The variable itself (so ``v.value.grad`` works, as with Keras's torch backend)."""
        return self

    def _as_tensor(self, value):
        if isinstance(value, torch.Tensor):
            return value.detach()
        return torch.as_tensor(np.asarray(value), dtype=self.dtype, device=self.device)

    def assign(self, value):
        value = self._as_tensor(value)
        if value.shape != self.shape and value.numel() != 1:
            raise ValueError(
                f"Cannot assign a value of shape {tuple(value.shape)} to variable "
                f"{self.name!r} of shape {tuple(self.shape)}."
            )
        with torch.no_grad():
            self.copy_(value)
        return self

    def assign_add(self, value):
        with torch.no_grad():
            self.add_(self._as_tensor(value))
        return self

    def assign_sub(self, value):
        with torch.no_grad():
            self.sub_(self._as_tensor(value))
        return self

    def numpy(self):
        return self.detach().cpu().numpy()


def _rebuild_variable(data, requires_grad, name):
    return Variable(data, requires_grad, name)

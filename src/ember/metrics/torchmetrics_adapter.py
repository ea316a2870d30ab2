"""``TorchMetricWrapper``: use a ``torchmetrics.Metric`` (or anything shaped like one) as an ember metric.

``ember.metrics.get`` wraps such objects automatically, so
``model.compile(metrics=[torchmetrics.classification.MulticlassAccuracy(num_classes=10)])``
works. Objects are recognised by their interface (``update``, ``compute``,
``reset``), so ember never imports torchmetrics itself.
"""

import torch

from ember.losses._utils import to_snake_case, to_tensor
from ember.metrics.metric import Metric

_NO_WEIGHTS = (
    "{name} wraps a {cls} object, whose `update(preds, target)` takes no sample weights, but sample_weight was "
    "given. Put this metric in `metrics=[...]` rather than `weighted_metrics=[...]`, or use a metric that "
    "supports weights."
)


def is_torchmetrics_like(obj):
    """True for an instance with callable ``update``, ``compute`` and ``reset`` (a ``torchmetrics.Metric``).

    Classes, ember ``Metric``s and dicts are not metric objects of this kind.

    Example:
        >>> class Counter:
        ...     def update(self, preds, target): ...
        ...     def compute(self): ...
        ...     def reset(self): ...
        >>> is_torchmetrics_like(Counter()), is_torchmetrics_like(Counter), is_torchmetrics_like({})
        (True, False, False)
    """
    if isinstance(obj, (type, dict, Metric)):
        return False
    return all(callable(getattr(obj, method, None)) for method in ("update", "compute", "reset"))


class TorchMetricWrapper(Metric):
    """An ember ``Metric`` driving a ``torchmetrics``-style metric object.

    Each update moves the wrapped metric to the batch's device (once; later
    batches on the same device cost nothing) and calls
    ``metric.update(y_pred, y_true)``, torchmetrics' argument order. The state
    stays inside the wrapped object, on the device; ``result()`` is
    ``metric.compute()`` (0.0 before the first update) and ``reset_state()``
    is ``metric.reset()``.

    Args:
        metric: an object with ``update(preds, target)``, ``compute()`` and
            ``reset()``, usually a ``torchmetrics.Metric``.
        name: the name in training logs; defaults to the snake-cased class
            name of ``metric`` (``MulticlassAccuracy`` -> ``"multiclass_accuracy"``).

    Example:
        >>> import torch
        >>> class MaxError:
        ...     def __init__(self):
        ...         self.value = torch.tensor(0.0)
        ...     def update(self, preds, target):
        ...         self.value = torch.maximum(self.value, (preds - target).abs().max())
        ...     def compute(self):
        ...         return self.value
        ...     def reset(self):
        ...         self.value = torch.tensor(0.0)
        >>> metric = TorchMetricWrapper(MaxError())
        >>> metric.name
        'max_error'
        >>> metric.update_state(torch.tensor([1.0, 2.0]), torch.tensor([1.5, 4.0]))
        >>> float(metric.result())
        2.0
    """

    def __init__(self, metric, name=None):
        if not is_torchmetrics_like(metric):
            raise TypeError(
                f"TorchMetricWrapper expects a metric object with `update(preds, target)`, `compute()` and "
                f"`reset()` methods (such as a torchmetrics.Metric instance), got {metric!r} of type "
                f"{type(metric).__name__}."
            )
        super().__init__(name=name or to_snake_case(type(metric).__name__))
        self.metric = metric
        self._updated = False

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Call ``metric.update(y_pred, y_true)`` on the batch's device."""
        if sample_weight is not None:
            raise ValueError(_NO_WEIGHTS.format(name=self.name, cls=type(self.metric).__name__))
        with torch.no_grad():
            # The batch decides the device; host data goes where the metric already is.
            device = y_pred.device if isinstance(y_pred, torch.Tensor) else self._metric_device()
            y_pred = to_tensor(y_pred, device=device)
            y_true = to_tensor(y_true, device=y_pred.device)
            self._move_metric(y_pred.device)
            self.metric.update(y_pred, y_true)
        self._updated = True

    def result(self):
        if not self._updated:
            return torch.zeros((), device=self._metric_device())
        return self.metric.compute()

    def reset_state(self):
        self.metric.reset()
        self._updated = False

    def to(self, device):
        """Move the wrapped metric's state to ``device``; returns ``self``."""
        self._move_metric(torch.device(device))
        return self

    def get_config(self):
        """Name and the wrapped class, for display; the wrapped object itself is not serialisable."""
        cls = type(self.metric)
        return {"name": self.name, "metric": f"{cls.__module__}.{cls.__qualname__}"}

    @classmethod
    def from_config(cls, config):
        raise TypeError(
            f"A TorchMetricWrapper cannot be rebuilt from its config ({config.get('metric')!r}): the wrapped "
            "object's constructor arguments are not recorded. Create the metric again and pass it to "
            "`compile(metrics=[...])`."
        )

    def __repr__(self):
        return f"<TorchMetricWrapper name={self.name} metric={type(self.metric).__name__}>"

    def _metric_device(self):
        device = getattr(self.metric, "device", None)
        return device if isinstance(device, torch.device) else None

    def _move_metric(self, device):
        current = self._metric_device()
        if current is not None and current != device and callable(getattr(self.metric, "to", None)):
            self.metric.to(device)

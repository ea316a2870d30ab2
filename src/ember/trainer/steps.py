"""The default train / test / predict steps, and loss and metric bookkeeping.

The body of ``train_step`` is the textbook loop: forward, loss, backward,
optimizer step, metric updates. Metric values stay on the device; the returned
logs are read lazily.
"""

import torch

from ember.data.utils import unpack_x_y_sample_weight
from ember.metrics import Mean
from ember.mixed_precision.autocast import float32_outputs
from ember.trainer.logs import Logs
from ember.tree import flatten

__all__ = [
    "collect_trainable_params",
    "compute_loss",
    "compute_metrics",
    "get_metrics_result",
    "model_metrics",
    "predict_step",
    "test_step",
    "train_step",
]


def _batch_size(x):
    if isinstance(x, torch.Tensor) and x.ndim:
        return x.shape[0]
    for leaf in flatten(x):
        if isinstance(leaf, torch.Tensor) and leaf.ndim:
            return leaf.shape[0]
    return 1


def collect_trainable_params(model):
    """The parameters the optimizer updates; built lazily models get them after their first call."""
    model._trainable_params = [p for p in model.trainable_weights if p.requires_grad]
    model._params_ready = bool(model._trainable_params) and model.built
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", True) is False and model._trainable_params:
        # Built up front so custom train steps may call optimizer.step() / zero_grad() bare.
        optimizer.build(model._trainable_params)


def train_step(model, data):
    x, y, sample_weight = unpack_x_y_sample_weight(data)
    y_pred = float32_outputs(model, model(x, training=True))  # losses in float32 under mixed precision
    if not model._params_ready:
        collect_trainable_params(model)  # a subclassed model creates its weights on its first call
    loss = model.compute_loss(x, y, y_pred, sample_weight, training=True)
    optimizer = model.optimizer
    optimizer.zero_grad(model._trainable_params)
    scale_loss = getattr(optimizer, "scale_loss", None)
    (scale_loss(loss) if scale_loss is not None else loss).backward()
    optimizer.step(model._trainable_params)
    with torch.no_grad():  # one no-grad scope for all the bookkeeping
        model._loss_tracker.update_state(loss.detach(), sample_weight=_batch_size(x))
        return model.compute_metrics(x, y, y_pred, sample_weight)


def test_step(model, data):
    x, y, sample_weight = unpack_x_y_sample_weight(data)
    y_pred = float32_outputs(model, model(x, training=False))
    loss = model.compute_loss(x, y, y_pred, sample_weight, training=False)
    if torch.is_grad_enabled():
        with torch.no_grad():
            model._loss_tracker.update_state(loss.detach(), sample_weight=_batch_size(x))
            return model.compute_metrics(x, y, y_pred, sample_weight)
    model._loss_tracker.update_state(loss.detach(), sample_weight=_batch_size(x))
    return model.compute_metrics(x, y, y_pred, sample_weight)


def predict_step(model, data):
    x, _, _ = unpack_x_y_sample_weight(data)
    return model(x, training=False)


def _added_losses(model):
    """Losses from add_loss() in the latest call, callable losses, and weight regularization terms."""
    loss_layers = getattr(model, "_last_loss_layers", ())
    callables = getattr(model, "_callable_loss_fns", ())
    regularized = getattr(model, "_regularized_weights", ())
    if not (loss_layers or callables or regularized):
        return []  # the common case, checked once per step
    values = [loss for layer in loss_layers for loss in layer._losses]
    values.extend(fn() for fn in callables)
    for weight in regularized:
        values.append(weight.regularizer(weight))
    return values


def _update_added_metrics(model):
    """Fold the add_metric() values of the latest call into per-name epoch means."""
    added = model._added_metrics
    for name, value, _, metric in getattr(model, "_last_metric_values", ()):
        if metric is not None:
            # A Metric object's result: the object already holds the aggregated state.
            added.setdefault(metric.name, metric)
            continue
        tracker = added.get(name)
        if tracker is None:
            tracker = added[name] = Mean(name=name)
        with torch.no_grad():
            value = torch.as_tensor(value).detach()
            tracker.to(value.device).update_state(value)


def compute_loss(model, x, y, y_pred, sample_weight, training=True):
    config = model._compile_config
    total = config.loss(model, y, y_pred, sample_weight) if config is not None else None
    extra = _added_losses(model)
    if extra:
        added = torch.stack([torch.as_tensor(v, dtype=torch.float32).reshape(()) for v in extra]).sum()
        total = added if total is None else total + added
    if total is None:
        raise ValueError(
            f"Model {model.name!r} has no loss to optimize: pass `loss=` to compile(), or add losses "
            "with `add_loss()` inside a layer's call()."
        )
    return total


def compute_metrics(model, x, y, y_pred, sample_weight):
    config = model._compile_config
    if config is not None:
        config.metrics.update_state(model, y, y_pred, sample_weight, config.loss)
    if getattr(model, "_last_metric_values", None):
        _update_added_metrics(model)
    return Logs(model.metrics)


def model_metrics(model):
    config = model._compile_config
    if config is None:
        return []
    return [model._loss_tracker] + config.loss.metrics + config.metrics.metrics + list(model._added_metrics.values())


class CompiledLossView:
    """``model.compiled_loss``: the compiled losses as one callable (Keras 2's custom-step helper).

    Calling it returns the total loss (compiled losses times ``loss_weights``
    plus ``regularization_losses``) and updates the ``loss`` tracker.
    """

    def __init__(self, model):
        self.model = model

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        model = self.model
        config = model._compile_config
        total = config.loss(model, y_true, y_pred, sample_weight) if config is not None else None
        if regularization_losses:
            added = torch.stack([torch.as_tensor(v, dtype=torch.float32).reshape(()) for v in regularization_losses]).sum()
            total = added if total is None else total + added
        if total is None:
            raise ValueError("compiled_loss: the model was compiled without a loss and no regularization losses were given.")
        model._loss_tracker.update_state(total.detach(), sample_weight=_batch_size(y_pred))
        return total

    @property
    def metrics(self):
        return [self.model._loss_tracker] + self.model._compile_config.loss.metrics


class CompiledMetricsView:
    """``model.compiled_metrics``: ``update_state(y, y_pred, sample_weight)`` over the compiled metrics."""

    def __init__(self, model):
        self.model = model

    def update_state(self, y_true, y_pred, sample_weight=None):
        config = self.model._compile_config
        config.metrics.update_state(self.model, y_true, y_pred, sample_weight, config.loss)

    @property
    def metrics(self):
        return self.model._compile_config.metrics.metrics


def get_metrics_result(model):
    return dict(Logs(model.metrics))

"""The default train / test / predict steps, and loss and metric bookkeeping.

The body of ``train_step`` is the textbook loop: forward, loss, backward,
optimizer step, metric updates. Metric values stay on the device; the returned
logs are read lazily.
"""

import torch

from ember.data.utils import unpack_x_y_sample_weight
from ember.trainer.logs import Logs
from ember.tree import flatten

__all__ = [
    "compute_loss",
    "compute_metrics",
    "get_metrics_result",
    "model_metrics",
    "predict_step",
    "test_step",
    "train_step",
]


def _batch_size(x):
    for leaf in flatten(x):
        if isinstance(leaf, torch.Tensor) and leaf.ndim:
            return leaf.shape[0]
    return 1


def train_step(model, data):
    x, y, sample_weight = unpack_x_y_sample_weight(data)
    y_pred = model(x, training=True)
    loss = model.compute_loss(x, y, y_pred, sample_weight, training=True)
    model._loss_tracker.update_state(loss.detach(), sample_weight=_batch_size(x))
    optimizer = model.optimizer
    optimizer.zero_grad(model._trainable_params)
    loss.backward()
    optimizer.step(model._trainable_params)
    return model.compute_metrics(x, y, y_pred, sample_weight)


def test_step(model, data):
    x, y, sample_weight = unpack_x_y_sample_weight(data)
    y_pred = model(x, training=False)
    loss = model.compute_loss(x, y, y_pred, sample_weight, training=False)
    model._loss_tracker.update_state(loss.detach(), sample_weight=_batch_size(x))
    return model.compute_metrics(x, y, y_pred, sample_weight)


def predict_step(model, data):
    x, _, _ = unpack_x_y_sample_weight(data)
    return model(x, training=False)


def _added_losses(model):
    """Losses from add_loss() in the latest call, plus weight regularization terms."""
    values = [loss for layer in getattr(model, "_last_loss_layers", ()) for loss in layer._losses]
    for weight in model._regularized_weights:
        values.append(weight.regularizer(weight))
    return values


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
    return Logs(model.metrics)


def model_metrics(model):
    config = model._compile_config
    if config is None:
        return []
    return [model._loss_tracker] + config.loss.metrics + config.metrics.metrics


def get_metrics_result(model):
    return dict(Logs(model.metrics))

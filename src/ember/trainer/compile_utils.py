"""Routing compiled losses and metrics to a model's outputs.

``compile(loss=..., metrics=..., loss_weights=...)`` accepts one entry for every
output, a list in output order, or a dict keyed by output name. The routing is
resolved on the first batch, when the structures of ``y`` and ``y_pred`` are
known; after that each step is a flat loop over (loss, y_true, y_pred) triples.
"""

import copy

import torch

from ember import losses as losses_module
from ember import metrics as metrics_module
from ember.tree import flatten

__all__ = ["CompiledLoss", "CompiledMetrics", "flatten_outputs"]


def flatten_outputs(structure, output_names, what):
    """Flatten ``y`` or ``y_pred`` in output order; dicts are matched by output name."""
    if isinstance(structure, dict):
        missing = [name for name in output_names if name not in structure]
        if missing and len(structure) == len(output_names) == 1:
            return list(structure.values())
        if missing:
            raise ValueError(
                f"`{what}` is a dict with keys {list(structure)}, but the model's outputs are named "
                f"{output_names} (missing {missing})."
            )
        return [structure[name] for name in output_names]
    if isinstance(structure, (list, tuple)):
        return list(structure)
    return [structure]


def _leaf_count(value):
    """How many tensors ``value`` holds (a single tensor without walking a structure)."""
    return 1 if isinstance(value, torch.Tensor) else len(flatten(value))


def _output_names(model, y_pred):
    names = model.output_names
    if names and len(names) == len(flatten(y_pred)):
        return list(names)
    if isinstance(y_pred, dict):
        return list(y_pred.keys())
    count = len(flatten(y_pred))
    return ["output"] if count == 1 else [f"output_{i + 1}" for i in range(count)]


def _per_output(config, names, what, allow_single_for_all=True):
    """Spread ``config`` (single / list / dict) to one entry per output name."""
    n = len(names)
    if isinstance(config, dict):
        unknown = [k for k in config if k not in names]
        if unknown:
            raise ValueError(
                f"`{what}` has keys {unknown} that are not output names; the model's outputs are {names}."
            )
        return [config.get(name) for name in names]
    if isinstance(config, (list, tuple)) and n > 1:
        if len(config) != n:
            raise ValueError(
                f"`{what}` is a list of {len(config)} entries but the model has {n} outputs {names}; "
                "give one entry per output (None to skip one) or a dict keyed by output name."
            )
        return list(config)
    if allow_single_for_all:
        return [config] + [copy.deepcopy(config) for _ in range(n - 1)]
    return [config] + [None] * (n - 1)


class CompiledLoss:
    """Per-output losses times ``loss_weights``; tracks each output's loss when there are several."""

    def __init__(self, loss, loss_weights=None):
        self.loss_config = loss
        self.loss_weights_config = loss_weights
        self.built = False
        self.entries = []  # (output index, loss object, weight)
        self.trackers = []  # Mean metric per entry (multi-output only)
        self.output_names = None

    def build(self, names):
        self.entries, self.trackers = [], []
        self.output_names = names
        losses = _per_output(self.loss_config, names, "loss")
        weights = self.loss_weights_config
        if weights is None:
            weights = [1.0] * len(names)
        elif isinstance(weights, (int, float)):
            weights = [float(weights)] * len(names)
        else:
            weights = _per_output(weights, names, "loss_weights", allow_single_for_all=False)
        for i, (name, loss, weight) in enumerate(zip(names, losses, weights)):
            if loss is None:
                continue
            loss_obj = losses_module.get(loss)
            self.entries.append((i, loss_obj, 1.0 if weight is None else float(weight)))
        if len(self.entries) > 1:
            # As Keras: each output's loss is logged only when several outputs have losses.
            self.trackers = [metrics_module.Mean(name=f"{names[i]}_loss") for i, _, _ in self.entries]
        self.built = True

    def __call__(self, model, y_true, y_pred, sample_weight):
        if not self.built or len(self.output_names) != _leaf_count(y_pred):
            self.build(_output_names(model, y_pred))
        if not self.entries:
            return None
        if y_true is None:
            raise ValueError(
                "The model was compiled with a loss, but no targets `y` were given. Pass `y` to "
                "fit/evaluate (or yield (x, y) batches), or compile without `loss` and use add_loss()."
            )
        flat_true = flatten_outputs(y_true, self.output_names, "y")
        flat_pred = flatten_outputs(y_pred, self.output_names, "y_pred")
        if len(flat_true) != len(flat_pred):
            raise ValueError(
                f"The model has {len(flat_pred)} outputs {self.output_names} but `y` has "
                f"{len(flat_true)} entries."
            )
        flat_weights = None
        if sample_weight is not None:
            flat_weights = flatten_outputs(sample_weight, self.output_names, "sample_weight")
            if len(flat_weights) == 1 and len(flat_pred) > 1:
                flat_weights = flat_weights * len(flat_pred)
        total = None
        for k, (i, loss_obj, weight) in enumerate(self.entries):
            sw = flat_weights[i] if flat_weights is not None else None
            value = loss_obj(flat_true[i], flat_pred[i], sample_weight=sw)
            if self.trackers:
                self.trackers[k].update_state(value.detach(), sample_weight=flat_pred[i].shape[0])
            value = value * weight if weight != 1.0 else value
            total = value if total is None else total + value
        return total

    @property
    def metrics(self):
        return list(self.trackers)


_AUTO_METRICS = ("accuracy", "acc", "crossentropy", "ce")


def _resolve_metric(identifier, y_true, y_pred, loss_obj):
    """Strings "accuracy"/"acc" (and "crossentropy"/"ce") pick the variant that fits the data."""
    if identifier in _AUTO_METRICS:
        pred_last = y_pred.shape[-1] if y_pred.ndim > 1 else 1
        true_last = y_true.shape[-1] if y_true.ndim > 1 else 1
        loss_name = type(loss_obj).__name__ if loss_obj is not None else ""
        is_acc = identifier in ("accuracy", "acc")
        if pred_last == 1 or "Binary" in loss_name:
            cls = metrics_module.BinaryAccuracy if is_acc else metrics_module.BinaryCrossentropy
        elif "Sparse" in loss_name or (y_true.ndim < y_pred.ndim or true_last == 1):
            cls = metrics_module.SparseCategoricalAccuracy if is_acc else metrics_module.SparseCategoricalCrossentropy
        else:
            cls = metrics_module.CategoricalAccuracy if is_acc else metrics_module.CategoricalCrossentropy
        return cls(name=identifier)
    raise ValueError(f"Not an automatically resolved metric: {identifier!r}.")


class _AutoMetric(metrics_module.Metric):
    """"accuracy" (or "crossentropy"): binary, categorical or sparse, chosen on the first batch."""

    def __init__(self, identifier, loss_obj):
        super().__init__(name=identifier)
        self.identifier = identifier
        self.loss_obj = loss_obj
        self.inner = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.inner is None:
            self.inner = _resolve_metric(self.identifier, y_true, y_pred, self.loss_obj)
            self.inner.to(y_pred.device)
        self.inner.update_state(y_true, y_pred, sample_weight=sample_weight)

    def result(self):
        if self.inner is None:
            return torch.zeros(())
        return self.inner.result()


def _unique(name, taken):
    """``hinge``, then ``hinge_1``, ``hinge_2``: two metrics never share a log key (as Keras)."""
    if name not in taken:
        return name
    i = 1
    while f"{name}_{i}" in taken:
        i += 1
    return f"{name}_{i}"


class CompiledMetrics:
    """Metrics per output; names are prefixed with the output name when there are several outputs."""

    def __init__(self, metrics, weighted_metrics=None):
        self.metrics_config = metrics
        self.weighted_config = weighted_metrics
        self.built = False
        self.entries = []  # (output index, metric, weighted)

    def build(self, names, compiled_loss):
        self.entries = []
        if compiled_loss is not None and (not compiled_loss.built or compiled_loss.output_names != names):
            compiled_loss.build(names)
        losses = {i: loss for i, loss, _ in compiled_loss.entries} if compiled_loss is not None else {}
        for config, weighted in ((self.metrics_config, False), (self.weighted_config, True)):
            if config is None:
                continue
            if not isinstance(config, (list, tuple, dict)):
                raise TypeError(
                    f"`{'weighted_metrics' if weighted else 'metrics'}` must be a list (or a dict keyed by "
                    f"output name), got {type(config).__name__}. Wrap a single metric in a list."
                )
            nested = not isinstance(config, dict) and config and all(isinstance(c, (list, tuple)) or c is None for c in config)
            if nested and len(config) != len(names):
                what = "weighted_metrics" if weighted else "metrics"
                raise ValueError(
                    f"`{what}` has {len(config)} lists but the model has {len(names)} outputs {names}; give "
                    "one list per output (None or [] for none), a dict keyed by output name, or a flat list "
                    "applied to every output."
                )
            if isinstance(config, dict) or nested:
                per_output = _per_output(config, names, "metrics")
            else:
                per_output = [list(config)] + [copy.deepcopy(list(config)) for _ in range(len(names) - 1)]
            for i, entry in enumerate(per_output):
                if entry is None:
                    continue
                for identifier in entry if isinstance(entry, (list, tuple)) else [entry]:
                    if isinstance(identifier, str) and identifier in _AUTO_METRICS:
                        metric = _AutoMetric(identifier, losses.get(i))
                    else:
                        metric = metrics_module.get(identifier)
                        if isinstance(identifier, str):
                            metric.name = identifier  # Keras logs string metrics under the given string
                    if len(names) > 1:
                        metric.name = f"{names[i]}_{metric.name}"
                    metric.name = _unique(metric.name, {m.name for _, m, _ in self.entries})
                    self.entries.append((i, metric, weighted))
        self.output_names = names
        self.built = True

    def update_state(self, model, y_true, y_pred, sample_weight, compiled_loss):
        if not self.built or len(self.output_names) != _leaf_count(y_pred):
            self.build(_output_names(model, y_pred), compiled_loss)
        if not self.entries or y_true is None:
            return
        flat_true = flatten_outputs(y_true, self.output_names, "y")
        flat_pred = flatten_outputs(y_pred, self.output_names, "y_pred")
        flat_weights = None
        if sample_weight is not None:
            flat_weights = flatten_outputs(sample_weight, self.output_names, "sample_weight")
            if len(flat_weights) == 1:
                flat_weights = flat_weights * len(flat_pred)
        with torch.no_grad():
            for i, metric, weighted in self.entries:
                sw = flat_weights[i] if weighted and flat_weights is not None else None
                metric.update_state(flat_true[i], flat_pred[i], sample_weight=sw)

    @property
    def metrics(self):
        return [metric for _, metric, _ in self.entries]

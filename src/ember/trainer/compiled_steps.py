"""Whole-step compilation for ``compile(jit_compile=True)``.

With ``jit_compile=True`` (and ``run_eagerly=False``) every train, test and
predict step runs through ``torch.compile``:

* The default train step is one graph: forward, loss (compiled losses,
  ``add_loss`` terms, regularizers), the loss tracker, the gradients
  (``torch.autograd.grad`` traced by Dynamo), the optimizer update and the
  metric updates. The optimizer's learning rate and step count enter the graph
  as 0-d tensors, so a learning-rate schedule or Adam's bias correction never
  triggers a recompile. Optimizers without a traced update rule here (see
  ``ember.trainer.traced_updates``), and optimizers using gradient clipping, weight decay,
  EMA, gradient accumulation, loss scaling or weight constraints, update
  eagerly right after the compiled forward/backward/metrics graph.
* The default test step (forward, loss, loss tracker, metrics) and the predict
  step are graphs of their own.
* A ``train_step`` / ``test_step`` / ``predict_step`` overridden in a subclass
  is compiled as it is, allowing graph breaks; the ember optimizer's update runs
  eagerly inside it (a deliberate graph break), so its Python step counter
  never causes recompiles.

Recurrent layers (``_runs_outside_graph = True``) run their recurrence eagerly,
on PyTorch's fused kernels, between graphs: a model containing one compiles its
default steps allowing those graph breaks (the gradients are then computed by
the autograd engine between the graphs, and the update is a graph of its own).
Traced, a recurrence would unroll into per-timestep operations, forward and
backward, and take minutes to compile.

With ``steps_per_execution=N`` the loops hand the default train, test and
predict steps N batches at a time (``run.run_group``); batches of one structure,
shape and dtype run as one compiled call of N unrolled steps (train steps each
with their own learning rate and step count); other groups run one step at a time.

Guards: the compiled steps keep Dynamo's guards on tensors (inputs, weights,
buffers: dtype, device, shape) and drop those on layer attributes, so a step is
traced once, as Keras's compiled steps are: configuration read while tracing
(``trainable``, a dropout rate, an activation) takes effect after ``compile()``
again, which builds a new ``StepCompiler``.

Shapes: the batch dimension of every input is marked dynamic
(``torch._dynamo.maybe_mark_dynamic``), so one graph serves every batch size,
the partial last batch of an epoch included; another shape or structure
(sample weights appearing, another feature size, a batch of one sample) compiles
once more, never again per epoch.

The first call of each kind of step runs eagerly: it builds whatever is
created lazily (weights of subclassed models, optimizer slots, metric
routing), which must not happen while Dynamo traces.

If compiling or running a compiled step raises, the step is run eagerly; if
that works, a single ``UserWarning`` names the compilation error and the model
runs eagerly (every kind of step) from then on. An error that the eager step
raises too is the user's and propagates unchanged.

Each model gets its own copies of the step functions' code objects, so Dynamo's
per-function cache (and its recompile limit) is per model, not shared by every
model of the process.
"""

import types
import warnings

import torch
from torch.utils._pytree import tree_flatten

from ember.data.utils import unpack_x_y_sample_weight
from ember.mixed_precision.autocast import float32_outputs
from ember.trainer import steps as _steps
from ember.trainer.logs import Logs
from ember.trainer.traced_updates import traced_update_for
from ember.tree import map_structure

__all__ = ["StepCompiler", "configure", "step_function"]

MSG_FALLBACK = (
    "jit_compile=True: the {kind} step of model {model!r} could not be compiled with torch.compile "
    "({error_type}: {error}). The model now runs eagerly (train, test and predict steps). Pass "
    "jit_compile=False to compile(), or make the failing code traceable by torch.compile."
)



def configure(model, jit_compile, run_eagerly, backend="inductor"):
    """Attach a ``StepCompiler`` to ``model`` when ``jit_compile is True`` and not ``run_eagerly``.

    ``"auto"`` means eager, as Keras's PyTorch backend resolves it.
    """
    enabled = jit_compile is True and not run_eagerly
    model.__dict__["_step_compiler"] = StepCompiler(model, backend=backend) if enabled else None


def step_function(model, kind):
    """The callable ``batch -> logs`` (or outputs, for ``"predict"``) the loops call."""
    compiler = model.__dict__.get("_step_compiler")
    config = getattr(model, "_compile_config", None)
    if compiler is None or (config is not None and config.run_eagerly):
        return getattr(model, f"{kind}_step")
    return compiler.step(kind)


def _fresh_copy(function):
    """``function`` with its own code object, hence its own Dynamo cache entry list."""
    return types.FunctionType(
        function.__code__.replace(), function.__globals__, function.__name__, function.__defaults__,
        function.__closure__,
    )


def _with_own_storage(batch):
    """``batch`` with every view into a larger tensor copied and batch dimensions dynamic."""
    if isinstance(batch, tuple) and all(item is None or type(item) is torch.Tensor for item in batch):
        return tuple(_own_storage(item) for item in batch)
    return map_structure(_own_storage, batch)


def _own_storage(value):
    """``value``, copied when it is a view into a larger tensor (an unshuffled batch slice).

    Dynamo specializes a view's storage offset as 0, 1 or "at least 2", so the
    first batch of every epoch (offset 0) would need a graph of its own after
    the others (offset >= 2) compiled; a tensor of its own always has offset 0.
    Its first dimension is marked dynamic: one graph for every batch size.
    """
    if isinstance(value, torch.Tensor) and value.storage_offset() != 0:
        value = value.clone()
    if isinstance(value, torch.Tensor) and value.ndim:
        torch._dynamo.maybe_mark_dynamic(value, 0)
    return value


class _AutogradTracing:
    """Sets Dynamo's ``trace_autograd_ops`` for one call and restores it after.

    Dynamo reads it only while tracing; setting it per call is cheaper than
    ``config.patch``, and keeps other ``torch.compile`` users of the process unaffected.
    """

    __slots__ = ("enabled", "previous")

    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        config = torch._dynamo.config
        self.previous = config.trace_autograd_ops
        config.trace_autograd_ops = self.enabled

    def __exit__(self, *exc_info):
        torch._dynamo.config.trace_autograd_ops = self.previous


def _keep_guards(entries):
    """Dynamo's guards minus those on layer attributes (the model's configuration); see the module docstring.

    Tensor guards stay, on parameters and buffers too: a change of dtype, device
    or shape still compiles again.
    """
    return [
        entry.guard_type == "TENSOR_MATCH" or not entry.orig_guard.source.is_unspecialized_nn_module()
        for entry in entries
    ]


def _uniform(batches):
    """True when every batch has the first one's structure, shapes and dtypes (one graph serves them)."""
    first = _signature(batches[0])
    return first is not None and all(_signature(batch) == first for batch in batches[1:])


def _signature(batch):
    """A batch's structure, shapes and dtypes; None when it holds anything but tensors and None."""
    if type(batch) is tuple and all(item is None or type(item) is torch.Tensor for item in batch):
        leaves, structure = batch, len(batch)  # the loop's usual (x, y, sample_weight)
    else:
        leaves, structure = tree_flatten(batch)
    signature = [structure]
    for leaf in leaves:
        if isinstance(leaf, torch.Tensor):
            signature.append((leaf.shape, leaf.dtype))
        elif leaf is None:
            signature.append(None)
        else:
            return None
    return signature


def _overridden(model, kind):
    """The subclass's ``<kind>_step`` function, or None when it is ember's default."""
    from ember.models.model import Model

    function = getattr(type(model), f"{kind}_step")
    return None if function is getattr(Model, f"{kind}_step") else function


class StepCompiler:
    """Compiles and runs a model's steps; see the module docstring.

    Attributes:
        backend: the ``torch.compile`` backend (``"inductor"``; tests may use
            ``"aot_eager"`` or a counting callable).
        failed: the first compilation error, once the model fell back to eager.
    """

    def __init__(self, model, backend="inductor"):
        self.model = model
        self.backend = backend
        self.failed = None
        self._steps = {}
        self._warm = set()
        self._lr_tensors = []
        self._disabled_optimizer_update = False

    def step(self, kind):
        """The step callable for ``kind`` (built once, then cached)."""
        step = self._steps.get(kind)
        if step is None:
            step = self._steps[kind] = self._build(kind)
        return step

    # ------------------------------------------------------------------ building
    def _build(self, kind):
        model = self.model
        eager = getattr(model, f"{kind}_step")
        custom = _overridden(model, kind)
        if custom is not None:
            compiled = self._compile(custom, fullgraph=False)
            self._run_optimizer_eagerly_in_graphs()
            run_compiled = lambda batch: compiled(model, batch)  # noqa: E731
        elif kind == "train":
            run_compiled = self._default_train_runner()
        elif kind == "test":
            compiled = self._compile(_test_graph, fullgraph=self._one_graph())

            def run_compiled(batch):
                x, y, sample_weight = unpack_x_y_sample_weight(batch)
                compiled(model, x, y, sample_weight)
                return Logs(model.metrics)
        else:
            compiled = self._compile(_predict_graph, fullgraph=self._one_graph())

            def run_compiled(batch):
                x, _, _ = unpack_x_y_sample_weight(batch)
                return compiled(model, x)

        def run(batch):
            if self.failed is not None:
                return eager(batch)
            if kind not in self._warm:
                result = eager(batch)
                self._warm.add(kind)
                return result
            try:
                with _AutogradTracing(custom is None):
                    return run_compiled(_with_own_storage(batch))
            except Exception as error:  # noqa: BLE001 - any compiler failure falls back to eager
                result = eager(batch)  # a user error raises here again, without the warning
                self._fall_back(kind, error)
                return result

        if custom is None and self._one_graph():
            run.run_group = self._group_runner(kind, run)
        return run

    def _one_graph(self):
        """False when a layer runs part of its call outside the graph (``_runs_outside_graph``)."""
        return not any(getattr(module, "_runs_outside_graph", False) for module in self.model.modules())

    def _compile(self, function, fullgraph):
        options = None
        if self.backend == "inductor":
            # The generated code re-checks every input's sizes and alignment on each call; Dynamo's
            # guards have already checked them.
            options = {"size_asserts": False, "alignment_asserts": False}
        options = dict(options or {}, guard_filter_fn=_keep_guards)
        return torch.compile(_fresh_copy(function), backend=self.backend, fullgraph=fullgraph, options=options)

    def _fall_back(self, kind, error):
        self.failed = error
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        warnings.warn(
            MSG_FALLBACK.format(kind=kind, model=self.model.name, error_type=type(error).__name__, error=message),
            UserWarning,
            stacklevel=4,
        )

    def _run_optimizer_eagerly_in_graphs(self):
        """Inside a compiled custom step, the ember optimizer's update is an eager call (a graph break)."""
        optimizer = getattr(self.model, "optimizer", None)
        if self._disabled_optimizer_update or not hasattr(optimizer, "_update"):
            return
        optimizer.__dict__["_update"] = torch._dynamo.disable(type(optimizer)._update.__get__(optimizer))
        self._disabled_optimizer_update = True

    def _default_train_runner(self):
        model = self.model
        fused = self._compile(_train_graph_with_update, fullgraph=self._one_graph())
        split = self._compile(_train_graph, fullgraph=self._one_graph())

        def run_compiled(batch):
            x, y, sample_weight = unpack_x_y_sample_weight(batch)
            optimizer = model.optimizer
            update = traced_update_for(optimizer, model._trainable_params)
            if update is not None:
                calls = optimizer._current_iteration()
                lr = self._learning_rate_tensor(optimizer, calls)
                fused(model, x, y, sample_weight, lr, optimizer._iterations, update)
                optimizer._advance_iteration()
            else:
                params = model._trainable_params
                grads = split(model, x, y, sample_weight)
                optimizer.zero_grad(params)
                for param, grad in zip(params, grads):
                    param.grad = grad
                optimizer.step(params)
            return Logs(model.metrics)

        return run_compiled

    def _group_runner(self, kind, run):
        """Several steps in one compiled call (``steps_per_execution``).

        Returns ``batches -> logs`` for train and test steps, ``batches -> [outputs
        per batch]`` for predict steps. Used for groups of batches of one shape,
        once the step is warm (and, to train, when the optimizer's update traces);
        otherwise the batches go through ``run`` one at a time (as the last,
        partial batch of an epoch does).
        """
        model = self.model
        graphs = {}
        group_call = {"train": self._train_group_call, "test": self._test_group_call,
                      "predict": self._predict_group_call}[kind]

        def one_at_a_time(step, batches):
            results = [step(batch) for batch in batches]
            return results if kind == "predict" else results[-1]

        def run_group(batches):
            call = None
            if self.failed is None and kind in self._warm and len(batches) > 1 and _uniform(batches):
                call = group_call(graphs)
            if call is None:
                return one_at_a_time(run, batches)
            xs, ys, weights = zip(*(unpack_x_y_sample_weight(_with_own_storage(batch)) for batch in batches))
            try:
                with _AutogradTracing(kind == "train"):
                    outputs = call(xs, ys, weights)
            except Exception as error:  # noqa: BLE001 - any compiler failure falls back to eager
                # A user error raises here again, without the warning.
                result = one_at_a_time(getattr(model, f"{kind}_step"), batches)
                self._fall_back(kind, error)
                return result
            return list(outputs) if kind == "predict" else Logs(model.metrics)

        return run_group

    def _train_group_call(self, graphs):
        """``(xs, ys, weights) -> None`` running the group's train steps, or None when the update is eager."""
        model = self.model
        optimizer = getattr(model, "optimizer", None)
        update = traced_update_for(optimizer, model._trainable_params)
        if update is None:
            return None
        if "train" not in graphs:
            graphs["train"] = self._compile(_train_graphs_with_updates, fullgraph=True)
        compiled = graphs["train"]

        def call(xs, ys, weights):
            calls = optimizer._current_iteration()
            rates = tuple(self._learning_rate_tensor(optimizer, calls + i, slot=i) for i in range(len(xs)))
            compiled(model, xs, ys, weights, rates, optimizer._iterations, update)
            for _ in xs:
                optimizer._advance_iteration()

        return call

    def _test_group_call(self, graphs):
        """``(xs, ys, weights) -> None`` running the group's test steps."""
        if "test" not in graphs:
            graphs["test"] = self._compile(_test_graphs, fullgraph=True)
        compiled = graphs["test"]
        return lambda xs, ys, weights: compiled(self.model, xs, ys, weights)

    def _predict_group_call(self, graphs):
        """``(xs, ys, weights) -> outputs per batch`` for the group's predict steps."""
        if "predict" not in graphs:
            graphs["predict"] = self._compile(_predict_graphs, fullgraph=True)
        compiled = graphs["predict"]
        return lambda xs, ys, weights: compiled(self.model, xs)

    def _learning_rate_tensor(self, optimizer, calls, slot=0):
        """The learning rate as a 0-d tensor (the optimizer's own variable when it is constant)."""
        if optimizer._schedule is None:
            optimizer._current_learning_rate(calls)  # re-syncs an assigned value
            return optimizer._learning_rate_variable
        value = optimizer._current_learning_rate(calls)
        while len(self._lr_tensors) <= slot:  # one per step of a group: each step has its own rate
            self._lr_tensors.append(torch.zeros((), dtype=torch.float32))
        with torch.no_grad():
            self._lr_tensors[slot].fill_(float(value))
        return self._lr_tensors[slot]


# ---------------------------------------------------------------------- graphs
# Each is compiled once per model (a fresh code object per model, see above).


def _loss_and_tracker(model, x, y, sample_weight, training):
    # As the eager steps (ember.trainer.steps): losses and metrics in float32 under mixed precision.
    y_pred = float32_outputs(model, model(x, training=training))
    loss = model.compute_loss(x, y, y_pred, sample_weight, training=training)
    model._loss_tracker.update_state(loss.detach(), sample_weight=_steps._batch_size(x))
    return y_pred, loss


def _gradients(model, x, y, sample_weight):
    y_pred, loss = _loss_and_tracker(model, x, y, sample_weight, training=True)
    scale_loss = getattr(model.optimizer, "scale_loss", None)
    scaled = scale_loss(loss) if scale_loss is not None else loss
    grads = torch.autograd.grad(scaled, model._trainable_params, allow_unused=True)
    return y_pred, grads


def _train_graph(model, x, y, sample_weight):
    """Forward, loss, gradients and metrics; the optimizer runs afterwards, eagerly."""
    y_pred, grads = _gradients(model, x, y, sample_weight)
    model.compute_metrics(x, y, y_pred, sample_weight)
    return grads


def _train_graph_with_update(model, x, y, sample_weight, learning_rate, iterations, update):
    """The whole train step, optimizer update included."""
    y_pred, grads = _gradients(model, x, y, sample_weight)
    params = model._trainable_params
    with torch.no_grad():
        step = (iterations + 1).to(torch.float32)
        update(model.optimizer, list(grads), params, learning_rate, step)
    model.compute_metrics(x, y, y_pred, sample_weight)


def _train_graphs_with_updates(model, xs, ys, sample_weights, learning_rates, iterations, update):
    """Several whole train steps, one after the other, in one graph (unrolled by Dynamo)."""
    for index, (x, y, sample_weight, learning_rate) in enumerate(zip(xs, ys, sample_weights, learning_rates)):
        _train_graph_with_update(model, x, y, sample_weight, learning_rate, iterations + index, update)


def _test_graph(model, x, y, sample_weight):
    y_pred, _ = _loss_and_tracker(model, x, y, sample_weight, training=False)
    model.compute_metrics(x, y, y_pred, sample_weight)


def _test_graphs(model, xs, ys, sample_weights):
    """Several test steps, one after the other, in one graph (unrolled by Dynamo)."""
    for x, y, sample_weight in zip(xs, ys, sample_weights):
        _test_graph(model, x, y, sample_weight)


def _predict_graph(model, x):
    return model(x, training=False)


def _predict_graphs(model, xs):
    """Several predict steps in one graph: one output per batch."""
    return tuple(model(x, training=False) for x in xs)

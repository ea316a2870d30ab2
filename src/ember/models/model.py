"""``Model``: a layer with a training API (compile / fit / evaluate / predict).

Three ways to make one, as in Keras:

* functional: ``Model(inputs, outputs)`` from ``ember.Input`` tensors;
* subclassing: ``class M(Model)`` with ``__init__`` creating layers and
  ``call(inputs, training=None)``;
* wrapping: ``Model(module)`` around any ``torch.nn.Module``.

The training loop itself lives in ``ember.trainer``; the methods here are the
Keras-facing entry points and the overridable steps.
"""

import torch

from ember.graph.keras_tensor import KerasTensor
from ember.layers.layer import Layer
from ember.models.functional import FunctionalGraph
from ember.trainer import steps as _steps
from ember.trainer import trainer as _trainer

__all__ = ["Model"]


def _captured_parameters(graph):
    from ember.layers.torch_op import TorchOpLayer
    from ember.tree import flatten

    found, seen = [], set()
    for node in graph.nodes:
        if isinstance(node.layer, TorchOpLayer):
            for value in flatten((node.call_args, node.call_kwargs)):
                if isinstance(value, torch.nn.Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    found.append(value)
    return found


def _warn_deprecated(old, new):
    import warnings

    warnings.warn(
        f"Model.{old} is deprecated; use Model.{new}, which accepts generators and Sequences directly "
        "(with the same steps_per_epoch, validation_steps, workers, use_multiprocessing arguments).",
        DeprecationWarning,
        stacklevel=3,
    )


class Model(Layer):
    """A model: layers plus ``compile``/``fit``/``evaluate``/``predict``.

    Subclass it and override ``call`` (and optionally ``train_step``,
    ``test_step``, ``predict_step``), or build it functionally.

    Args:
        inputs: Functional models: an ``ember.Input`` tensor, or a list/dict of them.
        outputs: Functional models: the output tensor(s) (single, list or dict).
        name: Model name (``"functional"``, the snake-cased class name, ...).

    Example:
        >>> import ember
        >>> inputs = ember.Input(shape=(3,))
        >>> model = ember.Model(inputs, ember.layers.Dense(2)(inputs))
        >>> model(torch.ones(4, 3)).shape
        torch.Size([4, 2])
    """

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", None)
        outputs = kwargs.pop("outputs", None)
        module = None
        if args and isinstance(args[0], torch.nn.Module):
            module, args = args[0], args[1:]
        elif args:
            if inputs is not None:
                raise TypeError("Model() got `inputs` both positionally and by keyword.")
            inputs, args = args[0], args[1:]
            if args:
                if outputs is not None:
                    raise TypeError("Model() got `outputs` both positionally and by keyword.")
                outputs, args = args[0], args[1:]
        if args:
            raise TypeError(f"Model() takes at most (inputs, outputs) positionally, got {len(args)} more.")
        if (inputs is None) != (outputs is None):
            raise ValueError("A functional Model needs both `inputs` and `outputs`.")
        if kwargs.get("name") is None and inputs is not None:
            from ember.backend.naming import unique_name

            kwargs["name"] = unique_name("functional")
        super().__init__(**kwargs)
        self._graph = None
        self._module = None
        self._symbolic_extras = []
        self.compiled = False
        self.stop_training = False
        self.history = None
        self.optimizer = None
        self._compile_config = None
        if inputs is not None:
            self._graph = FunctionalGraph(inputs, outputs)
            names = [layer.name for layer in self._graph.layers]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(
                    f"All layer names in a model must be unique; found duplicates {duplicates}. "
                    "Pass distinct `name=` arguments."
                )
            container = torch.nn.ModuleDict()
            for layer in self._graph.layers:
                container[layer.name.replace(".", "_")] = layer
            # Registered as the submodule "model_layers": state_dict keys read "model_layers.<layer>.<weight>".
            # (Not "layers": that name is Keras's `model.layers` list, and torch tools such as
            # torch.export look submodules up by attribute name.)
            self.model_layers = container
            captured = _captured_parameters(self._graph)
            if captured:
                # A plain nn.Module called on symbolic tensors records its torch functions with
                # its parameters as arguments; registering them here makes them train and save.
                self.captured_parameters = torch.nn.ParameterList(captured)
            self.built = True
        elif module is not None:
            self._module = module
            self.built = True

    # ------------------------------------------------------------------ structure
    @property
    def layers(self):
        if self._graph is not None:
            return list(self._graph.layers)
        if self._module is not None:
            return [self._module]
        return [m for m in self.children() if isinstance(m, Layer)]

    def get_layer(self, name=None, index=None):
        """Return a layer by ``name`` or by position ``index`` in ``model.layers``."""
        if (name is None) == (index is None):
            raise ValueError("get_layer() needs exactly one of `name` or `index`.")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer(index={index}): the model has only {len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if getattr(layer, "name", None) == name:
                return layer
        raise ValueError(
            f"No such layer: {name!r}. Existing layers are: {[getattr(l, 'name', None) for l in layers]}."
        )

    @property
    def inputs(self):
        return self._graph.flat_inputs if self._graph is not None else None

    @property
    def outputs(self):
        return self._graph.flat_outputs if self._graph is not None else None

    @property
    def input_names(self):
        return list(self._graph.input_names) if self._graph is not None else None

    @property
    def output_names(self):
        if self._graph is not None:
            return list(self._graph.output_names)
        return getattr(self, "_inferred_output_names", None)

    @property
    def input(self):
        if self._graph is None:
            raise AttributeError(f"Model {self.name!r} is not a functional model and has no symbolic input.")
        return self._graph.inputs

    @property
    def output(self):
        if self._graph is None:
            raise AttributeError(f"Model {self.name!r} is not a functional model and has no symbolic output.")
        return self._graph.outputs

    # ------------------------------------------------------------------ calling
    def call(self, inputs, training=None):
        if self._graph is not None:
            outputs, extras = self._graph.run(self._graph.standardize_inputs(inputs, self.name))
            for (kind, name, aggregation), value in zip(self._symbolic_extras, extras):
                if kind == "loss":
                    Layer.add_loss(self, value)
                else:
                    Layer.add_metric(self, value, name, aggregation)
            return outputs
        if self._module is not None:
            if isinstance(inputs, tuple):
                return self._module(*inputs)
            if isinstance(inputs, dict):
                return self._module(**inputs)
            return self._module(inputs)
        raise NotImplementedError(
            f"Model {type(self).__name__} has no `call()`: subclasses of ember.Model must define "
            "`call(self, inputs, training=None)`, or build the model functionally with "
            "ember.Model(inputs, outputs)."
        )

    # ------------------------------------------------------------------ symbolic losses/metrics
    def add_loss(self, loss):
        """Add a loss: a tensor computed in ``call``, a zero-argument callable, or, on a
        functional model, a symbolic tensor computed from the model's layers (evaluated
        on every call)."""
        if isinstance(loss, KerasTensor):
            self._add_symbolic_extra(loss, ("loss", None, None))
        else:
            super().add_loss(loss)

    def add_metric(self, value, name=None, aggregation="mean"):
        """Log a metric; on a functional model ``value`` may be a symbolic tensor."""
        if isinstance(value, KerasTensor):
            if not name:
                raise ValueError("model.add_metric() needs a `name`, e.g. name='std_of_activation'.")
            self._add_symbolic_extra(value, ("metric", name, aggregation))
        else:
            super().add_metric(value, name, aggregation)

    def _add_symbolic_extra(self, tensor, spec):
        if self._graph is None:
            raise ValueError(
                "Symbolic tensors can only be added to functional models (ember.Model(inputs, outputs)); "
                "in a subclassed model call add_loss()/add_metric() inside call()."
            )
        extras = list(self._graph.extras) + [tensor]
        self._graph = FunctionalGraph(self._graph.inputs, self._graph.outputs, extras)
        self._symbolic_extras.append(spec)
        for layer in self._graph.layers:
            key = layer.name.replace(".", "_")
            if key not in self.model_layers:
                self.model_layers[key] = layer

    @property
    def compiled_loss(self):
        """Keras 2 style helper: ``self.compiled_loss(y, y_pred, sample_weight, regularization_losses)``."""
        return _steps.CompiledLossView(self)

    @property
    def compiled_metrics(self):
        """Keras 2 style helper: ``self.compiled_metrics.update_state(y, y_pred, sample_weight)``."""
        return _steps.CompiledMetricsView(self)

    # ------------------------------------------------------------------ training API
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
        device=None,
    ):
        """Configure the model for training (see ``ember.trainer.compile_model``).

        ``device`` (not a Keras argument): where to train, e.g. ``"cpu"``,
        ``"cuda:1"``; default: CUDA, else MPS, else the CPU, unless the model
        was already moved with ``.to()`` (see ``ember.trainer.devices``).
        """
        from ember.saving.compile_config import capture_compile_arguments

        # Captured before compiling renames metric objects per output; model.save() writes it.
        compile_arguments = capture_compile_arguments(
            loss=loss,
            loss_weights=loss_weights,
            metrics=metrics,
            weighted_metrics=weighted_metrics,
            run_eagerly=run_eagerly,
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
        )
        _trainer.compile_model(
            self,
            optimizer=optimizer,
            loss=loss,
            loss_weights=loss_weights,
            metrics=metrics,
            weighted_metrics=weighted_metrics,
            run_eagerly=run_eagerly,
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
            auto_scale_loss=auto_scale_loss,
            device=device,
        )
        self._compile_arguments = compile_arguments

    def fit(self, x=None, y=None, **kwargs):
        """Train the model; returns a ``History`` (see ``ember.trainer.fit``)."""
        return _trainer.fit(self, x, y, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        """Loss and metrics on data: a scalar, a list in ``metrics_names`` order, or a dict."""
        return _trainer.evaluate(self, x, y, **kwargs)

    def predict(self, x, **kwargs):
        """Model outputs on ``x`` as NumPy arrays, nested like the model's outputs."""
        return _trainer.predict(self, x, **kwargs)

    def fit_generator(self, generator, *args, **kwargs):
        """Deprecated alias of ``fit`` (Keras 2), which accepts generators and Sequences itself."""
        _warn_deprecated("fit_generator", "fit")
        return self.fit(generator, *args, **kwargs)

    def evaluate_generator(self, generator, *args, **kwargs):
        """Deprecated alias of ``evaluate`` (Keras 2)."""
        _warn_deprecated("evaluate_generator", "evaluate")
        return self.evaluate(generator, *args, **kwargs)

    def predict_generator(self, generator, *args, **kwargs):
        """Deprecated alias of ``predict`` (Keras 2)."""
        _warn_deprecated("predict_generator", "predict")
        return self.predict(generator, *args, **kwargs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        return _trainer.train_on_batch(self, x, y, sample_weight, class_weight, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        return _trainer.test_on_batch(self, x, y, sample_weight, return_dict)

    def predict_on_batch(self, x):
        return _trainer.predict_on_batch(self, x)

    def train_step(self, data):
        """One training step on a batch ``(x, y, sample_weight)``; returns logs."""
        return _steps.train_step(self, data)

    def test_step(self, data):
        """One evaluation step on a batch; returns logs."""
        return _steps.test_step(self, data)

    def predict_step(self, data):
        """Model outputs for one batch."""
        return _steps.predict_step(self, data)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Total loss: compiled per-output losses times ``loss_weights``, plus ``self.losses``."""
        return _steps.compute_loss(self, x, y, y_pred, sample_weight, training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics; returns the current results as logs."""
        return _steps.compute_metrics(self, x, y, y_pred, sample_weight)

    def get_metrics_result(self):
        """Current value of every metric, as a dict of Python floats."""
        return _steps.get_metrics_result(self)

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    @property
    def metrics(self):
        return _steps.model_metrics(self)

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False):
        """Print Keras's summary table: layer (type), output shape, params, connected to."""
        from ember.utils.summary import print_summary

        print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        return config

    def _maybe_build(self, args, kwargs):
        if not self.built and self._graph is None and self._module is None:
            from ember.saving.layer_config import input_spec
            from ember.tree import map_structure

            # The first call's shapes, so a saved subclassed model can be built again when loaded.
            self._build_input_spec = map_structure(input_spec, args)
        super()._maybe_build(args, kwargs)

    # ------------------------------------------------------------------ saving
    def export(self, filepath, format="torch", verbose=True, input_signature=None):
        """Write an inference artifact: ``"torch"`` (torch.export, .pt2), ``"torchscript"`` or ``"onnx"``."""
        from ember.models.export import export_model

        return export_model(self, filepath, format=format, verbose=verbose, input_signature=input_signature)

    def save(self, filepath, overwrite=True):
        """Save the architecture, weights, compile arguments and optimizer state to a ``.ember`` file.

        See ``ember.saving.save_model``; reload with ``ember.models.load_model``.
        """
        from ember.saving import save_model

        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Save the weights to a ``.weights.safetensors`` file (see ``ember.saving.save_weights``)."""
        from ember.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        """Load weights saved by ``save_weights`` (ember or Keras ``.weights.h5``) or ``save``.

        Weights are matched by the model's layer structure; mismatching layers
        raise an error naming them and their shapes, or, with
        ``skip_mismatch=True``, are skipped with a warning.
        """
        from ember.saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

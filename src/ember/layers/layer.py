"""``Layer``: the base of every ember layer and model.

Lifecycle (the Keras contract, on a ``torch.nn.Module``):

1. ``__init__`` stores configuration only (units, activation, ...).
2. ``build(input_shape)`` creates the weights with ``add_weight``. It runs once,
   automatically, on the first call, with the shape of the first input
   (``None`` for unknown dimensions when called on symbolic inputs).
3. ``call(inputs, ...)`` computes. Subclasses override ``call`` (not ``forward``).
4. Calling the layer (``layer(x)``) builds it if needed, then calls ``call``.
   Called on ``ember.Input`` tensors it records a functional-graph node instead.

If ``call`` accepts a ``training`` argument, the value given to the outermost
call (``model(x, training=True)``, or ``fit``) is passed down to every nested
layer automatically. ``add_loss`` inside ``call`` records a loss for the
current call; a model gathers them in ``model.losses``.
"""

import inspect
import threading

import numpy as np
import torch

from ember.backend.dtypes import standardize_dtype, to_torch_dtype
from ember.backend.naming import to_snake_case, unique_name
from ember.backend.scope import in_symbolic_scope
from ember.backend.variable import Variable
from ember.graph.keras_tensor import KerasTensor, any_symbolic
from ember.graph.node import Node
from ember.graph.tracing import compute_output_spec
from ember.mixed_precision import policy as _policy_module
from ember.mixed_precision.autocast import layer_precision_scope
from ember.mixed_precision.policy import get as _policy_for
from ember.mixed_precision.policy import serialize as serialize_policy
from ember.tree import flatten

__all__ = ["Layer"]

_call_context = threading.local()


class _CallContext:
    """State shared by the nested layer calls of one outermost call."""

    __slots__ = ("training", "loss_layers", "metric_values")

    def __init__(self, training):
        self.training = training
        self.loss_layers = []
        self.metric_values = []  # (name, value, aggregation, metric object or None)


def _shape_of(value):
    if isinstance(value, KerasTensor):
        return value.shape
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, np.ndarray):
        return value.shape
    if isinstance(value, (list, tuple)):
        return type(value)(_shape_of(v) for v in value)
    if isinstance(value, dict):
        return {k: _shape_of(v) for k, v in value.items()}
    return None


def _signature_info(cls):
    """Which optional arguments ``cls.call`` and ``cls.build`` accept (cached per class)."""
    # An attribute read, not cls.__dict__: Dynamo cannot read a class's __dict__ once a traced
    # step has mutated any dict (the second step of a steps_per_execution group).
    info = getattr(cls, "_ember_signature_info", None)
    if info is None or info["owner"] is not cls:  # missing, or inherited from a base class
        call_params = inspect.signature(cls.call).parameters
        build_params = list(inspect.signature(cls.build).parameters)[1:]
        info = {
            "owner": cls,
            "training": "training" in call_params,
            "call_params": [p for p in call_params if p != "self"],
            "build_params": build_params,
        }
        setattr(cls, "_ember_signature_info", info)
    return info


def _pass_mask_through(inputs, outputs):
    """A layer that supports masking hands its input's mask (``_keras_mask``) on to its output."""
    mask = getattr(inputs, "_keras_mask", None)
    if mask is not None and isinstance(outputs, torch.Tensor) and getattr(outputs, "_keras_mask", None) is None:
        outputs._keras_mask = mask


class Layer(torch.nn.Module):
    """Base class of all layers; subclass it and override ``build`` and ``call``.

    Args:
        name: Unique name; defaults to the snake-cased class name made unique
            (``dense``, ``dense_1``, ...).
        trainable: Whether the layer's weights are updated by training.
        dtype: Dtype of the weights, or a dtype policy name (``"mixed_bfloat16"``:
            float32 weights, bfloat16 computation); default: the global policy
            (see ``ember.mixed_precision``).

    Example:
        >>> import torch
        >>> class Scale(Layer):
        ...     def build(self, input_shape):
        ...         self.scale = self.add_weight(name="scale", shape=(input_shape[-1],),
        ...                                      initializer="ones")
        ...     def call(self, inputs):
        ...         return inputs * self.scale
        >>> Scale()(torch.ones(2, 3)).shape
        torch.Size([2, 3])
    """

    def __init__(self, *, name=None, trainable=True, dtype=None, input_shape=None, input_dim=None, **kwargs):
        super().__init__()
        unknown = set(kwargs) - {"autocast", "input_length", "batch_input_shape", "batch_size"}
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected keyword argument(s) {sorted(unknown)}."
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Layer name must be a string, got {name!r}.")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._dtype_policy = _policy_for(dtype)
        self.dtype = self._dtype_policy.variable_dtype
        self.built = False
        self._inbound_nodes = []
        self._losses = []
        self._callable_losses = []
        self._own_weights = []  # creation order, as Keras reports them
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        batch_input_shape = kwargs.get("batch_input_shape")
        if input_shape is not None:
            batch_input_shape = (kwargs.get("batch_size"),) + tuple(input_shape)
        self._batch_input_shape = tuple(batch_input_shape) if batch_input_shape is not None else None

    # ------------------------------------------------------------------ lifecycle
    # Whether the input's mask (``_keras_mask``, e.g. from Embedding(mask_zero=True)) passes through
    # to the output unchanged, as Keras's `supports_masking`.
    supports_masking = False

    def build(self, input_shape):
        """Create the layer's weights. Called once, with the first input's shape."""
        self.built = True

    def call(self, *args, **kwargs):
        """The layer's computation. Override in subclasses."""
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement `call()`.")

    def compute_output_shape(self, input_shape):
        """Optional: the output shape for ``input_shape``; inferred automatically if absent."""
        raise NotImplementedError

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        info = _signature_info(type(self))
        build_params = info["build_params"]
        if len(build_params) <= 1:
            first = args[0] if args else next(iter(kwargs.values()), None)
            self.build(_shape_of(first))
        else:
            # build(self, a_shape, b_shape) pairs with call(self, a, b).
            bound = dict(zip(info["call_params"], args))
            bound.update(kwargs)
            shapes = {}
            for param in build_params:
                arg_name = param[: -len("_shape")] if param.endswith("_shape") else param
                if arg_name in bound:
                    shapes[param] = _shape_of(bound[arg_name])
            self.build(**shapes)
        self.built = True

    def forward(self, *args, training=None, **kwargs):
        # One tensor argument (the usual eager call) cannot be symbolic: skip walking the arguments.
        plain = len(args) == 1 and not kwargs and isinstance(args[0], torch.Tensor)
        if not plain and any_symbolic(args, kwargs):
            return self._symbolic_call(args, kwargs, training)
        if _policy_module._MIXED_USED:  # programs that never use a mixed policy skip the precision scope
            scope, args = layer_precision_scope(self, args)
            if scope is not None:
                with scope:
                    return type(self).forward(self, *args, training=training, **kwargs)
        outer = getattr(_call_context, "current", None)
        if training is None and outer is not None:
            training = outer.training
        if not self.built:
            self._maybe_build(args, kwargs)
        if _signature_info(type(self))["training"]:
            kwargs["training"] = training
        if outer is None:
            outputs = self._outermost_call(args, kwargs, training)
        else:
            if self._losses:
                self._losses.clear()
            saved = outer.training
            outer.training = training
            try:
                outputs = self.call(*args, **kwargs)
            finally:
                outer.training = saved
        if self.supports_masking and args:
            _pass_mask_through(args[0], outputs)
        return outputs

    def _outermost_call(self, args, kwargs, training):
        context = _CallContext(training)
        state = self.__dict__
        for layer in state.get("_last_loss_layers", ()):
            layer._losses.clear()
        if self._losses:
            self._losses.clear()
        _call_context.current = context
        try:
            outputs = self.call(*args, **kwargs)
        finally:
            _call_context.current = None
        # Plain bookkeeping lists: stored directly, without nn.Module.__setattr__'s checks on every call.
        state["_last_loss_layers"] = context.loss_layers
        state["_last_metric_values"] = context.metric_values
        return outputs

    @property
    def _call_accepts_training(self):
        return _signature_info(type(self))["training"]

    def _symbolic_call(self, args, kwargs, training):
        if not self.built:
            self._maybe_build(args, kwargs)
        call_kwargs = dict(kwargs)
        if training is not None:
            call_kwargs["training"] = training

        def run(*a, **k):
            return self(*a, **k)

        outputs = None
        if type(self).compute_output_shape is not Layer.compute_output_shape and len(args) == 1 and not kwargs:
            try:
                shape = self.compute_output_shape(_shape_of(args[0]))
                outputs = KerasTensor(shape, self.dtype)
            except NotImplementedError:
                outputs = None
        if outputs is None:
            outputs = compute_output_spec(run, args, call_kwargs, owner=f"layer {self.name!r}")
        node_index = len(self._inbound_nodes)
        flat = [o for o in flatten(outputs) if isinstance(o, KerasTensor)]
        for i, tensor in enumerate(flat):
            tensor.history = (self, node_index, i)
            tensor.name = tensor.name or self.name
        self._inbound_nodes.append(Node(self, args, call_kwargs, outputs))
        return outputs

    # ------------------------------------------------------------------ weights
    def add_weight(
        self,
        name=None,
        shape=(),
        initializer=None,
        dtype=None,
        trainable=True,
        regularizer=None,
        constraint=None,
    ):
        """Create a weight, track it on this layer and return it (a ``Variable``).

        Args:
            name: Weight name (``"kernel"``, ``"bias"``, ...).
            shape: Shape in Keras's layout.
            initializer: String identifier, ``ember.initializers`` object or
                callable ``(shape, dtype) -> tensor``; defaults to
                ``"glorot_uniform"`` for floating weights, ``"zeros"`` otherwise.
            dtype: Defaults to the layer's dtype.
            trainable: Whether training updates this weight.
        """
        from ember import initializers

        dtype = standardize_dtype(dtype or self.dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.startswith("float") else "zeros"
        init = initializers.get(initializer)
        shape = tuple(int(d) for d in shape)
        if isinstance(init, torch.Tensor):
            value = init.detach().clone()
        else:
            value = init(shape, dtype=dtype)
        value = torch.as_tensor(value, dtype=to_torch_dtype(dtype))
        if tuple(value.shape) != shape:
            raise ValueError(
                f"Initializer for weight {name!r} of layer {self.name!r} returned shape "
                f"{tuple(value.shape)}, expected {shape}."
            )
        device = self._device_hint()
        if device is not None:
            value = value.to(device)
        weight_trainable = bool(trainable) and dtype.startswith(("float", "bfloat", "complex"))
        variable = Variable(value, requires_grad=weight_trainable and self._trainable, name=name)
        variable._declared_trainable = weight_trainable
        from ember import constraints, regularizers

        variable.regularizer = regularizers.get(regularizer)
        variable.constraint = constraints.get(constraint)
        self._register_weight(name or "weight", variable)
        self._own_weights.append(variable)
        return variable

    def _device_hint(self):
        for p in self.parameters():
            return p.device
        return None

    def _register_weight(self, name, variable):
        key = name if name.isidentifier() else "weight"
        base, i = key, 1
        while key in self._parameters or key in self._buffers or key in self._modules or key in self.__dict__:
            key = f"{base}_{i}"
            i += 1
        self.register_parameter(key, variable)

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Variable) and params is not None and name not in params:
            # `self.kernel = self.add_weight(name="w")`: keep one entry, under the attribute name.
            for key, existing in list(params.items()):
                if existing is value:
                    del params[key]
                    break
        super().__setattr__(name, value)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        for layer in self._flatten_layers():
            layer._trainable = value
            for w in layer._own_weights:
                w.requires_grad_(value and w._declared_trainable)
        for module in self._plain_submodules():
            module.requires_grad_(value)

    def _flatten_layers(self, include_self=True):
        """This layer and every nested ``Layer``, each once, in definition order."""
        seen = set()
        layers = []
        for module in self.modules() if include_self else list(self.modules())[1:]:
            if isinstance(module, Layer) and id(module) not in seen:
                seen.add(id(module))
                layers.append(module)
        return layers

    def _plain_submodules(self):
        """Direct non-``Layer`` torch modules whose parameters count as weights."""
        return [m for m in self.children() if not isinstance(m, Layer)]

    def _sublayers(self):
        return [m for m in self.children() if isinstance(m, Layer)]

    def _collect_weights(self, want_trainable):
        out, seen = [], set()

        def add(w):
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)

        def visit(layer):
            for w in layer._own_weights:
                if want_trainable is None or (w._declared_trainable and layer._trainable) == want_trainable:
                    add(w)
            for child in layer.children():
                if isinstance(child, Layer):
                    visit(child)
                else:
                    for p in child.parameters():
                        if want_trainable is None or (p.requires_grad and layer._trainable) == want_trainable:
                            add(p)
                    for b in child.buffers():
                        if want_trainable in (None, False) and b.is_floating_point():
                            add(b)

        visit(self)
        return out

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        return self._collect_weights(True)

    @property
    def non_trainable_weights(self):
        if not self._trainable:
            return self._collect_weights(None)
        return self._collect_weights(False)

    @property
    def weights(self):
        """Every weight, layer by layer in creation order (each layer's trainable ones first), as Keras."""
        out, seen = [], set()

        def add(w):
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)

        def visit(layer):
            own = layer._own_weights
            trainable = [w for w in own if w._declared_trainable and layer._trainable]
            for w in trainable + [w for w in own if not (w._declared_trainable and layer._trainable)]:
                add(w)
            for child in layer.children():
                if isinstance(child, Layer):
                    visit(child)
                else:
                    for p in child.parameters():
                        add(p)
                    for b in child.buffers():
                        if b.is_floating_point():
                            add(b)

        visit(self)
        return out

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    @property
    def variables(self):
        return self.weights

    def count_params(self):
        return int(sum(w.numel() for w in self.weights))

    def get_weights(self):
        """Weights as NumPy arrays, in Keras's layouts (Dense kernel ``(in, out)``)."""
        return [_to_keras_layout(w) for w in self.weights]

    def set_weights(self, weights):
        """Set weights from NumPy arrays in Keras's layouts, in ``get_weights`` order."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name!r} expects {len(own)} weight arrays in set_weights(), got "
                f"{len(weights)}. Expected shapes: {[tuple(_keras_shape(w)) for w in own]}."
            )
        for variable, value in zip(own, weights):
            value = np.asarray(value)
            expected = tuple(_keras_shape(variable))
            if tuple(value.shape) != expected:
                raise ValueError(
                    f"Weight {getattr(variable, 'name', None)!r} of layer {self.name!r} has shape "
                    f"{expected}, but set_weights() was given shape {tuple(value.shape)}."
                )
            tensor = torch.as_tensor(value, dtype=variable.dtype)
            from_keras = getattr(variable, "_from_keras", None)
            if from_keras is not None:
                tensor = from_keras(tensor)
            with torch.no_grad():
                variable.copy_(tensor)

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss):
        """Record a scalar loss computed during this call (e.g. a regularization term).

        A zero-argument callable is kept instead and evaluated every time the
        losses are gathered (for regularizers of weights, say).
        """
        if callable(loss) and not isinstance(loss, torch.Tensor):
            self._callable_losses.append(loss)
            return
        if in_symbolic_scope():
            return
        if isinstance(loss, KerasTensor):
            raise ValueError(
                "add_loss() on a layer was given a symbolic tensor; call it inside `call()` with "
                "real tensors, or use `model.add_loss()` on a functional model."
            )
        self._losses.append(loss)
        context = getattr(_call_context, "current", None)
        if context is not None:
            context.loss_layers.append(self)

    def add_metric(self, value, name=None, aggregation="mean"):
        """Log ``value`` as a metric named ``name``, averaged over each epoch (``aggregation="mean"``).

        ``value`` may also be the result of calling a ``Metric`` object, which is
        then logged under the metric's own name with its own aggregation.
        """
        if in_symbolic_scope():
            return
        metric = getattr(value, "_ember_metric", None)
        if metric is None:
            if not name:
                raise ValueError("add_metric() needs a `name` for the logged value, e.g. name='std_of_activation'.")
            if aggregation != "mean":
                raise ValueError(
                    f"add_metric() supports aggregation='mean' for tensors, got {aggregation!r}; for other "
                    "aggregations pass the result of a Metric object instead."
                )
        if isinstance(value, KerasTensor):
            raise ValueError(
                "add_metric() on a layer was given a symbolic tensor; call it inside `call()`, or use "
                "`model.add_metric()` on a functional model."
            )
        context = getattr(_call_context, "current", None)
        if context is not None:
            context.metric_values.append((name, value, aggregation, metric))

    @property
    def losses(self):
        """Losses added during the latest call of this layer and of its nested layers."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
            out.extend(fn() for fn in layer._callable_losses)
            for w in layer._own_weights:
                if w.regularizer is not None:
                    out.append(w.regularizer(w))
        return out

    # ------------------------------------------------------------------ config
    def get_config(self):
        """Constructor arguments as a JSON-friendly dict (subclasses extend it)."""
        # A mixed policy is written as Keras writes policies; any other stays a dtype name.
        dtype = serialize_policy(self._dtype_policy) if self._dtype_policy.is_mixed else self.dtype
        config = {"name": self.name, "trainable": self.trainable, "dtype": dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ------------------------------------------------------------------ misc
    @property
    def dtype_policy(self):
        """The layer's ``ember.mixed_precision.DTypePolicy`` (``dtype`` is its variable dtype)."""
        return self._dtype_policy

    @property
    def compute_dtype(self):
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def input(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name!r} has never been called on symbolic inputs.")
        node = self._inbound_nodes[0]
        return node.input_tensors[0] if len(node.input_tensors) == 1 else node.input_tensors

    @property
    def output(self):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name!r} has never been called on symbolic inputs.")
        return self._inbound_nodes[0].outputs

    def extra_repr(self):
        return f"name={self.name!r}"

    def __repr__(self):
        if not self._modules:
            return f"<{type(self).__name__} name={self.name}, built={self.built}>"
        return super().__repr__()


def _to_keras_layout(variable):
    tensor = variable.detach()
    to_keras = getattr(variable, "_to_keras", None)
    if to_keras is not None:
        tensor = to_keras(tensor)
    return tensor.cpu().numpy().copy()


def _keras_shape(variable):
    to_keras = getattr(variable, "_to_keras", None)
    if to_keras is None:
        return variable.shape
    return to_keras(torch.empty(variable.shape, device="meta")).shape

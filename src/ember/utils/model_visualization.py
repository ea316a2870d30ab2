"""``plot_model`` / ``model_to_dot``: draw a model's layer graph with graphviz.

Each layer becomes one graph node labelled ``name (Type)`` (plus, on request,
its input/output shapes, output dtype, activation and trainability); each
tensor flowing from one layer call to the next becomes an edge. The graph is
built with ``pydot`` and rendered by graphviz's ``dot`` program, both optional
dependencies imported only when a plot is asked for.
"""

import html
import os
import shutil

from ember.graph.keras_tensor import KerasTensor

__all__ = ["model_to_dot", "plot_model"]

MSG_NO_PYDOT = (
    "plot_model needs the `pydot` package and graphviz's `dot` program. Install them with "
    "`pip install pydot` (or `pip install ember[plot]`) and `apt-get install graphviz` "
    "(macOS: `brew install graphviz`)."
)
MSG_NO_DOT = (
    "plot_model needs graphviz's `dot` program, which was not found on the PATH. Install graphviz "
    "with `apt-get install graphviz` (macOS: `brew install graphviz`; conda: `conda install graphviz`) "
    "and make sure `dot -V` runs."
)
_RANKDIRS = ("TB", "LR", "BT", "RL")


def _import_pydot():
    try:
        import pydot
    except ImportError as error:
        raise ImportError(MSG_NO_PYDOT) from error
    return pydot


def _check_dot_program():
    if shutil.which("dot") is None:
        raise OSError(MSG_NO_DOT)


def _graph_of(model):
    return getattr(model, "_graph", None)


def _is_sequential(model):
    return type(model).__name__ == "Sequential"


def _format_shapes(tensors):
    shapes = [t.shape for t in tensors if isinstance(t, KerasTensor)]
    if not shapes:
        return "?"
    text = ", ".join(str(s) if len(s) != 1 else f"({s[0]},)" for s in shapes)
    return text if len(shapes) == 1 else f"[{text}]"


def _activation_name(layer):
    fn = getattr(layer, "activation", None)
    if fn is None or not callable(fn):
        return None
    from ember import activations

    try:
        return activations.serialize(fn)
    except ValueError:
        return getattr(fn, "__name__", type(fn).__name__)


def _trainability(layer):
    weights = list(layer.parameters())
    if not weights:
        return None
    trainable = [w.requires_grad for w in weights]
    if all(trainable):
        return "Trainable", "forestgreen"
    if not any(trainable):
        return "Non-trainable", "firebrick"
    return "Partially trainable", "darkorange"


def _label(layer, node, options):
    """An HTML-like graphviz label: a title row, then one cell per requested detail."""
    kind = type(layer).__name__
    title = f"<b>{html.escape(layer.name)}</b> ({kind})" if options["show_layer_names"] else kind
    rows = []
    if options["show_layer_activations"]:
        name = _activation_name(layer)
        if name is not None:
            rows.append([f"Activation: <b>{html.escape(str(name))}</b>"])
    details = []
    if options["show_shapes"] and node is not None:
        if node.input_tensors:
            details.append(f"Input shape: <b>{html.escape(_format_shapes(node.input_tensors))}</b>")
        details.append(f"Output shape: <b>{html.escape(_format_shapes(node.output_tensors))}</b>")
    if options["show_dtype"] and node is not None:
        dtypes = sorted({t.dtype for t in node.output_tensors})
        details.append(f"Output dtype: <b>{html.escape(', '.join(dtypes) or '?')}</b>")
    if details:
        rows.append(details)
    trainability = _trainability(layer) if options["show_trainable"] else None
    if trainability is not None:
        text, color = trainability
        cell = (color, f'<font point-size="14" color="white"><b>{text}</b></font>')
        rows = rows or [[]]
        rows[-1] = rows[-1] + [cell]
    rows = [[("white", f'<font point-size="14">{c}</font>') if isinstance(c, str) else c for c in row] for row in rows]
    width = max([len(row) for row in rows] + [1])
    cells = []
    for row in rows:
        parts = []
        for index, (color, content) in enumerate(row):
            span = width - len(row) + 1 if index == len(row) - 1 else 1
            colspan = f' colspan="{span}"' if span > 1 else ""
            parts.append(f'<td bgcolor="{color}"{colspan}>{content}</td>')
        cells.append("<tr>" + "".join(parts) + "</tr>")
    header = (f'<tr><td colspan="{width}" bgcolor="black"><font point-size="16" color="white">{title}'
              "</font></td></tr>")
    return f'<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">{header}{"".join(cells)}</table>>'


class _DotBuilder:
    """Adds a model's layers (recursing into nested models when expanding) to a pydot graph."""

    def __init__(self, pydot, options):
        self.pydot = pydot
        self.options = options
        self.edges = []

    def _node_id(self, layer):
        return str(id(layer))

    def _expands(self, layer):
        return self.options["expand_nested"] and _graph_of(layer) is not None and hasattr(layer, "layers")

    def source_id(self, tensor):
        """The graph node a tensor comes out of (inside nested models when they are expanded)."""
        layer, _, tensor_index = tensor.history
        if self._expands(layer):
            return self.source_id(_graph_of(layer).flat_outputs[tensor_index])
        return self._node_id(layer)

    def target_ids(self, layer, input_index):
        """The graph nodes that consume input ``input_index`` of a call of ``layer``."""
        if not self._expands(layer):
            return [self._node_id(layer)]
        graph = _graph_of(layer)
        if _is_sequential(layer):
            first = layer.layers[0]
            return self.target_ids(first, 0)
        inner = graph.flat_inputs[min(input_index, len(graph.flat_inputs) - 1)].history[0]
        return [self._node_id(inner)]

    def add_model(self, container, model):
        graph = _graph_of(model)
        if graph is None:
            # An unbuilt Sequential: its layers in order, no shapes.
            previous = None
            for layer in model.layers:
                self._add_layer(container, layer, None)
                if previous is not None:
                    self.edges.append((self._node_id(previous), self._node_id(layer)))
                previous = layer
            return
        skip_inputs = _is_sequential(model)
        for node in graph.nodes:
            layer = node.layer
            if skip_inputs and not node.input_tensors:
                continue
            self._add_layer(container, layer, node)
            for index, tensor in enumerate(node.input_tensors):
                source_layer = tensor.history[0]
                if skip_inputs and not source_layer._inbound_nodes[tensor.history[1]].input_tensors:
                    continue
                for target in self.target_ids(layer, index):
                    edge = (self.source_id(tensor), target)
                    if edge not in self.edges:
                        self.edges.append(edge)

    def _add_layer(self, container, layer, node):
        if self._expands(layer):
            cluster = self.pydot.Cluster(
                style="dashed", graph_name=f"{layer.name}_{id(layer)}", label=f"{layer.name} ({type(layer).__name__})"
            )
            self.add_model(cluster, layer)
            container.add_subgraph(cluster)
            return
        if container.get_node(self._node_id(layer)):
            return
        container.add_node(
            self.pydot.Node(
                self._node_id(layer), label=_label(layer, node, self.options), fontname="Helvetica", border="0",
                margin="0",
            )
        )


def model_to_dot(
    model,
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
):
    """The layer graph of ``model`` as a ``pydot.Dot`` (see ``plot_model`` for the arguments).

    Raises:
        ImportError: if ``pydot`` is not installed.
    """
    pydot = _import_pydot()
    if rankdir not in _RANKDIRS:
        raise ValueError(f"plot_model `rankdir` must be one of {_RANKDIRS}, got {rankdir!r}.")
    if not hasattr(model, "layers"):
        raise TypeError(f"plot_model expects an ember Model or Sequential, got {type(model).__name__}: {model!r}.")
    if _graph_of(model) is None and not _is_sequential(model):
        raise ValueError(
            f"Model {getattr(model, 'name', '')!r} has no layer graph to plot (a subclassed model, or one "
            "never called). plot_model draws functional and Sequential models; build one with ember.Input."
        )
    options = dict(
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        expand_nested=expand_nested,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
    )
    dot = pydot.Dot(graph_type="digraph", rankdir=rankdir, concentrate="true", dpi=str(dpi), splines="ortho")
    dot.set_node_defaults(shape="record")
    builder = _DotBuilder(pydot, options)
    builder.add_model(dot, model)
    for source, target in builder.edges:
        dot.add_edge(pydot.Edge(source, target, penwidth="2"))
    return dot


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
):
    """Draw ``model``'s layer graph to an image file with graphviz.

    Args:
        model: A functional or ``Sequential`` ember model.
        to_file: Output path; its extension picks the format (``png``, ``svg``,
            ``pdf``, ``jpg``, ``dot``, ...; no extension: ``png``).
        show_shapes: Show each layer's input and output shapes.
        show_dtype: Show each layer's output dtype.
        show_layer_names: Show layer names (else only their types).
        rankdir: Graph direction: ``"TB"`` (top to bottom) or ``"LR"``
            (left to right); ``"BT"``/``"RL"`` reverse them.
        expand_nested: Draw nested models as dashed clusters of their layers.
        dpi: Image resolution in dots per inch.
        show_layer_activations: Show the activation of layers that have one.
        show_trainable: Mark layers with weights as trainable or not.

    Returns:
        An ``IPython.display.Image`` of the file when IPython is installed and
        the format is a raster image, else ``None``.

    Raises:
        ImportError: if ``pydot`` is not installed.
        OSError: if graphviz's ``dot`` program is not found.

    Example:
        >>> plot_model(model, "model.png", show_shapes=True)  # doctest: +SKIP
    """
    dot = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        dpi=dpi,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
    )
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower()
    if not extension:
        extension, to_file = "png", to_file + ".png"
    if extension == "dot":
        extension = "raw"
    _check_dot_program()
    dot.write(to_file, format=extension)
    if extension in ("png", "jpg", "jpeg"):
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None


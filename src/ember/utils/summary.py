"""``model.summary()``: Keras's table of layers, output shapes and parameter counts."""

__all__ = ["print_summary"]

_SIMPLE_WIDTHS = (33, 24, 15)
_CONNECTED_WIDTHS = (21, 19, 12, 19)


def _truncate(word, width):
    return word if len(word) <= width else word[: width - 1] + "…"


def _wrap(text, width):
    """Greedy word wrap; words longer than the cell are cut with an ellipsis."""
    lines, current = [], ""
    for word in text.split(" "):
        word = _truncate(word, width)
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    lines.append(current)
    return lines


def _format_size(num_bytes):
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} GB"


def _node_of(model, layer):
    graph = getattr(model, "_graph", None)
    if graph is not None:
        for node in graph.nodes:
            if node.layer is layer:
                return node
    return layer._inbound_nodes[-1] if getattr(layer, "_inbound_nodes", None) else None


def _shape_text(node):
    if node is None:
        return "?"
    from ember.graph.keras_tensor import KerasTensor
    from ember.tree import flatten

    shapes = [t.shape for t in flatten(node.outputs) if isinstance(t, KerasTensor)]
    if not shapes:
        return "?"
    text = ", ".join(str(s) if len(s) != 1 else f"({s[0]},)" for s in shapes)
    return text if len(shapes) == 1 else f"[{text}]"


def _connections(node):
    if node is None or not node.input_tensors:
        return ["-"]
    return [f"{t.history[0].name}[{t.history[1]}][{t.history[2]}]" for t in node.input_tensors]


def _is_sequential_like(model):
    graph = getattr(model, "_graph", None)
    if graph is None or type(model).__name__ == "Sequential":
        return True
    if len(graph.flat_inputs) != 1 or len(graph.flat_outputs) != 1:
        return False
    previous = graph.flat_inputs[0]
    for node in graph.nodes:
        if not node.input_tensors:
            continue
        if len(node.input_tensors) != 1 or node.input_tensors[0] is not previous or len(node.output_tensors) != 1:
            return False
        previous = node.output_tensors[0]
    return True


def _border(widths, left, middle, right, fill):
    return left + middle.join(fill * w for w in widths) + right


def _row(cells, widths, aligns, sep):
    wrapped = []
    for cell, width in zip(cells, widths):
        lines = cell if isinstance(cell, list) else _wrap(cell, width - 2)
        wrapped.append([_truncate(line, width - 2) for line in lines])
    height = max(len(lines) for lines in wrapped)
    out = []
    for i in range(height):
        parts = []
        for lines, width, align in zip(wrapped, widths, aligns):
            text = lines[i] if i < len(lines) else ""
            text = text.rjust(width - 2) if align == ">" else text.ljust(width - 2)
            parts.append(f" {text} ")
        out.append(sep + sep.join(parts) + sep)
    return out


_TRAINABLE_WIDTH = 11


def _type_name(layer):
    # Keras calls a functional model's type "Functional".
    if type(layer).__name__ == "Model" and getattr(layer, "_graph", None) is not None:
        return "Functional"
    return type(layer).__name__


def _layer_rows(model, connected, show_trainable, expand_nested, depth):
    """Table rows for ``model``'s layers; nested models' layers follow, indented, when expanding."""
    for layer in model.layers:
        node = _node_of(model, layer)
        name = getattr(layer, "name", type(layer).__name__)
        built = getattr(layer, "built", True)
        params = sum(p.numel() for p in layer.parameters()) if built else 0
        prefix = "  " * (depth - 1) + "└ " if depth else ""
        cells = [f"{prefix}{name} ({_type_name(layer)})", _shape_text(node), f"{params:,}" if built else "0 (unbuilt)"]
        if connected:
            cells.append(_connections(node))
        if show_trainable:
            has_weights = any(True for _ in layer.parameters())
            cells.append(("Y" if getattr(layer, "trainable", True) else "N") if has_weights else "-")
        yield cells
        if expand_nested and hasattr(layer, "layers") and hasattr(layer, "_graph"):
            yield from _layer_rows(layer, connected, show_trainable, expand_nested, depth + 1)


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False):
    """Print (or pass to ``print_fn``) the summary table of ``model``."""
    print_fn = print_fn or print
    connected = not _is_sequential_like(model)
    widths = list(_CONNECTED_WIDTHS if connected else _SIMPLE_WIDTHS)
    if line_length:
        total = sum(widths) + len(widths) + 1
        widths = [max(6, round(w * line_length / total)) for w in widths]
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    aligns = ["<", "<", ">"] + (["<"] if connected else [])
    if show_trainable:
        widths.append(_TRAINABLE_WIDTH)
        headers.append("Trainable")
        aligns.append("^")
    lines = [f'Model: "{model.name}"']
    lines.append(_border(widths, "┏", "┳", "┓", "━"))
    lines.extend(_row(headers, widths, aligns, "┃"))
    lines.append(_border(widths, "┡", "╇", "┩", "━"))
    rows = list(_layer_rows(model, connected, show_trainable, expand_nested, depth=0))
    for index, cells in enumerate(rows):
        lines.extend(_row(cells, widths, aligns, "│"))
        if index < len(rows) - 1:
            lines.append(_border(widths, "├", "┼", "┤", "─"))
    lines.append(_border(widths, "└", "┴", "┘", "─"))
    trainable = sum(w.numel() for w in model.trainable_weights)
    non_trainable = sum(w.numel() for w in model.non_trainable_weights)
    itemsize = 4
    for w in model.weights:
        itemsize = w.element_size()
        break
    total = trainable + non_trainable
    lines.append(f" Total params: {total:,} ({_format_size(total * itemsize)})")
    lines.append(f" Trainable params: {trainable:,} ({_format_size(trainable * itemsize)})")
    lines.append(f" Non-trainable params: {non_trainable:,} ({_format_size(non_trainable * itemsize)})")
    for line in lines:
        print_fn(line)

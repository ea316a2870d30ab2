"""The config of a functional model's graph, and the graph rebuilt from it.

As in Keras, the config lists the model's layers; each layer carries its
``inbound_nodes``: for every call of the layer inside this model, the call's
arguments with each symbolic tensor written as ``{"class_name":
"__keras_tensor__", "config": {"keras_history": [layer name, node index,
tensor index]}}``. Node indices count only the calls that belong to this
model, so a layer shared with another model saves the same way.

``node_order`` lists the calls in the graph's execution order. Rebuilding
replays them in that order, so the rebuilt model orders its layers (and hence
its weights) exactly as the saved one did.
"""

from ember.graph.keras_tensor import KerasTensor
from ember.layers.input_layer import InputLayer
from ember.saving.serialization import serialize_value
from ember.tree import flatten

__all__ = ["functional_config", "functional_from_config"]


class _MissingTensor(Exception):
    """A call's input has not been rebuilt yet (internal)."""


def functional_config(model, where="config"):
    """The JSON-compatible config of a functional model (``model._graph`` is set)."""
    from ember.saving.layer_config import serialize_layer  # it uses this module

    graph = model._graph
    in_graph = {id(node) for node in graph.nodes}
    node_index = {}  # id(node) -> index among the layer's calls in this model
    for layer in graph.layers:
        kept = [node for node in layer._inbound_nodes if id(node) in in_graph or not node.input_tensors]
        for index, node in enumerate(kept):
            node_index[id(node)] = index

    def reference(tensor):
        layer, index, tensor_index = tensor.history
        node = layer._inbound_nodes[index]
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": list(tensor.shape),
                "dtype": tensor.dtype,
                "keras_history": [layer.name, node_index[id(node)], tensor_index],
            },
        }

    def encode(value, at):
        if isinstance(value, KerasTensor):
            return reference(value)
        if isinstance(value, list):
            return [encode(item, at) for item in value]
        if isinstance(value, tuple):
            return {"class_name": "__tuple__", "config": {"value": [encode(item, at) for item in value]}}
        if isinstance(value, dict):
            return {key: encode(item, f"{at}.{key}") for key, item in value.items()}
        return serialize_value(value, at)

    layers = []
    for layer in graph.layers:
        entry = serialize_layer(layer, where)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {
                "args": encode(node.call_args, f"{where} > call of {layer.name!r}"),
                "kwargs": encode(node.call_kwargs, f"{where} > call of {layer.name!r}"),
            }
            for node in layer._inbound_nodes
            if id(node) in in_graph and node.input_tensors
        ]
        layers.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "node_order": [[node.layer.name, node_index[id(node)]] for node in graph.nodes if node.input_tensors],
        "input_layers": encode(graph.inputs, where),
        "output_layers": encode(graph.outputs, where),
        "symbolic_extras": [
            {"kind": kind, "name": name, "aggregation": aggregation, "tensor": reference(tensor)}
            for (kind, name, aggregation), tensor in zip(model._symbolic_extras, graph.extras)
        ],
    }


def functional_from_config(cls, config, loader, where="config"):
    """Rebuild a functional model of class ``cls`` from ``functional_config``'s output."""
    created, nodes = {}, {}
    for entry in config["layers"]:
        name = entry.get("name")
        if name in created:
            raise ValueError(f"The graph at {where} lists layer {name!r} twice.")
        layer = loader.value(entry, f"{where} > layer {name!r}")
        if layer.name != name:
            raise ValueError(f"The graph at {where} names a layer {name!r}, but its config names it {layer.name!r}.")
        created[name] = layer
        for index, node in enumerate(entry.get("inbound_nodes", [])):
            nodes[(name, index)] = node

    tensors = {}
    for name, layer in created.items():
        if isinstance(layer, InputLayer):
            tensors[(name, 0, 0)] = layer.output_tensor

    def lookup(history, at):
        key = tuple(history)
        if key not in tensors:
            raise _MissingTensor(key)
        return tensors[key]

    order = config.get("node_order") or [[name, index] for name, index in nodes]
    for name, index in order:
        node = nodes.get((name, index))
        if node is None:
            raise ValueError(f"The graph at {where} calls layer {name!r} (call {index}), which it does not define.")
        at = f"{where} > call {index} of {name!r}"
        try:
            args = loader.value(node.get("args", []), at, lookup)
            kwargs = loader.value(node.get("kwargs", {}), at, lookup)
        except _MissingTensor as missing:
            raise ValueError(
                f"The graph at {at} uses the output {list(missing.args[0])} (layer, call, output), which "
                "no earlier call produces. The file's config is inconsistent."
            ) from None
        outputs = created[name](*args, **kwargs)
        for tensor_index, tensor in enumerate(t for t in flatten(outputs) if isinstance(t, KerasTensor)):
            tensors[(name, index, tensor_index)] = tensor

    def resolve(structure, at):
        try:
            return loader.value(structure, at, lookup)
        except _MissingTensor as missing:
            raise ValueError(f"The model's {at} refer to {list(missing.args[0])}, which no call produces.") from None

    inputs = resolve(config["input_layers"], "inputs")
    outputs = resolve(config["output_layers"], "outputs")
    try:
        model = cls(inputs=inputs, outputs=outputs, name=config.get("name"), trainable=config.get("trainable", True))
    except TypeError as error:
        raise TypeError(
            f"Could not recreate the functional model {cls.__name__} at {where}: {error}. A subclass of a "
            "functional Model must accept `inputs`, `outputs`, `name` and `trainable`."
        ) from error
    for extra in config.get("symbolic_extras", []):
        tensor = resolve(extra["tensor"], "add_loss/add_metric values")
        if extra["kind"] == "loss":
            model.add_loss(tensor)
        else:
            model.add_metric(tensor, name=extra["name"], aggregation=extra["aggregation"])
    return model

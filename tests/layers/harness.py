"""``run_layer_test``: the checks every layer must pass, in one call.

For a layer class and its constructor arguments it checks, on random inputs:
the output shape after the first (building) call, the number of trainable and
non-trainable weights, that ``get_config`` → ``from_config`` gives an equal
config, that a layer rebuilt from the config and given the same weights via
``get_weights``/``set_weights`` computes the same output, that calling the
layer on ``ember.layers.Input`` tensors (unknown batch size) infers the output
shape, and that one backward pass reaches every trainable weight and every
floating input.
"""

import numpy as np
import torch

import ember

__all__ = ["run_layer_test"]


def _is_multi_input(input_shape):
    return isinstance(input_shape, list) and all(isinstance(s, (tuple, list)) for s in input_shape)


def _random_input(shape, dtype):
    torch_dtype = getattr(torch, dtype)
    if torch_dtype.is_floating_point:
        return torch.randn(shape, dtype=torch_dtype, requires_grad=True)
    return torch.randint(0, 5, shape, dtype=torch_dtype)


def _shape_of(output):
    if isinstance(output, (list, tuple)):
        return [_shape_of(o) for o in output]
    return tuple(output.shape)


def _with_unknown_batch(shape):
    return (None,) + tuple(shape[1:])


def _flat_outputs(output):
    return list(output) if isinstance(output, (list, tuple)) else [output]


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_shape,
    expected_output_shape,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=0,
    input_dtype="float32",
):
    """Run the standard layer checks; returns the built layer for further checks.

    Args:
        layer_cls: The layer class.
        init_kwargs: Constructor arguments.
        input_shape: Full input shape with a batch size, or a list of shapes
            for layers taking a list of tensors (merge layers).
        expected_output_shape: Output shape for ``input_shape`` (a list of
            shapes for several outputs).
        expected_num_trainable_weights: If not ``None``, the expected number of
            trainable weights.
        expected_num_non_trainable_weights: Expected number of non-trainable
            weights.
        input_dtype: Dtype name of the random inputs.
    """
    multi = _is_multi_input(input_shape)
    shapes = [tuple(s) for s in input_shape] if multi else [tuple(input_shape)]
    inputs = [_random_input(s, input_dtype) for s in shapes]
    layer_input = inputs if multi else inputs[0]

    # Build on the first call; output shape.
    layer = layer_cls(**init_kwargs)
    output = layer(layer_input)
    assert layer.built, f"{layer_cls.__name__} is not built after its first call"
    assert _shape_of(output) == _normalize_expected(expected_output_shape), (
        f"{layer_cls.__name__} output shape {_shape_of(output)} != expected {expected_output_shape}"
    )

    # Weight counts.
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights, (
            f"{len(layer.trainable_weights)} trainable weights, expected {expected_num_trainable_weights}"
        )
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights, (
        f"{len(layer.non_trainable_weights)} non-trainable weights, expected {expected_num_non_trainable_weights}"
    )

    # Config round trip, and the rebuilt layer computes the same with the same weights.
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, f"config round trip changed the config:\n{config}\n{clone.get_config()}"
    clone(layer_input)
    clone.set_weights(layer.get_weights())
    for a, b in zip(layer.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    with torch.no_grad():
        for a, b in zip(_flat_outputs(layer(layer_input)), _flat_outputs(clone(layer_input))):
            torch.testing.assert_close(a, b)

    # Symbolic call with an unknown batch size, on a fresh (unbuilt) layer and on the built one.
    expected_symbolic = _with_unknown_batch_all(expected_output_shape)
    for target in (layer_cls.from_config(config), layer):
        symbolic = [ember.layers.Input(batch_shape=_with_unknown_batch(s), dtype=input_dtype) for s in shapes]
        symbolic_output = target(symbolic if multi else symbolic[0])
        assert _shape_of(symbolic_output) == expected_symbolic, (
            f"symbolic output shape {_shape_of(symbolic_output)} != expected {expected_symbolic}"
        )

    # One backward pass reaches every trainable weight and floating input.
    output = layer(layer_input)
    loss = sum((o * torch.randn_like(o)).sum() for o in _flat_outputs(output) if o.is_floating_point())
    if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
        assert not layer.trainable_weights, "the output does not depend on the trainable weights"
        return layer
    loss.backward()
    for weight in layer.trainable_weights:
        assert weight.grad is not None, f"no gradient reached weight {weight.name!r}"
        assert torch.isfinite(weight.grad).all(), f"non-finite gradient for weight {weight.name!r}"
        assert weight.grad.abs().sum() > 0, f"zero gradient for weight {weight.name!r}"
    for i, x in enumerate(inputs):
        if x.is_floating_point():
            assert x.grad is not None and x.grad.abs().sum() > 0, f"no gradient reached input {i}"
    return layer


def _normalize_expected(expected):
    if _is_multi_input(expected):
        return [tuple(s) for s in expected]
    return tuple(expected)


def _with_unknown_batch_all(expected):
    if _is_multi_input(expected):
        return [_with_unknown_batch(s) for s in expected]
    return _with_unknown_batch(expected)

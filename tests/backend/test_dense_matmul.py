"""``dense_matmul``: oneDNN where it is measured faster, PyTorch's BLAS otherwise, the same numbers either way.

The oracle is ``torch.addmm`` / plain autograd on the same tensors. Tests that
need the oneDNN path force the per-shape choice (its timing depends on the
machine); one test checks the measurement itself.
"""

import pytest
import torch
from torch._dynamo.backends.registry import lookup_backend

import ember
from ember import layers
from ember.backend import dense_matmul as dm

pytestmark = pytest.mark.skipif(not dm._AVAILABLE, reason="this PyTorch build has no oneDNN")


@pytest.fixture
def onednn_calls(monkeypatch):
    """Force oneDNN for every shape and count the eager oneDNN calls."""
    calls = []
    original = dm._onednn

    def counting(inputs, weight, bias):
        calls.append(tuple(inputs.shape))
        return original(inputs, weight, bias)

    monkeypatch.setattr(dm, "_onednn", counting)
    monkeypatch.setattr(dm, "_MIN_MACS", 0)
    monkeypatch.setattr(dm, "_choices", _AlwaysTrue())
    return calls


ALL_ONEDNN = (True, True, True)  # forward, input gradient, kernel gradient


class _AlwaysTrue(dict):
    def get(self, key, default=None):
        return True


def _tensors(rows=16, features=12, units=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(rows, features, generator=generator)
    kernel = torch.randn(features, units, generator=generator)
    bias = torch.randn(units, generator=generator)
    return inputs, kernel, bias


def test_small_products_use_blas_without_measuring(monkeypatch):
    measured = []
    monkeypatch.setattr(dm, "_best_time", lambda function: measured.append(function) or 1.0)
    assert dm.onednn_choice(64, 64, 10) is False
    assert measured == []


def test_the_choice_is_measured_once_per_shape_and_thread_count(monkeypatch):
    timings = iter([1.0, 2.0] + [2.0, 1.0])  # oneDNN, then BLAS, per measurement
    measured = []

    def fake_time(function):
        measured.append(function)
        return next(timings)

    monkeypatch.setattr(dm, "_best_time", fake_time)
    monkeypatch.setattr(dm, "_choices", {})
    assert dm.onednn_choice(64, 784, 64) is True  # oneDNN took 1.0 against BLAS's 2.0
    assert dm.onednn_choice(64, 784, 64) is True
    assert len(measured) == 2  # measured once, then cached
    assert dm.onednn_choice(64, 784, 64, with_bias=False) is False  # another shape: measured again
    assert len(measured) == 4


def test_no_grad_product_runs_on_onednn_and_equals_addmm(onednn_calls):
    inputs, kernel, bias = _tensors()
    with torch.no_grad():
        result = dm.dense_matmul(inputs, kernel, bias)
        no_bias = dm.dense_matmul(inputs, kernel)
    assert onednn_calls == [(16, 12), (16, 12)]
    torch.testing.assert_close(result, torch.addmm(bias, inputs, kernel), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(no_bias, inputs @ kernel, rtol=1e-5, atol=1e-5)


def test_eager_training_keeps_pytorch_matmul_and_its_gradients(onednn_calls):
    inputs, kernel, bias = _tensors()
    kernel.requires_grad_(True)
    dm.dense_matmul(inputs, kernel, bias).square().sum().backward()
    assert onednn_calls == []
    reference = kernel.detach().clone().requires_grad_(True)
    torch.addmm(bias, inputs, reference).square().sum().backward()
    torch.testing.assert_close(kernel.grad, reference.grad)


@pytest.mark.parametrize("case", ["float64", "rank3", "autocast", "deterministic"])
def test_other_dtypes_ranks_autocast_and_determinism_keep_pytorch_matmul(onednn_calls, case):
    inputs, kernel, bias = _tensors()
    with torch.no_grad():
        if case == "float64":
            result = dm.dense_matmul(inputs.double(), kernel.double(), bias.double())
            expected = torch.addmm(bias.double(), inputs.double(), kernel.double())
        elif case == "rank3":
            result = dm.dense_matmul(inputs.reshape(4, 4, 12), kernel, bias)
            expected = (inputs @ kernel + bias).reshape(4, 4, 5)
        elif case == "autocast":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                result = dm.dense_matmul(inputs, kernel, bias)
            expected = torch.addmm(bias.bfloat16(), inputs.bfloat16(), kernel.bfloat16())
        else:
            previous = torch.are_deterministic_algorithms_enabled()
            torch.use_deterministic_algorithms(True)
            try:
                result = dm.dense_matmul(inputs, kernel, bias)
            finally:
                torch.use_deterministic_algorithms(previous)
            expected = torch.addmm(bias, inputs, kernel)
    assert onednn_calls == []
    torch.testing.assert_close(result, expected)


@pytest.mark.parametrize("onednn", [ALL_ONEDNN, (False, True, False), (True, False, True)])
def test_onednn_autograd_function_gradients_match_autograd_including_double_backward(onednn):
    inputs, kernel, bias = _tensors()
    leaves = [t.clone().requires_grad_(True) for t in (inputs, kernel, bias)]
    reference = [t.clone().requires_grad_(True) for t in (inputs, kernel, bias)]
    out = dm._OneDNNDense.apply(*leaves, onednn)
    expected = torch.addmm(reference[2], reference[0], reference[1])
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    upstream = torch.randn_like(out)
    grads = torch.autograd.grad(out, leaves, upstream)
    expected_grads = torch.autograd.grad(expected, reference, upstream)
    for grad, expected_grad in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected_grad, rtol=1e-5, atol=1e-5)
    # A gradient penalty differentiates the backward itself (create_graph=True).
    penalty = torch.autograd.grad(dm._OneDNNDense.apply(*leaves, onednn).square().sum(), leaves[0], create_graph=True)[0]
    expected_penalty = torch.autograd.grad(
        torch.addmm(reference[2], reference[0], reference[1]).square().sum(), reference[0], create_graph=True
    )[0]
    second = torch.autograd.grad(penalty.square().sum(), leaves[1])[0]
    expected_second = torch.autograd.grad(expected_penalty.square().sum(), reference[1])[0]
    torch.testing.assert_close(second, expected_second, rtol=1e-4, atol=1e-4)


class _CountingBackend:
    def __init__(self):
        self.graphs = 0
        self.targets = []

    def __call__(self, graph_module, example_inputs):
        self.graphs += 1
        for module in graph_module.modules():  # the autograd function's forward/backward are subgraphs
            if isinstance(module, torch.fx.GraphModule):
                self.targets += [str(node.target) for node in module.graph.nodes]
        return lookup_backend("aot_eager")(graph_module, example_inputs)


def test_compiled_forward_and_backward_use_the_onednn_operator_for_every_batch_size(onednn_calls):
    _, kernel, bias = _tensors(features=12, units=5)
    kernel.requires_grad_(True)
    bias.requires_grad_(True)

    def step(inputs):
        out = dm.dense_matmul(inputs, kernel, bias)
        return torch.autograd.grad(out.square().sum(), [inputs, kernel, bias])

    backend = _CountingBackend()
    compiled = torch.compile(step, backend=backend, fullgraph=True)
    for rows in (16, 16, 9):
        inputs = torch.randn(rows, 12, requires_grad=True)
        torch._dynamo.maybe_mark_dynamic(inputs, 0)
        with torch._dynamo.config.patch(trace_autograd_ops=True):
            grads = compiled(inputs)
        reference = inputs.detach().clone().requires_grad_(True)
        ref_kernel, ref_bias = kernel.detach().clone().requires_grad_(True), bias.detach().clone().requires_grad_(True)
        expected = torch.autograd.grad(
            torch.addmm(ref_bias, reference, ref_kernel).square().sum(), [reference, ref_kernel, ref_bias]
        )
        for grad, expected_grad in zip(grads, expected):
            torch.testing.assert_close(grad, expected_grad, rtol=1e-5, atol=1e-5)
    assert backend.graphs == 1  # one graph for every batch size
    # The forward product, the input gradient's and the kernel gradient's.
    assert sum("ember.onednn_linear" in target for target in backend.targets) >= 3


def test_jit_compiled_fit_with_inductor_matches_eager_on_the_onednn_path(onednn_calls):
    rng = torch.Generator().manual_seed(0)
    x = torch.randn(70, 40, generator=rng).numpy()
    y = torch.randint(0, 4, (70,), generator=rng).numpy()

    def model(jit):
        torch.manual_seed(0)
        inputs = ember.Input(shape=(40,))
        hidden = layers.Dense(32, activation="relu")(inputs)
        net = ember.Model(inputs, layers.Dense(4, activation="softmax")(hidden))
        net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit)
        return net

    eager, compiled = model(False), model(True)
    history_eager = eager.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, validation_data=(x, y))
    history_compiled = compiled.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, validation_data=(x, y))
    assert compiled._step_compiler.failed is None
    for key, values in history_eager.history.items():
        torch.testing.assert_close(torch.tensor(history_compiled.history[key]), torch.tensor(values),
                                   rtol=1e-4, atol=1e-6, msg=key)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        torch.testing.assert_close(torch.from_numpy(b), torch.from_numpy(a), rtol=1e-4, atol=1e-5)
    # Eager validation (no gradient) took oneDNN too.
    assert onednn_calls


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")  # the input checks trace as constants
def test_exported_and_traced_programs_hold_portable_operators(onednn_calls, tmp_path):
    torch.manual_seed(0)
    inputs = ember.Input(shape=(12,))
    model = ember.Model(inputs, layers.Dense(5)(layers.Dense(8, activation="relu")(inputs)))
    x = torch.randn(4, 12)
    with torch.no_grad():
        expected = model(x)
    assert onednn_calls  # eager inference does use oneDNN here
    path = tmp_path / "model.pt2"
    model.export(str(path), format="torch", verbose=False)
    program = torch.export.load(str(path))
    targets = [str(node.target) for node in program.graph.nodes if node.op == "call_function"]
    assert not [t for t in targets if "mkldnn" in t or "ember" in t], targets
    torch.testing.assert_close(program.module()(x), expected, rtol=1e-5, atol=1e-5)
    model.export(str(tmp_path / "model.ts"), format="torchscript", verbose=False)
    scripted = torch.jit.load(str(tmp_path / "model.ts"))
    assert "mkldnn" not in str(scripted.inlined_graph)
    torch.testing.assert_close(scripted(x), expected, rtol=1e-5, atol=1e-5)


def test_measuring_a_shape_leaves_the_global_random_stream_alone(monkeypatch):
    monkeypatch.setattr(dm, "_choices", {})
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    dm.onednn_choice(64, 784, 64)
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)

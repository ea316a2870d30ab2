"""``dense_matmul``: ``inputs @ kernel + bias`` on the faster of two CPU matmul libraries.

PyTorch's CPU matmuls (``torch.addmm``, ``F.linear``) call the BLAS it was built
with, Intel MKL. On CPUs that MKL does not recognise as Intel's (AMD EPYC and
Ryzen, a large share of cloud machines) MKL keeps to its AVX2 kernels, and the
float32 matmuls of a dense layer run at about half the speed that oneDNN
(PyTorch's other CPU kernel library, which dispatches on the instruction set
alone) reaches on the same core: on this project's AMD EPYC machine, one thread,
a (64, 784) x (784, 64) product takes 60 µs in MKL and 35 µs in oneDNN; small
products such as (64, 64) x (64, 64) are faster in MKL (6 µs vs 13 µs), where
oneDNN's fixed cost per call dominates.

So ember measures, once per matmul shape and thread count, which library is
faster on the machine it runs on (a few milliseconds, the first time a shape is
seen) and uses oneDNN only where it wins. It does so where the call cannot cost
more than it saves:

* under ``torch.compile`` (``jit_compile=True``), through an operator of its
  own (``ember::onednn_linear``, which inductor calls as it is) inside an
  autograd function: the forward product, the input gradient ``grad @ kernel.T``
  and the kernel gradient ``inputs.T @ grad`` are each measured and placed on
  their own (the kernel gradient as a product of a transposed copy of the
  inputs, the layout oneDNN is fast with);
* in eager code only when no gradient is recorded (``predict``, ``evaluate``,
  ``torch.no_grad``): an eager autograd function costs more Python time per call
  than oneDNN saves on a dense layer of the guide's size.

Everything else (training steps run eagerly, CUDA and other devices, float16 and
bfloat16, autocast, ``torch.func`` transforms, tensor subclasses such as
sharded DTensor weights, ``torch.export`` / ``torch.jit.trace`` (an exported
program must hold portable operators), inputs of rank other than 2, a PyTorch
built without oneDNN, ``torch.use_deterministic_algorithms(True)``: the choice
is a timing, which can differ from one run to the next) takes PyTorch's own
``addmm`` / ``F.linear``.
Both libraries compute the same float32 products up to rounding order.
"""

import time

import torch
import torch.nn.functional as F

from ember.backend.variable import Variable

__all__ = ["dense_matmul", "onednn_choice"]

_TIMING_ROUNDS = 5
_TIMING_CALLS = 8
# Below this many multiply-adds oneDNN's per-call cost loses (64 x 64 x 64: 13 µs against MKL's 6 µs,
# 7 x 784 x 64: 15 µs against 13 µs): no measurement.
_MIN_MACS = 1 << 19
# The row count a choice is measured with under torch.compile, where the batch dimension is
# usually symbolic (one graph for every batch size): a typical training batch.
_COMPILED_ROWS = 64

_choices = {}  # (rows, in, out, with bias, threads) -> True when oneDNN is faster

_PLAIN_WEIGHTS = (torch.Tensor, torch.nn.Parameter, Variable)

_AVAILABLE = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def _onednn(inputs, weight, bias):
    """``inputs @ weight.T + bias`` in oneDNN; ``weight`` is ``(out, in)`` (any strides)."""
    return torch.ops.mkldnn._linear_pointwise(inputs, weight, bias, "none", [], "")


if _AVAILABLE:
    # An operator of its own, so that torch.compile calls oneDNN as it is (its lowering of
    # mkldnn._linear_pointwise is written for inference with constant weights). Defined with the
    # low-level Library API: the call costs under a microsecond more than oneDNN itself, where a
    # torch.library.custom_op adds several Python layers (~10 µs) per call.
    _LIBRARY = torch.library.Library("ember", "DEF")
    _LIBRARY.define("onednn_linear(Tensor inputs, Tensor weight, Tensor? bias) -> Tensor")
    _LIBRARY.impl("onednn_linear", _onednn, "CPU")

    @torch.library.register_fake("ember::onednn_linear", lib=_LIBRARY)
    def _(inputs, weight, bias):
        return inputs.new_empty((inputs.shape[0], weight.shape[0]))


def _blas(inputs, kernel, bias):
    """PyTorch's own product (MKL on CPU) for a Keras-layout ``(in, out)`` kernel."""
    if inputs.ndim == 2 and bias is not None:
        # One addmm: F.linear would transpose the (in, out) kernel twice (two views, plus a
        # transpose node in the backward graph) to reach the same kernel.
        return torch.addmm(bias, inputs, kernel)
    # F.linear wants (out, in); the transposed view of the (in, out) kernel costs nothing.
    return F.linear(inputs, kernel.T, bias)


def _best_time(function):
    best = float("inf")
    for _ in range(_TIMING_ROUNDS):
        start = time.perf_counter()
        for _ in range(_TIMING_CALLS):
            function()
        best = min(best, time.perf_counter() - start)
    return best


@torch._dynamo.assume_constant_result
def onednn_choice(rows, in_features, out_features, with_bias=True):
    """Whether oneDNN multiplies ``(rows, in) x (in, out)`` faster than PyTorch's BLAS here.

    Measured once per shape and intra-op thread count, then cached; under
    ``torch.compile`` the answer is a constant of the traced graph.
    """
    if not _AVAILABLE or rows * in_features * out_features < _MIN_MACS:
        return False
    key = (rows, in_features, out_features, with_bias, torch.get_num_threads())
    choice = _choices.get(key)
    if choice is None:
        with torch.no_grad():
            # Constant operands: drawing random ones would advance the global generator, and a resumed
            # or seeded run must not depend on when a shape was first measured.
            inputs = torch.full((rows, in_features), 0.5)
            kernel = torch.full((in_features, out_features), 0.25)
            bias = torch.full((out_features,), 0.125) if with_bias else None
            blas = lambda: _blas(inputs, kernel, bias)  # noqa: E731
            onednn = lambda: _onednn(inputs, kernel.T, bias)  # noqa: E731
            blas(), onednn()  # first calls create oneDNN's primitive and warm the caches
            choice = _choices[key] = _best_time(onednn) < 0.9 * _best_time(blas)
    return choice


class _OneDNNDense(torch.autograd.Function):
    """``inputs @ kernel + bias`` whose three products each run where they were measured faster.

    ``onednn`` holds three booleans: the forward product, the input gradient's
    ``grad @ kernel.T`` and the kernel gradient's ``inputs.T @ grad``. Traced by
    ``torch.compile``; the oneDNN products are calls of ``ember::onednn_linear``.
    """

    @staticmethod
    def forward(inputs, kernel, bias, onednn):
        if onednn[0]:
            return torch.ops.ember.onednn_linear(inputs, kernel.T, bias)
        return _blas(inputs, kernel, bias)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, kernel, bias, onednn = inputs
        ctx.save_for_backward(x, kernel)
        ctx.with_bias = bias is not None
        ctx.onednn = onednn

    @staticmethod
    def backward(ctx, grad):
        x, kernel = ctx.saved_tensors
        # create_graph=True (a gradient penalty) needs a differentiable backward: PyTorch's products.
        plain = torch.is_grad_enabled()
        grad_inputs = grad_kernel = None
        if ctx.needs_input_grad[0]:
            if ctx.onednn[1] and not plain:
                grad_inputs = torch.ops.ember.onednn_linear(grad, kernel, None)
            else:
                grad_inputs = grad @ kernel.T
        if ctx.needs_input_grad[1]:
            if ctx.onednn[2] and not plain:
                # oneDNN is fast with the long (in) axis as rows of a contiguous operand; the transposed
                # copy of the inputs is a small generated kernel.
                grad_kernel = torch.ops.ember.onednn_linear(x.T.contiguous(), grad.T, None)
            else:
                grad_kernel = x.T @ grad
        grad_bias = grad.sum(0) if ctx.with_bias and ctx.needs_input_grad[2] else None
        return grad_inputs, grad_kernel, grad_bias, None


def _float32_cpu(inputs, kernel):
    """Plain float32 CPU tensors (not DTensors or other subclasses), outside autocast and export."""
    return (
        type(inputs) is torch.Tensor
        and type(kernel) in _PLAIN_WEIGHTS
        and inputs.device.type == "cpu"
        and inputs.dtype == torch.float32
        and kernel.dtype == torch.float32
        and not torch.is_autocast_enabled("cpu")
        # The choice is a timing, which may differ between runs; so do the libraries' roundings.
        and not torch.are_deterministic_algorithms_enabled()
        # An exported or traced program must hold portable operators, not ember's or oneDNN's.
        and not torch.compiler.is_exporting()
        and not torch.jit.is_tracing()
    )


def dense_matmul(inputs, kernel, bias=None):
    """``inputs @ kernel + bias`` for a Keras-layout ``(in, out)`` kernel.

    Args:
        inputs: ``(..., in)`` tensor.
        kernel: ``(in, out)`` tensor.
        bias: ``(out,)`` tensor or None.

    Returns:
        ``(..., out)`` tensor.

    Example:
        >>> dense_matmul(torch.ones(2, 3), torch.ones(3, 4), torch.zeros(4)).shape
        torch.Size([2, 4])
    """
    if _AVAILABLE and inputs.ndim == 2:
        if torch.compiler.is_compiling():
            if _float32_cpu(inputs, kernel):
                units_in, units_out = kernel.shape
                onednn = (
                    onednn_choice(_COMPILED_ROWS, units_in, units_out, bias is not None),  # forward
                    onednn_choice(_COMPILED_ROWS, units_out, units_in, False),  # input gradient
                    onednn_choice(units_in, _COMPILED_ROWS, units_out, False),  # kernel gradient
                )
                if any(onednn):
                    return _OneDNNDense.apply(inputs, kernel, bias, onednn)
        elif not torch.is_grad_enabled():
            rows, (units_in, units_out) = inputs.shape[0], kernel.shape
            if (
                rows * units_in * units_out >= _MIN_MACS  # first: small products are the common case
                and _float32_cpu(inputs, kernel)
                and not torch._C._are_functorch_transforms_active()
                and onednn_choice(rows, units_in, units_out, bias is not None)
            ):
                return _onednn(inputs, kernel.T, bias)
    return _blas(inputs, kernel, bias)

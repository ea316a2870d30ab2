"""Which device a model trains on.

Without ``compile(device=...)``, a model whose weights are all still on the
CPU when ``fit``/``evaluate``/``predict`` first runs is moved, once, to the
default accelerator: CUDA when available, else Apple's MPS, else it stays on the
CPU. A model the user already moved with ``model.to(...)`` stays where it is,
and a model moved back to the CPU after that first placement is left there.
With ``compile(device=...)`` the model is moved to (and kept on) that device.
Batches follow the model: the data iterator copies each batch to its device.
"""

import torch

__all__ = ["default_device", "place_model", "resolve_device"]

MSG_BAD_DEVICE = (
    "`device` must be None, a device string such as 'cpu', 'cuda', 'cuda:1' or 'mps', or a torch.device; "
    "got {value!r}."
)


def default_device():
    """The accelerator ember uses by default: CUDA, else MPS when present, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device):
    """Check ``compile(device=...)``: ``None`` or an available ``torch.device``.

    Args:
        device: None, a string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) or a ``torch.device``.

    Returns:
        ``None`` or a ``torch.device``.

    Raises:
        ValueError: the string is not a device, or the device is not available here.
    """
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise ValueError(MSG_BAD_DEVICE.format(value=device))
    try:
        device = torch.device(device)
    except RuntimeError:
        raise ValueError(MSG_BAD_DEVICE.format(value=device)) from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(
                f"device={str(device)!r} was requested but CUDA is not available on this machine "
                "(torch.cuda.is_available() is False). Use device='cpu', or leave device=None to pick "
                "the best available device."
            )
        if device.index is not None and device.index >= count:
            raise ValueError(
                f"device={str(device)!r} was requested but this machine has {count} CUDA device(s) "
                f"(indices 0 to {count - 1})."
            )
        return device
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                "device='mps' was requested but MPS is not available on this machine "
                "(torch.backends.mps.is_available() is False). Use device='cpu', or leave device=None."
            )
        return device
    raise ValueError(
        f"device={str(device)!r} is not supported: ember trains on 'cpu', 'cuda' ('cuda:N') or 'mps'."
    )


def _current_device(model):
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return None


def place_model(model):
    """Move ``model`` to its training device (see the module docstring); returns that device."""
    requested = getattr(model, "_requested_device", None)
    current = _current_device(model)
    if requested is not None:
        target = requested
    elif current is not None and current.type != "cpu":
        target = current  # the user moved it
    elif getattr(model, "_auto_placed", False):
        target = current if current is not None else torch.device("cpu")
    else:
        target = default_device()
        model._auto_placed = True
    if current is not None and not _same_device(current, target):
        model.to(target)
    if target.type == "cuda" and target.index is None:
        target = torch.device("cuda", torch.cuda.current_device())
    return target


def _same_device(current, target):
    if current.type != target.type:
        return False
    return target.index is None or current.index == target.index

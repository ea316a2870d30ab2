"""Random draws used by the initializers (pure functions of shape, dtype and seed).

``seed`` is an int or ``None``. An int seeds a private generator, so the same
seed always gives the same values; ``None`` draws from torch's global RNG, so
``torch.manual_seed`` makes the result reproducible. Half-precision results
are drawn in float32 and then cast, which keeps the distribution exact.
"""

import torch

_MAX_SEED = 2**63 - 1


def validate_seed(seed, owner):
    """Return ``seed`` as an int or ``None``; raise a clear error otherwise."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        raise TypeError(f"{owner}: seed must be an int or None, got {seed!r} of type {type(seed).__name__}.")
    seed = int(seed)
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"{owner}: seed must be in [0, 2**63 - 1], got {seed}.")
    return seed


def _generator(seed):
    return None if seed is None else torch.Generator().manual_seed(seed)


def _work_dtype(dtype):
    return torch.float64 if dtype == torch.float64 else torch.float32


def uniform(shape, minval, maxval, dtype, seed):
    """Draw from ``U[minval, maxval)``."""
    out = torch.empty(shape, dtype=_work_dtype(dtype))
    out.uniform_(float(minval), float(maxval), generator=_generator(seed))
    return out.to(dtype)


def normal(shape, mean, stddev, dtype, seed):
    """Draw from ``N(mean, stddev**2)``."""
    out = torch.empty(shape, dtype=_work_dtype(dtype))
    out.normal_(float(mean), float(stddev), generator=_generator(seed))
    return out.to(dtype)


def truncated_normal(shape, mean, stddev, dtype, seed):
    """Draw from ``N(mean, stddev**2)`` restricted to ``mean ± 2 * stddev``.

    ``stddev`` is the standard deviation *before* truncation; the samples'
    own standard deviation is about ``0.88 * stddev``.
    """
    mean, stddev = float(mean), float(stddev)
    out = torch.empty(shape, dtype=_work_dtype(dtype))
    if stddev == 0.0:
        return out.fill_(mean).to(dtype)
    torch.nn.init.trunc_normal_(
        out, mean, stddev, mean - 2.0 * stddev, mean + 2.0 * stddev, generator=_generator(seed)
    )
    return out.to(dtype)


def orthogonal(shape, gain, dtype, seed):
    """Draw a (semi-)orthogonal matrix and reshape it to ``shape``.

    The matrix is ``(prod(shape[:-1]), shape[-1])``: its columns are orthonormal
    when it has at least as many rows as columns, otherwise its rows are. The
    QR factor's signs are fixed by ``diag(R)`` so the result is uniformly
    distributed over orthogonal matrices.
    """
    rows = 1
    for dim in shape[:-1]:
        rows *= dim
    cols = shape[-1]
    work = _work_dtype(dtype)
    tall = torch.empty((max(rows, cols), min(rows, cols)), dtype=work)
    tall.normal_(0.0, 1.0, generator=_generator(seed))
    q, r = torch.linalg.qr(tall)
    signs = torch.sign(torch.diagonal(r))
    signs[signs == 0] = 1.0
    q = q * signs
    if rows < cols:
        q = q.T
    return (float(gain) * q).reshape(shape).contiguous().to(dtype)

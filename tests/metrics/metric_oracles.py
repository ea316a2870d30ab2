"""Shared by the metric tests: feed the same batches to an ember metric and its Keras twin."""

import numpy as np
import torch


def to_numpy(value):
    """A Keras (torch backend) or ember result as a NumPy array."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def weight_for(mode, rng, n, shape=None):
    """Sample weights for one batch: ``None``, ``(n,)``, ``(n, 1)`` or a full ``shape``."""
    if mode == "none":
        return None
    weight = rng.uniform(0.0, 2.0, size=shape or (n,)).astype(np.float32)
    return weight[:, None] if mode == "n1" else weight


def assert_matches_keras(ours, theirs, batches, rtol=1e-5, atol=1e-6, reset_after=1):
    """Update both metrics batch by batch, comparing ``result()`` after each update.

    After batch ``reset_after`` both are reset and compared again (to their
    empty values). At the end the state variables are compared one by one.

    Args:
        ours, theirs: an ember metric and the Keras metric built with the same arguments.
        batches: list of ``(y_true, y_pred, sample_weight)`` NumPy tuples.
    """
    for step, (y_true, y_pred, weight) in enumerate(batches):
        ours.update_state(y_true, y_pred, sample_weight=weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
        got, expected = ours.result(), to_numpy(theirs.result())
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
        np.testing.assert_allclose(to_numpy(got), expected, rtol=rtol, atol=atol, err_msg=f"after batch {step}")
        if step == reset_after:
            ours.reset_state()
            theirs.reset_state()
            np.testing.assert_allclose(to_numpy(ours.result()), to_numpy(theirs.result()), rtol=rtol, atol=atol)
    assert len(ours.variables) == len(theirs.variables)
    for ours_var, theirs_var in zip(ours.variables, theirs.variables):
        assert tuple(ours_var.shape) == tuple(theirs_var.shape)
        np.testing.assert_allclose(to_numpy(ours_var), to_numpy(theirs_var.value), rtol=rtol, atol=atol)

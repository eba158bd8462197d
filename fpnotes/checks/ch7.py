"""Checks of Chapter 7's exercises (the Jacobian behind Jacobian regularization)."""

from __future__ import annotations

import numpy as np

from .._validation import as_weights
from ..solvers import fixed_point
from ._core import compare_array, compare_scalar, report

__all__ = ["ch7_fixed_point_jacobian", "ch7_jacobian_frobenius"]


def _jacobian(W, x):
    W = as_weights(W)
    x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    if x.shape[0] != W.shape[0]:
        raise ValueError(f"x must have {W.shape[0]} entries, got {x.shape[0]}")
    r = fixed_point(W, x, "tanh", on_fail="raise").r
    g = 1.0 - np.tanh(W @ r + x) ** 2
    return g * W  # diag(g) W


def ch7_fixed_point_jacobian(answer, W, x):
    """J = diag(f'(W r* + x)) W, the Jacobian of r -> tanh(W r + x) at its fixed point r*."""
    ok, msg = compare_array(answer, _jacobian(W, x), "J", rtol=1e-7, atol=1e-12)
    return report(ok, msg)


def ch7_jacobian_frobenius(answer, W, x):
    """Squared Frobenius norm ||J||_F^2 of the Jacobian at the fixed point."""
    expected = float(np.sum(_jacobian(W, x) ** 2))
    ok, msg = compare_scalar(answer, expected, "||J||_F^2", rtol=1e-7, atol=1e-12)
    if not ok and answer is not Ellipsis:
        try:
            if np.isclose(float(answer) ** 2, expected, rtol=1e-7):
                msg = "that is the norm itself; the exercise asks for its square"
        except (TypeError, ValueError):
            pass
    return report(ok, msg)

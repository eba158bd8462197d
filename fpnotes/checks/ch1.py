"""Checks of Chapter 1's exercises (fixed points and their stability)."""

from __future__ import annotations

import numpy as np

from .._validation import as_patterns, as_weights
from ..activations import as_activation
from ._core import compare_scalar, report

__all__ = ["ch1_fixed_point", "ch1_critical_rho", "ch1_max_euler_step"]


def ch1_fixed_point(answer, W, X, f="tanh", tol=1e-8):
    """Is ``answer`` (N, m) a fixed point r = f(W r + x) for every column of X?"""
    W = as_weights(W)
    X, vector = as_patterns(X, W.shape[0])
    try:
        R = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return report(False, f"the answer should be a numeric array, got {type(answer).__name__}")
    if vector and R.shape == (W.shape[0],):
        R = R[:, None]
    if R.shape != X.shape:
        return report(False, f"the answer has shape {R.shape}, expected {X.shape} "
                             "(one column per input pattern)")
    if not np.all(np.isfinite(R)):
        return report(False, "the answer contains NaN or inf (did the method diverge?)")
    res = np.max(np.abs(R - as_activation(f).f(W @ R + X)))
    return report(res <= tol, f"r - f(W r + x) is still {res:.1e} (tolerance {tol:.0e}); "
                              "iterate longer or use a method that converges here")


def ch1_critical_rho(answer, W0, g=1.0):
    """Largest rho for which the linear network f(z) = g z with W = rho W0 is stable.

    Stability: every eigenvalue of g rho W0 has real part below 1, so
    rho_c = 1 / (g max Re lambda(W0)) (assumes max Re lambda(W0) > 0).
    """
    lam = np.linalg.eigvals(as_weights(W0, "W0")).real.max()
    if not lam > 0:
        raise ValueError("W0 must have an eigenvalue with positive real part")
    ok, msg = compare_scalar(answer, 1.0 / (g * lam), "rho_c", rtol=1e-6)
    return report(ok, msg)


def ch1_max_euler_step(answer, W, g=1.0):
    """Largest Euler step h for which damped iteration of the linear network converges.

    r <- r + h(-r + g(W r + x)) multiplies each eigen-direction by 1 - h (1 - mu),
    mu an eigenvalue of g W; it converges iff ``|1 - h(1 - mu)| < 1`` for all mu,
    i.e. ``h < min 2 Re(1 - mu) / |1 - mu|^2`` (needs Re mu < 1).
    """
    mu = g * np.linalg.eigvals(as_weights(W))
    if not np.all(mu.real < 1):
        raise ValueError("the network must be stable (Re lambda(g W) < 1)")
    d = 1 - mu
    h_max = float(np.min(2 * d.real / np.abs(d) ** 2))
    ok, msg = compare_scalar(answer, h_max, "h_max", rtol=1e-6)
    return report(ok, msg)

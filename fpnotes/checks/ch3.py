"""Checks of Chapter 3's exercises (singularities of the loss)."""

from __future__ import annotations

import numpy as np

from .._validation import as_weights
from ._core import compare_array, compare_scalar, report

__all__ = ["ch3_one_neuron_minimum", "ch3_one_neuron_gradient", "ch3_pole_times"]


def ch3_one_neuron_minimum(answer, target, g=1.0, x=1.0):
    """The weight w* at which r = g x / (1 - g w) equals the target (w* = 1/g - x/target)."""
    if target == 0:
        raise ValueError("target must be non-zero (r = 0 is never reached at finite w)")
    ok, msg = compare_scalar(answer, 1 / g - x / target, "w*", rtol=1e-8)
    return report(ok, msg)


def ch3_one_neuron_gradient(answer, w, target, g=1.0, x=1.0):
    """dL/dw of L(w) = (g x / (1 - g w) - target)^2."""
    if g * w == 1:
        raise ValueError("w is at the pole w = 1/g")
    r = g * x / (1 - g * w)
    ok, msg = compare_scalar(answer, 2 * (r - target) * r * g / (1 - g * w), "dL/dw",
                             rtol=1e-6)
    return report(ok, msg)


def ch3_pole_times(answer, W_star, W1, t_range=(-1.0, 1.0)):
    """Sorted real t in t_range where I - W_star - t W1 is singular (gain 1).

    Those t are the real eigenvalues of W1^{-1} (I - W_star).
    """
    W_star, W1 = as_weights(W_star, "W_star"), as_weights(W1, "W1")
    mu = np.linalg.eigvals(np.linalg.solve(W1, np.eye(W_star.shape[0]) - W_star))
    real = np.abs(mu.imag) <= 1e-8 * np.maximum(1, np.abs(mu))
    t = np.sort(mu.real[real])
    t = t[(t >= t_range[0]) & (t <= t_range[1])]
    try:
        a = np.sort(np.ravel(np.asarray(answer, dtype=np.float64)))
    except (TypeError, ValueError):
        return report(False, f"the answer should be an array of numbers, got "
                             f"{type(answer).__name__}")
    if a.shape != t.shape:
        return report(False, f"you found {a.size} pole(s) in the range, not the right count "
                             "(keep only the real ones inside t_range)")
    ok, msg = compare_array(a, t, "the pole locations", rtol=1e-6, atol=1e-9)
    return report(ok, msg)

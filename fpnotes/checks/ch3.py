"""Checks of Chapter 3's exercises (singularities of the loss)."""

from __future__ import annotations

import numpy as np

from ..tasks import linear_task, random_weights
from ._core import (
    as_answer_array,
    as_answer_number,
    check_given,
    compare_array,
    compare_scalar,
    report,
)

__all__ = ["ch3_one_neuron_minimum", "ch3_one_neuron_gradient", "ch3_pole_times",
           "ch3_max_learning_rate", "ch3_line_data"]


def ch3_line_data():
    """The line of the chapter's Figure 3.2: ``{"W_star": task.W_true, "W1": W1}``.

    ``task = linear_task()`` (N = 200, seed 0) and ``W1 = random_weights(200, 2.5,
    np.random.default_rng(0))``, as the chapter builds them.
    """
    W_star = linear_task().W_true
    return {"W_star": W_star,
            "W1": random_weights(W_star.shape[0], 2.5, np.random.default_rng(0))}


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


def ch3_pole_times(answer, W_star=None, W1=None, t_range=(-0.8, 0.8)):
    """Sorted real t in t_range where I - W_star - t W1 is singular (gain 1).

    Those t are the real eigenvalues of W1^{-1} (I - W_star). ``W_star`` and ``W1``
    (optional) are the chapter's ``task.W_true`` and ``W1`` (see :func:`ch3_line_data`).
    """
    data = ch3_line_data()
    for given, name, key in ((W_star, "task.W_true", "W_star"), (W1, "W1", "W1")):
        msg = check_given(given, data[key], name, what="the chapter built")
        if msg:
            return report(False, msg)
    W_star, W1 = data["W_star"], data["W1"]
    mu = np.linalg.eigvals(np.linalg.solve(W1, np.eye(W_star.shape[0]) - W_star))
    real = np.abs(mu.imag) <= 1e-8 * np.maximum(1, np.abs(mu))
    t = np.sort(mu.real[real])
    t = t[(t >= t_range[0]) & (t <= t_range[1])]
    a, msg = as_answer_array(answer, "poles")
    if a is None:
        return report(False, msg)
    a = np.sort(np.ravel(a))
    if a.shape != t.shape:
        return report(False, f"you found {a.size} pole(s) in the range, not the right count "
                             "(keep only the real ones inside t_range)")
    ok, msg = compare_array(a, t, "the pole locations", rtol=1e-6, atol=1e-9)
    return report(ok, msg)


def ch3_max_learning_rate(answer, target, x=1.0, g=1.0):
    """Largest learning rate for which gradient descent converges at the one-neuron minimum.

    L(w) = (g x / (1 - g w) - target)^2 has curvature L''(w*) = 2 target^4 / x^2 at its
    minimum (the gain cancels), so descent converges locally iff
    eta < 2 / L''(w*) = x^2 / target^4.
    """
    if target == 0 or x == 0 or g == 0:
        raise ValueError("target, x and g must be non-zero")
    expected = x**2 / target**4
    a, msg = as_answer_number(answer, "eta_max")
    if a is None:
        return report(False, msg)
    if np.isclose(a, 2 * target**4 / x**2, rtol=1e-8):
        return report(False, "that is the curvature L''(w*); the bound is 2 / L''(w*)")
    if g != 1 and (np.isclose(a, expected / g**2, rtol=1e-8)
                   or np.isclose(a, expected * g**2, rtol=1e-8)):
        return report(False, "check the factors of the gain g: at the minimum they cancel")
    if np.isclose(a, 2 * expected, rtol=1e-8) or np.isclose(a, expected / 2, rtol=1e-8):
        return report(False, "off by a factor of 2: L'' = 2 (dr/dw)^2 and eta < 2 / L''")
    ok, msg = compare_scalar(a, expected, "eta_max", rtol=1e-8)
    return report(ok, msg)

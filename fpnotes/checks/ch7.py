"""Checks of Chapter 7's exercises (the Jacobian behind Jacobian regularization)."""

from __future__ import annotations

import numpy as np

from ..solvers import fixed_point
from ..tasks import random_weights
from ._core import check_given, compare_array, compare_scalar, report

__all__ = ["ch7_fixed_point_jacobian", "ch7_jacobian_frobenius", "ch7_exercise_data"]


def ch7_exercise_data():
    """The network of Exercise 7.1 as the chapter builds it: ``{"W7", "x7"}`` (seed 7)."""
    rng7 = np.random.default_rng(7)
    W7 = random_weights(30, 0.8, rng7)
    return {"W7": W7, "x7": rng7.standard_normal((30, 1))}


def _given_problem(W, x):
    """Message if the student's W7, x7 are not the chapter's, else None."""
    d = ch7_exercise_data()
    for given, name in ((W, "W7"), (x, "x7")):
        if given is not None and name == "x7" and np.size(given) == 30:
            given = np.reshape(np.asarray(given, dtype=np.float64), (30, 1))
        msg = check_given(given, d[name], name, what="the chapter built")
        if msg:
            return msg
    return None


def _jacobian():
    d = ch7_exercise_data()
    W, x = d["W7"], d["x7"]
    r = fixed_point(W, x, "tanh", on_fail="raise").r
    g = 1.0 - np.tanh(W @ r + x) ** 2
    return g * W  # diag(g) W


def ch7_fixed_point_jacobian(answer, W=None, x=None):
    """J = diag(f'(W r* + x)) W, the Jacobian of r -> tanh(W r + x) at its fixed point r*.

    ``W`` and ``x`` (optional) are the chapter's ``W7`` and ``x7``; they are compared
    with :func:`ch7_exercise_data` before the answer is judged.
    """
    msg = _given_problem(W, x)
    if msg:
        return report(False, msg)
    ok, msg = compare_array(answer, _jacobian(), "J", rtol=1e-7, atol=1e-12)
    return report(ok, msg)


def ch7_jacobian_frobenius(answer, W=None, x=None):
    """Squared Frobenius norm ||J||_F^2 of the Jacobian at the fixed point (W7, x7)."""
    msg = _given_problem(W, x)
    if msg:
        return report(False, msg)
    expected = float(np.sum(_jacobian() ** 2))
    ok, msg = compare_scalar(answer, expected, "||J||_F^2", rtol=1e-7, atol=1e-12)
    if not ok and answer is not Ellipsis:
        try:
            if np.isclose(float(answer) ** 2, expected, rtol=1e-7):
                msg = "that is the norm itself; the exercise asks for its square"
        except (TypeError, ValueError):
            pass
    return report(ok, msg)

"""Checks of Chapter 1's exercises (fixed points and their stability).

Each check builds the exercise's problem data itself, from the seeds the exercise gives,
and compares any data the student passes in with it before judging the answer: a correct
computation on wrongly built data is not "Correct!".
"""

from __future__ import annotations

import numpy as np

from ..activations import as_activation
from ..tasks import random_weights
from ._core import as_answer_array, check_given, compare_scalar, report

__all__ = ["ch1_fixed_point", "ch1_critical_rho", "ch1_max_euler_step",
           "ch1_exercise_data"]


def ch1_exercise_data(exercise):
    """The problem data of a Chapter 1 exercise, built from the seeds the exercise states.

    Parameters
    ----------
    exercise : {"fixed-point", "critical-rho", "euler-step"}

    Returns
    -------
    dict
        ``{"W_ex", "X_ex"}``, ``{"W0"}`` or ``{"W_rot"}``.
    """
    if exercise == "fixed-point":
        return {"W_ex": random_weights(100, 1.2, np.random.default_rng(5)),
                "X_ex": np.random.default_rng(6).standard_normal((100, 4))}
    if exercise == "critical-rho":
        return {"W0": random_weights(200, 1.0, np.random.default_rng(7))}
    if exercise == "euler-step":  # the rotational network of the chapter's Section 1.5
        N = 200
        rng = np.random.default_rng(1)
        W_rand = rng.standard_normal((N, N)) / np.sqrt(N)
        A = rng.standard_normal((N, N))
        return {"W_rot": 0.3 * W_rand + 1.5 * (A - A.T) / np.sqrt(2 * N)}
    raise ValueError(f"unknown exercise {exercise!r}; expected 'fixed-point', "
                     "'critical-rho' or 'euler-step'")


def ch1_fixed_point(answer, W=None, X=None, f="tanh", tol=1e-8):
    """Is ``answer`` (100, 4) a fixed point r = f(W r + x) of Exercise 1.1's network?

    ``W`` and ``X`` (optional) are the student's ``W_ex`` and ``X_ex``; they must be the
    exercise's (seeds 5 and 6), and the answer is judged on the exercise's data.
    """
    data = ch1_exercise_data("fixed-point")
    W_ex, X_ex = data["W_ex"], data["X_ex"]
    for given, expected, name in ((W, W_ex, "W_ex"), (X, X_ex, "X_ex")):
        msg = check_given(given, expected, name)
        if msg:
            return report(False, msg)
    R, msg = as_answer_array(answer, "r_ex")
    if R is None:
        return report(False, msg)
    if R.shape != X_ex.shape:
        return report(False, f"r_ex has shape {R.shape}, expected {X_ex.shape} "
                             "(one column per input pattern)")
    if not np.all(np.isfinite(R)):
        return report(False, "r_ex contains NaN or inf (did the method diverge?)")
    res = np.max(np.abs(R - as_activation(f).f(W_ex @ R + X_ex)))
    return report(res <= tol, f"r - f(W r + x) is still {res:.1e} (tolerance {tol:.0e}); "
                              "iterate longer or use a method that converges here")


def ch1_critical_rho(answer, W0=None):
    """Largest rho for which the linear network f(z) = z with W = rho W0 is stable.

    Stability: every eigenvalue of rho W0 has real part below 1, so
    rho_c = 1 / max Re lambda(W0). ``W0`` (optional) must be the exercise's (seed 7).
    """
    expected_W0 = ch1_exercise_data("critical-rho")["W0"]
    msg = check_given(W0, expected_W0, "W0")
    if msg:
        return report(False, msg)
    lam = np.linalg.eigvals(expected_W0).real.max()
    rho_c = 1.0 / lam
    ok, msg = compare_scalar(answer, rho_c, "rho_c", rtol=1e-6)
    if not ok and "too" in msg:
        try:
            if np.isclose(float(answer), 1.0 / np.abs(np.linalg.eigvals(expected_W0)).max(),
                          rtol=1e-6):
                msg = ("that is 1 / (spectral radius); stability depends on the largest "
                       "real part of the eigenvalues")
        except (TypeError, ValueError):
            pass
    return report(ok, msg)


def ch1_max_euler_step(answer, W=None):
    """Largest Euler step h for which damped iteration of the linear network converges.

    r <- r + h(-r + W r + x) multiplies each eigen-direction by 1 - h (1 - mu), mu an
    eigenvalue of W; it converges iff ``|1 - h(1 - mu)| < 1`` for all mu, i.e.
    ``h < min 2 Re(1 - mu) / |1 - mu|^2``. ``W`` (optional) must be the chapter's W_rot.
    """
    W_rot = ch1_exercise_data("euler-step")["W_rot"]
    msg = check_given(W, W_rot, "W_rot", what="the chapter built")
    if msg:
        return report(False, msg)
    d = 1 - np.linalg.eigvals(W_rot)
    h_max = float(np.min(2 * d.real / np.abs(d) ** 2))
    ok, msg = compare_scalar(answer, h_max, "h_max", rtol=1e-6)
    return report(ok, msg)

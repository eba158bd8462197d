"""Checks of Chapter 1's exercises (fixed points and their stability).

Each check builds the exercise's problem data itself, from the seeds the exercise gives,
and compares any data the student passes in with it before judging the answer: a correct
computation on wrongly built data is not "Correct!". The function exercise
(``ch1_iterate_fixed_point``) calls the student's ``iterate_fixed_point(W, X, tol)`` on
the network of a seed (0 in the chapter, others in the autograder's hidden tests) and
judges the residual of what it returns.
"""

from __future__ import annotations

import numpy as np

from ..activations import as_activation
from ..tasks import random_weights
from ._core import (
    as_answer_array,
    call_student,
    changed_in_place,
    check_given,
    compare_scalar,
    function_exercise,
    report,
)

__all__ = ["ch1_iterate_fixed_point", "ch1_iterate_problem", "ch1_fixed_point",
           "ch1_critical_rho", "ch1_max_euler_step", "ch1_exercise_data"]


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
    """Is ``answer`` (100, 4) a fixed point r = f(W r + x) of the Newton exercise's network?

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


# ---------------------------------------------------------------- the function exercise

# the residual a returned state may keep, in units of the tol the function was given: the
# state whose residual fell below tol and the next iterate (smaller still on a contraction,
# in the max norm up to round-off) must both pass
_TOL_MARGIN = 2.0


def ch1_iterate_problem(seed=0):
    """The problem of :func:`ch1_iterate_fixed_point` for ``seed``: ``(W, X, tol)``.

    Every network is a contraction: ``W`` is scaled to a largest singular value below 1,
    and ``tanh`` has slope at most 1, so ``r <- tanh(W r + x)`` shrinks the distance between
    any two states and plain iteration converges from any start, for every seed.

    Parameters
    ----------
    seed : int, optional
        0 is the exercise's network: ``W = 0.9 * W0 / np.linalg.norm(W0, 2)`` with
        ``W0 = fpnotes.random_weights(100, 1.0, np.random.default_rng(8))``, the inputs
        ``X = np.random.default_rng(9).standard_normal((100, 6))`` and ``tol = 1e-10``.
        Any other seed gives a network of another size, another number of patterns,
        another largest singular value (between 0.8 and 0.99) and a tighter ``tol``
        (1e-12 for odd seeds, 1e-11 for even ones), so that a function with the
        exercise's sizes or tolerance written into it fails there.

    Returns
    -------
    W : ndarray, shape (N, N)
    X : ndarray, shape (N, m)
    tol : float
    """
    seed = int(seed)
    if seed == 0:
        W0 = random_weights(100, 1.0, np.random.default_rng(8))
        X = np.random.default_rng(9).standard_normal((100, 6))
        norm, tol = 0.9, 1e-10
    else:
        rng = np.random.default_rng([1, seed])
        N, m = int(rng.integers(40, 160)), int(rng.integers(2, 12))
        norm = float(rng.uniform(0.8, 0.99))
        W0 = random_weights(N, 1.0, rng)
        X = rng.standard_normal((N, m))
        tol = 1e-12 if seed % 2 else 1e-11
    return norm * W0 / np.linalg.norm(W0, 2), X, tol


def _contraction_fixed_point(F, X, tol=1e-14, max_iter=5000):
    """The fixed point of the contraction ``F`` (a map of (N, m) arrays) from zero."""
    R = np.zeros_like(X)
    for _ in range(max_iter):
        R_next = F(R)
        if np.max(np.abs(R_next - R)) <= tol:
            return R_next
        R = R_next
    return R


def _residual(R, W, X):
    """The entries |r - tanh(W r + x)| of the residual of ``R``, shape (N, m)."""
    return np.abs(R - np.tanh(W @ R + X))


@function_exercise(hidden_seeds=(1, 2))
def ch1_iterate_fixed_point(func, *, seed=0):
    """Does ``func(W, X, tol)`` return the fixed points r = tanh(W r + x) of every column x?

    The answer is judged by its residual: every entry of ``R - tanh(W R + X)`` must be at
    most ``tol`` (up to a factor 2, so that the last iterate and the next one both pass).
    The network of every seed is a contraction, so that fixed point is unique and plain
    (or damped) iteration from any start reaches it.

    Parameters
    ----------
    func : callable
        The student's ``iterate_fixed_point(W, X, tol)``, returning an (N, m) array whose
        column i is the fixed point of the input column ``X[:, i]``.
    seed : int, optional
        The problem to judge it on (see :func:`ch1_iterate_problem`): 0 is the exercise's
        network (``N = 100``, ``m = 6``, ``tol = 1e-10``), other seeds draw other
        networks, of other sizes, with tighter tolerances.

    Returns
    -------
    Verdict
        True when the residual is below the tolerance; prints "Correct!" or "Not yet: ..."
        saying what is wrong (shape, transposed, NaN, arguments changed in place, a single
        step, W transposed, tanh or x missing or misplaced, the tolerance not reached),
        never the expected values.
    """
    W, X, tol = ch1_iterate_problem(seed)
    where = ("" if seed == 0 else
             f" (on the network of seed {seed}: N = {W.shape[0]}, m = {X.shape[1]}, "
             f"tol = {tol:.0e})")
    args = (W.copy(), X.copy(), tol)        # copies: an in-place change is detected
    value, msg = call_student(func, args, "iterate_fixed_point")
    if msg:
        return report(False, msg + where)
    name = changed_in_place(args[:2], (W, X), ("W", "X"))
    if name:
        return report(False, f"iterate_fixed_point changed its argument {name} in place"
                             f"{where}; update the state R, never W or X")
    R, msg = as_answer_array(value, "the array it returns")
    if R is None:
        return report(False, msg + where)
    if R.shape != X.shape:
        hint = (" (one row per pattern: fpnotes keeps one column per pattern, like X)"
                if R.shape == X.shape[::-1] else " (one column per input pattern, like X)")
        return report(False, f"the array it returns has shape {R.shape}, expected "
                             f"{X.shape}{hint}{where}")
    if not np.all(np.isfinite(R)):
        return report(False, f"the array it returns contains NaN or inf{where}")
    res = _residual(R, W, X)
    worst = float(res.max())
    if worst <= _TOL_MARGIN * tol:
        return report(True, "")
    return report(False, _iterate_diagnosis(R, W, X, tol, res) + where)


def _iterate_diagnosis(R, W, X, tol, res):
    """What is wrong with the state ``R`` whose residual ``res`` is above ``tol``."""
    def same(B):
        return np.allclose(R, B, rtol=1e-6, atol=1e-8)

    if same(np.tanh(X)):
        return ("that is one step of the iteration from r = 0, tanh(x): repeat the step "
                "until the residual r - tanh(W r + x) is below tol")
    if same(_contraction_fixed_point(lambda S: np.tanh(W.T @ S + X), X)):
        return ("that is the fixed point of tanh(W^T r + x): W[j, k] is the weight from "
                "neuron k to neuron j, so the recurrent input is W @ R")
    if same(np.linalg.solve(np.eye(W.shape[0]) - W, X)):
        return "that is the fixed point of the linear network r = W r + x: apply the tanh"
    if same(_contraction_fixed_point(lambda S: np.tanh(W @ S) + X, X)):
        return ("that is the fixed point of r = tanh(W r) + x: the input goes inside the "
                "nonlinearity, r = tanh(W r + x)")
    if same(_contraction_fixed_point(lambda S: np.tanh(W @ S), X)):
        return "that is the fixed point of r = tanh(W r), zero: the input x is missing"
    worst = float(res.max())
    bad = int(np.sum(res.max(axis=0) > _TOL_MARGIN * tol))
    m = R.shape[1]
    columns = "every column" if bad == m else f"{bad} of the {m} columns"
    if worst <= 1e-4:
        return (f"nearly: max |r - tanh(W r + x)| is {worst:.1e} in {columns}, above "
                f"tol = {tol:.0e}. Iterate until the residual itself, in every column, is "
                "at most the tol the function is given")
    return (f"max |r - tanh(W r + x)| is {worst:.1e} in {columns} (tol = {tol:.0e}): "
            "that is not the fixed point yet")

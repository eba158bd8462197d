"""Checks of Chapter 7's exercises (the Jacobian behind Jacobian regularization).

``ch7_input_jacobian`` judges a *function*: it builds a network and an input from a seed
(0 is the chapter's ``W7``, ``x7``), calls the student's ``input_jacobian(W, x)`` on them
and compares the result with dr*/dx = (I - G W)^{-1} G. The autograder repeats it with
other seeds (networks of other sizes), so a function that only reproduces seed 0's
numbers fails there.
"""

from __future__ import annotations

import numpy as np

from ..solvers import fixed_point
from ..tasks import random_weights
from ._core import (
    as_answer_array,
    call_student,
    changed_in_place,
    check_given,
    compare_array,
    compare_scalar,
    function_exercise,
    report,
)

__all__ = ["ch7_fixed_point_jacobian", "ch7_jacobian_frobenius", "ch7_exercise_data",
           "ch7_input_jacobian", "ch7_input_jacobian_problem"]


def ch7_exercise_data():
    """The network of the chapter's exercises as it builds it: ``{"W7", "x7"}`` (seed 7)."""
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


# ---------------------------------------------------------------- the function exercise


def ch7_input_jacobian_problem(seed=0):
    """The problem of :func:`ch7_input_jacobian` for ``seed``: ``(W, x)``.

    Parameters
    ----------
    seed : int, optional
        0 is the network of the chapter's exercises, ``W7`` and ``x7`` of
        :func:`ch7_exercise_data` (N = 30). Any other seed gives another tanh network, of
        another size (N between 12 and 60, never 30) and another scale ``rho`` (between
        0.5 and 0.9), with an input column of its own.

    Returns
    -------
    W : ndarray, shape (N, N)
    x : ndarray, shape (N, 1)
    """
    seed = int(seed)
    if seed == 0:
        d = ch7_exercise_data()
        return d["W7"], d["x7"]
    # other sizes too, so that a function with N = 30 written into it fails here
    rng = np.random.default_rng([7, seed])
    N = int(rng.choice([n for n in range(12, 61) if n != 30]))
    W = random_weights(N, float(rng.uniform(0.5, 0.9)), rng)
    return W, rng.standard_normal((N, 1))


def _gains(W, x):
    """The gains g = tanh'(W r* + x) at an accurate fixed point r*, shape (N, 1)."""
    r = fixed_point(W, x, "tanh", tol=1e-13, on_fail="raise").r
    return 1.0 - np.tanh(W @ r + x) ** 2


@function_exercise(hidden_seeds=(1, 2))
def ch7_input_jacobian(func, *, seed=0):
    """Does ``func(W, x)`` return dr*/dx, the Jacobian of the fixed point with respect to x?

    Differentiating r* = tanh(W r* + x) gives dr* = G (W dr* + dx) with G = diag(f'(W r*
    + x)), so dr*/dx = (I - G W)^{-1} G, an (N, N) matrix.

    Parameters
    ----------
    func : callable
        The student's ``input_jacobian(W, x)`` for the tanh network with weights ``W``
        (N, N) and one input column ``x`` (N, 1).
    seed : int, optional
        The problem to judge it on (see :func:`ch7_input_jacobian_problem`): 0 is the
        chapter's ``W7``, ``x7``; other seeds draw other networks, of other sizes.

    Returns
    -------
    Verdict
        True when the Jacobian is right to a relative 1e-6; prints "Correct!" or
        "Not yet: ..." saying what is wrong (shape, sign, transposed, scale, the map's
        Jacobian G W instead, the gains missing or on the wrong side, the linear
        network's (I - W)^{-1}, an approximation such as finite differences, arguments
        changed in place), never the expected values.
    """
    W, x = ch7_input_jacobian_problem(seed)
    where = "" if seed == 0 else f" (on the network of seed {seed}: N = {W.shape[0]})"
    args = (W.copy(), x.copy())             # copies: an in-place change is detected
    value, msg = call_student(func, args, "input_jacobian")
    if msg:
        return report(False, msg + where)
    name = changed_in_place(args, (W, x), ("W", "x"))
    if name:
        return report(False, f"input_jacobian changed its argument {name} in place"
                             f"{where}; build new arrays instead")
    g = _gains(W, x)
    eye = np.eye(W.shape[0])
    expected = np.linalg.solve(eye - g * W, np.diag(g[:, 0]))
    atol = 1e-9 * np.abs(expected).max()   # entries near 0 carry the round-off of the largest
    ok, msg = compare_array(value, expected, "dr*/dx", rtol=1e-6, atol=atol)
    if ok:
        return report(True, "")
    a, _ = as_answer_array(value)
    if a is not None and a.shape == expected.shape and np.all(np.isfinite(a)):
        msg = _input_jacobian_diagnosis(a, W, g, expected, atol) or msg
    elif a is not None and a.size == W.shape[0]:
        msg += (": dr*/dx is a matrix, the response of every neuron (rows) to every entry "
                "of x (columns)")
    return report(False, msg + where)


def _input_jacobian_diagnosis(a, W, g, expected, atol):
    """A specific message for a typical wrong dr*/dx ``a``, or None."""
    def same(b):
        return np.allclose(a, b, rtol=1e-6, atol=atol)

    eye = np.eye(W.shape[0])
    G = np.diag(g[:, 0])
    if same(g * W):
        return ("that is J = G W, the Jacobian of the map r -> tanh(W r + x) with respect "
                "to r; the fixed point responds to x directly and around the loop: "
                "differentiate r* = tanh(W r* + x) with respect to x")
    if same(G):
        return ("that is G, the direct effect of x only; x also acts through the recurrent "
                "loop W r*")
    if same(np.linalg.inv(eye - g * W)):
        return ("the gains G of the direct path are missing: dr* = G (W dr* + dx), so "
                "(I - G W) dr* = G dx")
    if same(G @ np.linalg.inv(eye - g * W)) or same(np.linalg.inv(eye - W * g.T) @ G):
        return ("the gains and W are in the wrong order: from (I - G W) dr* = G dx, "
                "dr*/dx = (I - G W)^{-1} G (which equals G (I - W G)^{-1})")
    if same(np.linalg.inv(eye - W)):
        return ("that is (I - W)^{-1}, the linear network's: the tanh's gains "
                "f'(W r* + x) belong in it")
    if same(np.linalg.solve(eye + g * W, G)):
        return "the sign of the loop is wrong: (I - G W) dr* = G dx"
    rel = np.linalg.norm(a - expected) / np.linalg.norm(expected)
    if rel < 1e-2:
        return (f"close, but not to round-off (relative error {rel:.1e}): a finite-"
                "difference estimate, a truncated series or a fixed point solved to a loose "
                "tolerance? Use the implicit formula at an accurate fixed point")
    return None

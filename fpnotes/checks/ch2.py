"""Checks of Chapter 2's exercises (implicit differentiation, adjoints, finite differences).

Each check builds the exercise's problem data itself, from the seeds the exercise gives.
An answer check compares any data the student passes in with it before judging the
answer; the function exercise (``ch2_linear_gradient``) calls the student's function on
the data of a seed (0 in the chapter, others in the autograder's hidden tests).
"""

from __future__ import annotations

import numpy as np

from ..gradients import adjoint, euclidean_gradient
from ..losses import squared_error
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

__all__ = ["ch2_linear_gradient", "ch2_weight_derivative", "ch2_adjoint",
           "ch2_exercise_data"]


def ch2_exercise_data(exercise, seed=0):
    """The problem data of a Chapter 2 exercise, built from the seeds the exercise states.

    Parameters
    ----------
    exercise : {"linear-gradient", "fd", "rbp"}
    seed : int, optional
        For ``"linear-gradient"`` (a function exercise) only: 0 is the exercise's network
        (N = 30 neurons, m = 8 patterns, from the seeds 11, 12, 13 the exercise states);
        any other seed gives another network of another size (N = 30 + 5 seed,
        m = 8 + 2 seed), on which the autograder's hidden tests call the student's function.

    Returns
    -------
    dict
        ``{"W2", "X2", "Y2"}``, ``{"W3", "X3", "Y3"}`` or, for the recurrent
        backpropagation exercise, the chapter's ``{"W", "G", "delta"}`` (``fp.gains``
        and ``out.delta`` of its BPTT section).
    """
    seed = int(seed)
    if seed and exercise != "linear-gradient":
        raise ValueError(f"exercise {exercise!r} has no seeds other than 0, got {seed}")
    if exercise == "linear-gradient":
        if seed == 0:
            return {"W2": random_weights(30, 0.6, np.random.default_rng(11)),
                    "X2": np.random.default_rng(12).standard_normal((30, 8)),
                    "Y2": np.random.default_rng(13).standard_normal((30, 8))}
        # other sizes too, so that a function written for 30 x 8 arrays only fails here
        N, m = 30 + 5 * seed, 8 + 2 * seed
        rng = np.random.default_rng([11, seed])
        return {"W2": random_weights(N, 0.6, rng), "X2": rng.standard_normal((N, m)),
                "Y2": rng.standard_normal((N, m))}
    if exercise == "fd":
        return {"W3": random_weights(20, 0.7, np.random.default_rng(21)),
                "X3": np.random.default_rng(22).standard_normal((20, 4)),
                "Y3": 0.5 * np.random.default_rng(23).standard_normal((20, 4))}
    if exercise == "rbp":
        rng = np.random.default_rng(3)
        N, m = 100, 10
        W = random_weights(N, 0.8, rng)
        X = rng.standard_normal((N, m))
        Y = 0.5 * rng.standard_normal((N, m))
        fp = fixed_point(W, X, "tanh", tol=1e-13)
        return {"W": W, "G": fp.gains, "delta": squared_error(fp.r, Y).delta}
    raise ValueError(f"unknown exercise {exercise!r}; expected 'linear-gradient', 'fd' "
                     "or 'rbp'")


def _given_ok(pairs):
    for given, expected, name in pairs:
        msg = check_given(given, expected, name)
        if msg:
            return msg
    return None


def _reference_gradient(W, X, Y, f):
    fp = fixed_point(W, X, f, on_fail="raise")
    return euclidean_gradient(W, X, fp.r, squared_error(fp.r, Y).delta, f)


@function_exercise(hidden_seeds=(1, 2))
def ch2_linear_gradient(func, *, seed=0):
    """Judge ``func(W, X, Y)``: grad_W L of the linear network on the problem of ``seed``.

    The network is r = (I - W)^{-1} x with L = (1/m) sum_i ||r_i - y_i||^2 over the m
    columns of ``X`` and ``Y``; the data are ``ch2_exercise_data("linear-gradient", seed)``
    (seed 0 is the exercise's; the Otter autograder's hidden tests use seeds 1 and 2,
    networks of other sizes). ``func`` gets copies of the data, and a function that changes
    its arguments in place fails. Only the returned values are judged: the method the
    exercise asks for (two solves, no inverse, no loop) is graded by reading the code.
    Typical slips get their own message: W instead of W^T in the adjoint solve, the inputs
    instead of the fixed points in the outer product, the adjoint solve left out, the
    gradient with respect to A = (I - W)^{-1} instead of W.
    """
    d = ch2_exercise_data("linear-gradient", seed)
    W, X, Y = d["W2"], d["X2"], d["Y2"]
    name = getattr(func, "__name__", "")
    name = name if name.isidentifier() else "your function"
    # which data it failed on: for a hidden seed this is what the grader's output shows
    place = "the exercise's network" if seed == 0 else f"the network of seed {seed}"
    where = f" (on {place}: N = {W.shape[0]}, m = {X.shape[1]})"
    args = (W.copy(), X.copy(), Y.copy())     # copies: an in-place change is detected
    answer, msg = call_student(func, args, name)
    if msg:
        if not callable(func) or "NotImplementedError" in msg:
            return report(False, msg)
        return report(False, f"{msg.rstrip()}{where}")
    arg_name = changed_in_place(args, (W, X, Y), ("W", "X", "Y"))
    if arg_name:
        return report(False, f"{name} changed its argument {arg_name} in place{where}; "
                             "work on new arrays (P = np.eye(N) - W is new, W -= ... "
                             "is not)")
    ok, msg = compare_array(answer, _reference_gradient(W, X, Y, "linear"),
                            "the gradient it returns", rtol=1e-6, atol=1e-12)
    if ok:
        return report(True, "")
    a, _ = as_answer_array(answer)
    if a is not None and a.shape == W.shape and np.all(np.isfinite(a)):
        msg = _linear_gradient_diagnosis(a, W, X, Y) or msg
    return report(False, f"{msg.rstrip()}{where}")


def _linear_gradient_diagnosis(a, W, X, Y):
    """A specific message for a typical wrong linear gradient ``a``, or None."""
    eye, m = np.eye(W.shape[0]), X.shape[1]
    R = np.linalg.solve(eye - W, X)
    D = 2 * (R - Y)                                  # the deltas, one column per pattern
    U = np.linalg.solve(eye - W.T, D)                # the adjoints
    scale = np.abs(U @ R.T / m).max()
    wrong = [
        (np.linalg.solve(eye - W, D) @ R.T / m,
         "the adjoint equation is (I - W^T) u = delta: transpose W in the second solve"),
        (U @ X.T / m,
         "the outer product is with the fixed points r_i, not the inputs x_i"),
        (D @ R.T / m,
         "the adjoint solve is missing: the deltas go through (I - W^T) u = delta first"),
        (D @ X.T / m,
         "that is (1/m) sum_i delta_i x_i^T, the gradient with respect to A = (I - W)^{-1}; "
         "the gradient with respect to W is A^T grad_A L A^T"),
    ]
    for b, message in wrong:
        if np.allclose(a, b, rtol=1e-6, atol=1e-9 * scale):
            return message
    return None


def ch2_weight_derivative(answer, W=None, X=None, Y=None, i=3, j=7):
    """dJ/dW[i, j] for squared error on the tanh fixed points of Exercise 2.2's network.

    ``W``, ``X``, ``Y`` (optional) are the student's ``W3``, ``X3``, ``Y3``; they must be
    the exercise's (seeds 21, 22, 23).
    """
    d = ch2_exercise_data("fd")
    msg = _given_ok([(W, d["W3"], "W3"), (X, d["X3"], "X3"), (Y, d["Y3"], "Y3")])
    if msg:
        return report(False, msg)
    if (i, j) != (3, 7):
        return report(False, "the exercise asks for the derivative by W[3, 7]")
    expected = _reference_gradient(d["W3"], d["X3"], d["Y3"], "tanh")[i, j]
    ok, msg = compare_scalar(answer, expected, f"dJ/dW[{i}, {j}]", rtol=1e-5,
                             atol=1e-9 * max(abs(expected), 1e-3))
    return report(ok, msg)


def ch2_adjoint(answer, W=None, G=None, delta=None):
    """The adjoints U (N, m) solving (I - W^T G_i) u_i = delta_i for the chapter's network.

    ``W``, ``G``, ``delta`` (optional) are the chapter's ``W``, ``fp.gains`` and
    ``out.delta``; they are compared with the check's own copies.
    """
    d = ch2_exercise_data("rbp")
    for given, expected, name in ((W, d["W"], "W"), (G, d["G"], "fp.gains"),
                                  (delta, d["delta"], "out.delta")):
        msg = _close(given, expected, name)
        if msg:
            return report(False, msg)
    expected = adjoint(d["W"], d["G"], d["delta"], method="batched_lu").u
    ok, msg = compare_array(answer, expected, "U", rtol=1e-6, atol=1e-12)
    return report(ok, msg)


def _close(given, expected, name):
    """Like check_given, with a tolerance for quantities computed by an iterative solver."""
    msg = check_given(given, expected, name, what="the chapter built")
    if msg is None or "not the one" not in msg:
        return msg
    g = np.asarray(given, dtype=np.float64)
    if np.allclose(g, expected, rtol=1e-8, atol=1e-10):
        return None
    return msg

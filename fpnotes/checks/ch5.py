"""Checks of Chapter 5's exercises (the metric ||U||_W = ||A U A||_F behind dW3).

Linear network with gain 1: A = (I - W)^{-1} and P = I - W. ``ch5_steepest_step`` judges
the student's *function* on problems it builds from a seed (seed 0 is the exercise's;
the autograder repeats it with other seeds).
"""

from __future__ import annotations

import numpy as np

from .._validation import as_like, as_weights
from ..gradients import euclidean_gradient
from ..losses import squared_error
from ..solvers import fixed_point
from ..tasks import linear_task
from ._core import (
    as_answer_array,
    as_answer_number,
    call_student,
    changed_in_place,
    compare_array,
    compare_scalar,
    function_exercise,
    report,
)

__all__ = ["ch5_metric_length", "ch5_metric_inverse", "ch5_steepest_step", "ch5_slice_metric"]


def _A(W):
    W = as_weights(W)
    P = np.eye(W.shape[0]) - W
    return W, P, np.linalg.solve(P, np.eye(W.shape[0]))


def ch5_metric_length(answer, W, U):
    """The length ||U||_W = ||A U A||_F of a weight change U at W (not its square).

    Parameters
    ----------
    answer : float
    W, U : array_like, shape (N, N)
    """
    W, P, A = _A(W)
    U = as_like(U, W.shape, "U")
    expected = float(np.linalg.norm(A @ U @ A))
    a, msg = as_answer_number(answer, "the length")
    if a is None:
        return report(False, msg)
    if np.isclose(a, expected**2, rtol=1e-8) and not np.isclose(expected, 1.0):
        return report(False, "that is the squared length; take the square root")
    ok, msg = compare_scalar(a, expected, "||U||_W", rtol=1e-8)
    return report(ok, msg)


def ch5_metric_inverse(answer, W, V):
    """M^{-1}(V) = P P^T V P^T P, the inverse of the metric operator M(U) = A^T A U A A^T.

    Parameters
    ----------
    answer : array_like, shape (N, N)
    W, V : array_like, shape (N, N)
    """
    W, P, A = _A(W)
    V = as_like(V, W.shape, "V")
    ok, msg = compare_array(answer, P @ P.T @ V @ P.T @ P, "M^-1(V)", rtol=1e-7, atol=1e-12)
    if not ok:
        try:
            a = np.asarray(answer, dtype=np.float64)
            if a.shape == W.shape and np.allclose(a, A.T @ A @ V @ A @ A.T, rtol=1e-7):
                msg = "that is M(V), the metric itself; the question asks for its inverse"
        except (TypeError, ValueError):
            pass
    return report(ok, msg)


def ch5_slice_metric(answer, W, E1, E2):
    """The 2x2 matrix g_jk = <A E_j A, A E_k A>_F of the metric restricted to span(E1, E2).

    Parameters
    ----------
    answer : array_like, shape (2, 2)
    W, E1, E2 : array_like, shape (N, N)
    """
    W, P, A = _A(W)
    E = [as_like(E1, W.shape, "E1"), as_like(E2, W.shape, "E2")]
    AEA = [A @ Ek @ A for Ek in E]
    g = np.array([[np.vdot(AEA[j], AEA[k]) for k in range(2)] for j in range(2)])
    ok, msg = compare_array(answer, g, "g", rtol=1e-7)
    return report(ok, msg)


def _steepest_problem(seed):
    """``(W, grad, eps)`` of the steepest-step exercise for ``seed``.

    Seed 0 is the exercise's: ``W5``, the starting weights of
    ``linear_task(N=6, m=3, seed=4)``, with the Euclidean gradient of that task's squared
    error there and ``eps = 0.05``. Other seeds draw the sizes, the task and ``eps``.
    """
    if seed == 0:
        N, m, task_seed, eps = 6, 3, 4, 0.05
    else:
        rng = np.random.default_rng(seed)
        N = int(rng.integers(4, 12))
        m = int(rng.integers(2, N))
        task_seed, eps = int(rng.integers(2**31)), float(rng.uniform(0.01, 0.2))
    task = linear_task(N=N, m=m, seed=task_seed)
    R = fixed_point(task.W0, task.X, task.f).r
    delta = squared_error(R, task.targets).delta
    return task.W0, euclidean_gradient(task.W0, task.X, R, delta, task.f), eps


def _metric_length(W, U):
    """||U||_W = ||A U A||_F, with A U A from two solves with P = I - W."""
    P = np.eye(W.shape[0]) - W
    return float(np.linalg.norm(np.linalg.solve(P.T, np.linalg.solve(P, U).T).T))


def _parallel(a, b):
    """Whether ``a`` is a positive multiple of ``b`` (both nonzero)."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return na > 0 and nb > 0 and np.vdot(a, b) > (1 - 1e-8) * na * nb


@function_exercise(hidden_seeds=(1, 2))
def ch5_steepest_step(func, *, seed=0):
    """Does ``func(W, grad, eps)`` return the steepest step of metric length ``eps``?

    The step is ``U = -eps M^{-1}(grad) / ||M^{-1}(grad)||_W``: of all weight changes of
    length ``||U||_W = ||A U A||_F = eps`` it decreases the loss most to first order.

    Parameters
    ----------
    func : callable
        The student's ``steepest_step(W, grad, eps)``, returning an (N, N) array.
    seed : int, optional
        The problem: 0 is the exercise's (``W5``, the Euclidean gradient of the squared
        error of ``fpnotes.linear_task(N=6, m=3, seed=4)`` at ``W5``, ``eps = 0.05``);
        other seeds draw other networks, of other sizes, and other ``eps``.

    Returns
    -------
    Verdict
        True when the step is right and the function left its arguments unchanged;
        prints "Correct!" or "Not yet: ..." saying what is wrong (shape, sign, transposed,
        wrong length, Euclidean direction, M instead of M^-1, M^-1 with the wrong factors
        transposed, arguments changed in place), never the expected values. Only the
        values are judged: the method the exercise asks for (products with P and solves,
        no inverse) is graded by reading the code.
    """
    W, grad, eps = _steepest_problem(seed)
    P = np.eye(W.shape[0]) - W
    direction = -P @ P.T @ grad @ P.T @ P              # -M^{-1}(grad)
    expected = eps * direction / _metric_length(W, direction)
    where = ("" if seed == 0 else
             f" (on the network of seed {seed}: N = {W.shape[0]}, eps = {eps:.3g})")
    args = (W.copy(), grad.copy(), eps)      # copies: an in-place change is detected
    value, msg = call_student(func, args, "steepest_step")
    if msg:
        return report(False, msg + where)
    name = changed_in_place(args[:2], (W, grad), ("W", "grad"))
    if name:
        return report(False, f"steepest_step changed its argument {name} in place"
                             f"{where}; work on new arrays (P = np.eye(N) - W is new, "
                             "W -= ... is not)")
    ok, msg = compare_array(value, expected, "U", rtol=1e-7, atol=1e-12)
    if ok:
        return report(True, "")
    U, _ = as_answer_array(value)
    if U is not None and U.shape == W.shape and np.all(np.isfinite(U)):
        A = np.linalg.solve(P, np.eye(W.shape[0]))
        if "wrong scale" in msg:
            msg += (f"; its metric length |A U A|_F is {_metric_length(W, U):.3g}, "
                    f"the exercise asks for eps = {eps:.3g}")
        elif _parallel(U, -grad):
            msg = ("U points along -grad, the steepest direction for the Euclidean length "
                   "(dW1); for the length |A U A|_F it is -M^-1(grad)")
        elif _parallel(U, -(A.T @ A @ grad @ A @ A.T)):
            msg = "U points along -M(grad), the metric itself; the step needs its inverse"
        else:
            msg = _transposed_factors(U, P, grad) or msg
    return report(False, msg + where)


def _transposed_factors(U, P, grad):
    """The message for a step along -M^-1(grad) with some factors of P transposed, or None."""
    PPt, PtP = (P @ P.T, "P P^T"), (P.T @ P, "P^T P")
    for (left, lname), (right, rname) in ((PtP, PPt), (PtP, PtP), (PPt, PPt)):
        if _parallel(U, -(left @ grad @ right)):
            return (f"U points along -{lname} grad {rname}: check which factors of "
                    "M^-1(V) = P P^T V P^T P are transposed")
    return None

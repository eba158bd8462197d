"""Checks of Chapter 4's exercises (reparameterizing the network, rules dW2 and dW3).

All exercises use a linear network with gain 1 and the squared error
``L = (1/m) ||A X - Y||_F^2`` with ``A = (I - W)^{-1}``. ``ch4_dw2_step`` judges a
*function*: it builds a task from a seed (0 is the chapter's exercise task), calls the
student's ``dw2_step`` on it and compares the weight change it returns with dW2's. The
autograder repeats it with other seeds (other sizes and learning rates), so a function
that only reproduces seed 0's numbers fails there.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_patterns, as_weights
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

__all__ = ["ch4_one_neuron_dw2", "ch4_gradient_from_A", "ch4_dw3_step", "ch4_dw2_step",
           "ch4_dw2_problem"]


def _linear_data(W, X, Y):
    W = as_weights(W)
    X, _ = as_patterns(X, W.shape[0])
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape != X.shape:
        raise ValueError(f"Y must have the shape of X {X.shape}, got {Y.shape}")
    P = np.eye(W.shape[0]) - W
    A = np.linalg.solve(P, np.eye(W.shape[0]))
    grad_A = 2.0 * (A @ X - Y) @ X.T / X.shape[1]
    return W, X, Y, P, A, grad_A


def ch4_one_neuron_dw2(answer, w, x, y, lr):
    """New weight w+ after one dW2 step on the one-neuron loss J = (a x - y)^2, a = 1/(1 - w).

    Parameters
    ----------
    answer : float
        Your w+.
    w, x, y, lr : float
        Current weight (w != 1), input, target and learning rate.
    """
    if w == 1:
        raise ValueError("w = 1 is the pole: a = 1/(1 - w) is undefined")
    a = 1.0 / (1.0 - w)
    a_new = a - lr * 2.0 * (a * x - y) * x
    if a_new == 0:
        raise ValueError("this step lands on a = 0, which no finite w represents")
    expected = 1.0 - 1.0 / a_new
    a_ans, msg = as_answer_number(answer, "w+")
    if a_ans is None:
        return report(False, msg)
    if np.isclose(a_ans, a_new, rtol=1e-8):
        return report(False, "that is a+, the new value of a; map it back to w")
    if not np.isclose(a_ans, expected, rtol=1e-8) and np.isclose(a_ans, expected - w,
                                                                  rtol=1e-8):
        return report(False, "that is the change of w; the question asks for the new weight")
    ok, msg = compare_scalar(answer, expected, "w+", rtol=1e-8)
    return report(ok, msg)


def ch4_gradient_from_A(answer, W, X, Y):
    """grad_W L computed from grad_A L = (2/m)(A X - Y) X^T (linear network, gain 1).

    Parameters
    ----------
    answer : array_like, shape (N, N)
    W : array_like, shape (N, N)
    X, Y : array_like, shape (N, m)
    """
    W, X, Y, P, A, grad_A = _linear_data(W, X, Y)
    ok, msg = compare_array(answer, A.T @ grad_A @ A.T, "grad_W L", rtol=1e-7)
    if not ok and np.asarray(answer, dtype=object).shape == W.shape:
        try:
            if np.allclose(np.asarray(answer, dtype=np.float64), A @ grad_A @ A, rtol=1e-7):
                msg = "grad_W L: check which factors are transposed"
        except (TypeError, ValueError):
            pass
    return report(ok, msg)


def ch4_dw3_step(answer, W, X, Y, lr):
    """The dW3 weight change Delta W = -lr P grad_A L P with P = I - W (not W + Delta W).

    Parameters
    ----------
    answer : array_like, shape (N, N)
    W : array_like, shape (N, N)
    X, Y : array_like, shape (N, m)
    lr : float
    """
    W, X, Y, P, A, grad_A = _linear_data(W, X, Y)
    expected = -lr * P @ grad_A @ P
    try:
        a = np.asarray(answer, dtype=np.float64)
        if a.shape == W.shape and np.allclose(a, W + expected, rtol=1e-7, atol=1e-12):
            return report(False, "that is the new W; the question asks for the change Delta W")
    except (TypeError, ValueError):
        pass
    ok, msg = compare_array(answer, expected, "Delta W", rtol=1e-7, atol=1e-12)
    return report(ok, msg)


def ch4_dw2_problem(seed=0):
    """The problem of :func:`ch4_dw2_step` for ``seed``: ``(W, X, Y, lr)``.

    Parameters
    ----------
    seed : int, optional
        0 is the task of the chapter's exercises, ``fpnotes.linear_task(N=8, m=4, seed=3)``
        at its ``W0``, with ``lr = 0.2``; any other seed gives a linear task of another
        size (``fpnotes.linear_task(N, m, seed=seed)`` with N and m drawn from the seed)
        and another learning rate.

    Returns
    -------
    W : ndarray, shape (N, N)
    X, Y : ndarray, shape (N, m)
    lr : float
    """
    seed = int(seed)
    if seed == 0:
        task, lr = linear_task(N=8, m=4, seed=3), 0.2
    else:
        # other sizes and rates too, so that a function with N = 8 or lr = 0.2 written
        # into it fails here
        rng = np.random.default_rng([4, seed])
        N = int(rng.integers(10, 25))
        task = linear_task(N=N, m=int(rng.integers(3, N)), seed=seed)
        lr = float(rng.uniform(0.3, 0.9))
    return task.W0, task.X, task.targets, lr


def _dw2(P, X, Y, lr, transpose_grad=False):
    """Delta W2 = P - (A - lr grad_A)^{-1} with A = P^{-1}, by solves only."""
    eye = np.eye(P.shape[0])
    grad_A = 2.0 * (np.linalg.solve(P, X) - Y) @ X.T / X.shape[1]
    if transpose_grad:
        grad_A = grad_A.T
    # A - lr B = A (I - lr P B), so its inverse is (I - lr P B)^{-1} P
    return P - np.linalg.solve(eye - lr * P @ grad_A, P)


@function_exercise(hidden_seeds=(1, 2))
def ch4_dw2_step(func, *, seed=0):
    """Does ``func(W, X, Y, lr)`` return the dW2 weight change of a linear network?

    dW2 takes a gradient step on ``A = (I - W)^{-1}``, ``A+ = A - lr grad_A L`` with
    ``grad_A L = (2/m)(A X - Y) X^T``, and maps it back: ``W+ = I - (A+)^{-1}``. The
    answer is the change ``W+ - W``.

    Parameters
    ----------
    func : callable
        The student's ``dw2_step(W, X, Y, lr)``, returning an (N, N) array.
    seed : int, optional
        The problem to judge it on (see :func:`ch4_dw2_problem`): 0 is the chapter's
        exercise task (``fpnotes.linear_task(N=8, m=4, seed=3)``, its ``W0``,
        ``lr = 0.2``); other seeds draw other tasks, of other sizes, and other rates.

    Returns
    -------
    Verdict
        True when the change is right and the function left its arguments unchanged;
        prints "Correct!" or "Not yet: ..." saying what is wrong (shape, sign, transposed,
        scale, the new W instead of the change, the change of A instead, the dW1 or the
        dW3 step, the factors of (A+)^{-1} in the wrong order, a transposed gradient, a
        missing factor of the gradient, arguments changed in place), never the expected
        values. Only the values are judged: the method the exercise asks for (solves, no
        inverse) is graded by reading the code.
    """
    W, X, Y, lr = ch4_dw2_problem(seed)
    where = ("" if seed == 0 else
             f" (on the task of seed {seed}: N = {W.shape[0]}, m = {X.shape[1]}, "
             f"lr = {lr:.3g})")
    args = (W.copy(), X.copy(), Y.copy(), lr)    # copies: an in-place change is detected
    value, msg = call_student(func, args, "dw2_step")
    if msg:
        return report(False, msg + where)
    name = changed_in_place(args[:3], (W, X, Y), ("W", "X", "Y"))
    if name:
        return report(False, f"dw2_step changed its argument {name} in place{where}; "
                             "work on new arrays (P = np.eye(N) - W is new, W -= ... "
                             "is not)")
    P = np.eye(W.shape[0]) - W
    expected = _dw2(P, X, Y, lr)
    atol = 1e-9 * np.abs(expected).max()   # entries near 0 carry the round-off of the largest
    ok, msg = compare_array(value, expected, "the change dw2_step returns", rtol=1e-7,
                            atol=atol)
    if ok:
        return report(True, "")
    a, _ = as_answer_array(value)
    if a is not None and a.shape == W.shape and np.all(np.isfinite(a)):
        msg = _dw2_diagnosis(a, W, X, Y, lr, P, atol) or msg
    return report(False, msg + where)


def _dw2_diagnosis(a, W, X, Y, lr, P, atol):
    """A specific message for a typical wrong dW2 change ``a``, or None."""
    def same(b):
        return np.allclose(a, b, rtol=1e-7, atol=atol)

    expected = _dw2(P, X, Y, lr)
    if same(W + expected):
        return "that is the new W; dw2_step returns the change W+ - W"
    grad_A = 2.0 * (np.linalg.solve(P, X) - Y) @ X.T / X.shape[1]
    if same(-lr * P @ grad_A @ P):
        return ("that is the dW3 step, the linearization dW = P dA P; dW2 maps the step in A "
                "back exactly, W+ = I - (A+)^{-1}")
    if same(-lr * grad_A):
        return "that is the change of A, -lr grad_A L; return the change of W"
    A = np.linalg.solve(P, np.eye(P.shape[0]))
    if same(-lr * A.T @ grad_A @ A.T):
        return ("that is the Euclidean step dW1, -lr grad_W L; dW2 steps in A and maps the "
                "result back, W+ = I - (A+)^{-1}")
    if same(P - P @ np.linalg.inv(np.eye(P.shape[0]) - lr * P @ grad_A)):
        return ("(A (I - lr P B))^{-1} = (I - lr P B)^{-1} P: the inverse of a product "
                "reverses the order of its factors")
    if same(_dw2(P, X, Y, lr, transpose_grad=True)):
        return "its gradient in A is transposed: grad_A L = (2/m)(A X - Y) X^T"
    m = X.shape[1]
    for factor in (0.5, m, m / 2, 2.0, 1.0 / m):
        if same(_dw2(P, X, Y, factor * lr)):
            return (f"that is dW2's change for a learning rate {factor:g} times lr: check "
                    "the factor 2 and the 1/m of grad_A L = (2/m)(A X - Y) X^T")
    return None

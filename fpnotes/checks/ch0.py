"""Check of the preface's warm-up exercise (the fixed points of a linear network).

The check judges the student's *function*: it builds the problem from a seed, calls the
function on it and accepts a result that solves ``(I - W) R = X`` to round-off (equal to
``np.linalg.solve``'s solution, or with a residual of at most ``1e-9 |X|``). Seed 0 is
the network of the preface's first computation; the autograder repeats the check with
other seeds (other sizes too), so a function that only reproduces seed 0's numbers, or
has ``N`` or ``m`` written into it, fails there.
"""

from __future__ import annotations

import numpy as np

from ..tasks import random_weights
from ._core import (
    as_answer_array,
    call_student,
    changed_in_place,
    compare_array,
    function_exercise,
    report,
)

__all__ = ["ch0_linear_fixed_point"]


def _problem(seed):
    """``(W, X)`` of the warm-up exercise for ``seed``."""
    rng = np.random.default_rng(seed)
    # seed 0 is the preface's own network (same generator, same order of draws); other
    # seeds change the sizes as well as the numbers
    N, m = (100, 3) if seed == 0 else (int(rng.integers(20, 80)), int(rng.integers(2, 9)))
    W = random_weights(N, 0.5, rng)
    X = rng.standard_normal((N, m))
    return W, X


# a residual |R - W R - X|_F at most this times |X|_F counts as solved to round-off: a
# direct solve leaves about 1e-15, an iteration run to a tight tolerance 1e-11 or less
RESIDUAL_TOL = 1e-9


def _solves(R, W, X, tol=RESIDUAL_TOL):
    """Whether ``R`` solves ``R = W R + X`` to round-off, relative to the size of ``X``."""
    return np.linalg.norm(R - W @ R - X) <= tol * np.linalg.norm(X)


@function_exercise(hidden_seeds=(1, 2))
def ch0_linear_fixed_point(func, *, seed=0):
    """Does ``func(W, X)`` return the fixed points R = W R + X of a linear network?

    Parameters
    ----------
    func : callable
        The student's ``linear_fixed_point(W, X)``, returning an (N, m) array whose
        column i is the fixed point of r = W r + x_i.
    seed : int, optional
        The problem to judge it on: 0 is the network of the preface's first computation
        (``N = 100`` neurons, ``rho = 0.5``, ``m = 3`` patterns, ``np.random.default_rng(0)``),
        other seeds draw other networks, of other sizes.

    Returns
    -------
    Verdict
        True when the result solves ``(I - W) R = X`` to round-off, that is when it agrees
        with ``np.linalg.solve``'s solution element-wise (``rtol = 1e-8``,
        ``atol = 1e-12``) *or* its residual is small, ``|R - W R - X|_F <= 1e-9 |X|_F``
        (so an iterative solution run to a tight tolerance passes too), and the function
        left its arguments unchanged; prints "Correct!" or "Not yet: ..." saying what is
        wrong (shape, sign, scale, W used transposed, arguments changed in place, the
        residual left), never the expected values. The method the exercise asks for (one
        solve, no inverse, no loop) is not checked: it is graded by reading the code.
    """
    W, X = _problem(seed)
    W_arg, X_arg = W.copy(), X.copy()      # copies: an in-place change is detected, not fatal
    where = "" if seed == 0 else f" (on the network of seed {seed})"
    value, msg = call_student(func, (W_arg, X_arg), "linear_fixed_point")
    if msg:
        return report(False, msg + where)
    name = changed_in_place((W_arg, X_arg), (W, X), ("W", "X"))
    if name:
        return report(False, f"linear_fixed_point changed its argument {name} in place"
                             f"{where}; work on new arrays (P = np.eye(N) - W is new, "
                             "W -= ... is not)")
    expected = np.linalg.solve(np.eye(W.shape[0]) - W, X)
    ok, msg = compare_array(value, expected, "R", rtol=1e-8, atol=1e-12)
    R, _ = as_answer_array(value)
    # any R that solves the equation to round-off is right, however it was computed
    ok = ok or (R is not None and R.shape == X.shape and bool(np.all(np.isfinite(R)))
                and bool(_solves(R, W, X)))
    if ok:
        return report(True, "")
    if R is not None and R.shape == X.shape and np.all(np.isfinite(R)):
        if _solves(R, W.T, X):
            msg = ("R solves r = W^T r + x: W[j, k] is the weight from neuron k to neuron j, "
                   "so the recurrent input is W r")
        elif np.allclose(R, X):
            msg = "R is the input X itself: the recurrent input W r is missing"
        else:
            residual = np.linalg.norm(R - W @ R - X) / np.linalg.norm(X)
            msg += (f"; the residual |R - W R - X| / |X| is {residual:.1e} (the check accepts "
                    f"up to {RESIDUAL_TOL:g})")
    elif R is not None and R.shape == X.shape[::-1]:
        msg += " (one column per input pattern)"
    return report(False, msg + where)

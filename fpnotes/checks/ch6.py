"""Checks of Chapter 6's exercises (classification at the fixed point, BPTT memory).

``ch6_softmax_delta`` judges a *function*: it builds fixed points, labels and a readout
from a seed (0 is the chapter's digits task), calls the student's
``cross_entropy_delta(R, labels, readout)`` on them, once as they are and once with the
readout scaled so that the logits are far too large for a naive softmax, and compares the
result with ``fpnotes.softmax_cross_entropy``'s ``delta``. The autograder repeats it with
other seeds (other sizes and numbers of classes).
"""

from __future__ import annotations

import numpy as np

from ..losses import softmax_cross_entropy
from ..solvers import fixed_point
from ..tasks import digits_task
from ._core import (
    as_answer_array,
    call_student,
    changed_in_place,
    compare_array,
    compare_scalar,
    function_exercise,
    report,
)

__all__ = ["ch6_accuracy", "ch6_cross_entropy_delta", "ch6_bptt_memory",
           "ch6_softmax_delta", "ch6_softmax_delta_problem"]


def _labels_ok(W, X, readout, labels):
    R = fixed_point(W, X, "tanh", on_fail="raise").r
    C = np.asarray(readout, dtype=np.float64)
    y = np.asarray(labels)
    if R.ndim != 2 or C.ndim != 2 or C.shape[1] != R.shape[0] or y.shape != (R.shape[1],):
        raise ValueError("R must be (N, m), readout (K, N) and labels (m,)")
    return R, C, y.astype(np.int64)


def ch6_accuracy(answer, W, X, readout, labels):
    """Fraction of patterns whose largest readout C r* equals the label (a number in [0, 1]).

    r* are the fixed points r = tanh(W r + x) of the columns of X (N, m).
    """
    R, C, y = _labels_ok(W, X, readout, labels)
    expected = softmax_cross_entropy(R, y, C).accuracy
    if answer is not Ellipsis and np.ndim(answer) == 0:
        try:
            if 1 < float(answer) <= 100:
                return report(False, "the accuracy should be a fraction in [0, 1], not a percent")
        except (TypeError, ValueError):
            pass
    ok, msg = compare_scalar(answer, expected, "the accuracy", rtol=1e-9, atol=1e-12)
    return report(ok, msg)


def ch6_cross_entropy_delta(answer, W, X, readout, labels):
    """d(loss of each pattern)/dr at the fixed points of W: C^T (p - onehot), (N, m), not / m."""
    R, C, y = _labels_ok(W, X, readout, labels)
    expected = softmax_cross_entropy(R, y, C).delta
    ok, msg = compare_array(answer, expected, "delta", rtol=1e-7, atol=1e-12)
    if not ok and np.shape(answer) == expected.shape:
        try:
            if np.allclose(np.asarray(answer, dtype=np.float64) * R.shape[1], expected):
                msg = "delta is divided by m: give the derivative of each pattern's own loss"
        except (TypeError, ValueError):
            pass
    return report(ok, msg)


def ch6_bptt_memory(answer, T, N, m):
    """Bytes BPTT stores for the forward trajectory: (T + 1) states of N x m float64 values."""
    expected = 8.0 * (T + 1) * N * m
    ok, msg = compare_scalar(answer, expected, "the memory in bytes", rtol=1e-9, atol=0.5)
    if not ok and answer is not Ellipsis:
        try:
            a = float(answer)
            if np.isclose(a, expected / 8):
                msg = "that is the number of floats; each float64 takes 8 bytes"
            elif np.isclose(a, 8.0 * T * N * m):
                msg = "count the states again: the initial state r_0 is stored too"
        except (TypeError, ValueError):
            pass
    return report(ok, msg)


# ---------------------------------------------------------------- the function exercise

# the readout of the second call is this many times the first's: logits in the hundreds or
# thousands, where exp overflows (above about 709) unless the largest logit is subtracted
LARGE_LOGITS = 1000.0


def ch6_softmax_delta_problem(seed=0):
    """The problem of :func:`ch6_softmax_delta` for ``seed``: ``(R, labels, readout)``.

    Parameters
    ----------
    seed : int, optional
        0 is the chapter's: for ``task = fpnotes.digits_task(N=60, seed=0)``, the fixed
        points ``R`` of the first 5 training images under ``task.W0``, their labels
        ``task.targets[:5]`` and ``task.readout`` (N = 60, K = 10 classes, m = 5). Any
        other seed draws states ``R = tanh(noise)`` of another size, another number of
        classes K and patterns m, integer labels in [0, K) and a readout with entries
        N(0, 1/N).

    Returns
    -------
    R : ndarray, shape (N, m)
    labels : ndarray of int, shape (m,)
    readout : ndarray, shape (K, N)
    """
    seed = int(seed)
    if seed == 0:
        task = digits_task(N=60, seed=0)
        R = fixed_point(task.W0, task.X[:, :5], task.f, tol=1e-12, on_fail="raise").r
        return R, np.asarray(task.targets[:5]), task.readout
    # other sizes and class counts too, so that a function with 60, 10 or 5 written into it
    # fails here
    rng = np.random.default_rng([6, seed])
    N = int(rng.choice([n for n in range(20, 81) if n != 60]))
    K = int(rng.choice([k for k in range(3, 13) if k != 10]))
    m = int(rng.choice([j for j in range(3, 17) if j not in (5, K)]))
    R = np.tanh(rng.standard_normal((N, m)))
    return R, rng.integers(0, K, m), rng.standard_normal((K, N)) / np.sqrt(N)


def _softmax_delta(R, labels, C, norm_axis=0, rows=False):
    """C^T (p - onehot); ``norm_axis=1`` and ``rows=True`` give two typical wrong versions."""
    z = C @ R
    e = np.exp(z - z.max(axis=norm_axis, keepdims=True))
    p = e / e.sum(axis=norm_axis, keepdims=True)
    if rows:                                 # p[labels] -= 1: whole rows, every column
        p[labels] -= 1.0
    else:
        p[labels, np.arange(R.shape[1])] -= 1.0
    return C.T @ p


@function_exercise(hidden_seeds=(1, 2))
def ch6_softmax_delta(func, *, seed=0):
    """Does ``func(R, labels, readout)`` return each pattern's d(loss)/dr = C^T (p - onehot)?

    Column i of the answer is the derivative of pattern i's own softmax cross-entropy
    ``-z_{y_i} + log sum_k exp(z_k)``, ``z = C r_i``, with respect to r_i: not divided by
    the number of patterns m (the convention of ``fpnotes.softmax_cross_entropy``, whose
    ``delta`` a learning rule averages itself). The function is called twice: on the data
    of ``seed``, and on the same data with the readout scaled by ``LARGE_LOGITS`` = 1000,
    where a softmax that does not subtract the largest logit overflows.

    Parameters
    ----------
    func : callable
        The student's ``cross_entropy_delta(R, labels, readout)``: ``R`` (N, m),
        ``labels`` (m,) integers, ``readout`` (K, N); returns an (N, m) array.
    seed : int, optional
        The data to judge it on (see :func:`ch6_softmax_delta_problem`): 0 is the chapter's
        digits task (N = 60, K = 10, m = 5); other seeds draw other sizes.

    Returns
    -------
    Verdict
        True when both calls are right; prints "Correct!" or "Not yet: ..." saying what is
        wrong (shape, sign, scale, transposed, the derivative with respect to the logits,
        division by m, the -1 of the correct class missing or in every column, the softmax
        over the wrong axis, overflow at large logits, arguments changed in place), never
        the expected values.
    """
    R, labels, C = ch6_softmax_delta_problem(seed)
    N, m, K = R.shape[0], R.shape[1], C.shape[0]
    where = ("" if seed == 0 else
             f" (on the data of seed {seed}: N = {N}, K = {K} classes, m = {m} patterns)")
    msg = _judge_delta(func, R, labels, C)
    if msg:
        return report(False, msg + where)
    msg = _judge_delta(func, R, labels, LARGE_LOGITS * C)
    if msg:
        if "differs from the reference" in msg:
            # right at moderate logits, wrong at large ones: most likely the softmax lost its
            # accuracy there (logits clipped, a shift that is not each column's own, ...)
            msg += ("; is its softmax still accurate at such logits? Subtract each column's "
                    "own largest logit, z - z.max(axis=0), before exponentiating")
        return report(False, f"right at moderate logits, but with the readout times "
                             f"{LARGE_LOGITS:g} (logits in the hundreds, where exp overflows "
                             f"above about 709): {msg}{where}")
    return report(True, "")


def _judge_delta(func, R, labels, C):
    """None if ``func`` gets C^T (p - onehot) right on this data, else what is wrong."""
    args = (R.copy(), labels.copy(), C.copy())    # copies: an in-place change is detected
    value, msg = call_student(func, args, "cross_entropy_delta")
    if msg:
        return msg
    name = changed_in_place(args, (R, labels, C), ("R", "labels", "readout"))
    if name:
        return (f"cross_entropy_delta changed its argument {name} in place; compute the "
                "logits and probabilities as new arrays")
    expected = softmax_cross_entropy(R, labels, C).delta
    a, msg = as_answer_array(value, "the array it returns")
    if a is None:
        return msg
    m = R.shape[1]
    if a.shape != expected.shape:
        if a.shape == (C.shape[0], m):
            return ("it returns one row per class, like p - onehot, the derivative with "
                    "respect to the logits z = C r; by the chain rule the derivative with "
                    "respect to r is C^T (p - onehot), shape (N, m)")
        if a.shape == expected.shape[::-1]:
            return (f"the array it returns has shape {a.shape}, expected {expected.shape}: one "
                    "column per pattern, like R")
        return f"the array it returns has shape {a.shape}, expected {expected.shape}"
    if not np.all(np.isfinite(a)):
        return ("the array it returns contains NaN or inf: subtract each column's largest "
                "logit before exponentiating (the softmax does not change)")
    atol = 1e-12 * max(np.abs(expected).max(), 1.0)
    ok, msg = compare_array(a, expected, "the derivative it returns", rtol=1e-7, atol=atol)
    if ok:
        return None
    return _delta_diagnosis(a, R, labels, C, expected, atol) or msg


def _delta_diagnosis(a, R, labels, C, expected, atol):
    """A specific message for a typical wrong C^T (p - onehot) ``a``, or None."""
    def same(b):
        return np.allclose(a, b, rtol=1e-7, atol=atol)

    m = R.shape[1]
    if m > 1 and same(expected / m):
        return ("it is divided by m: return the derivative of each pattern's own loss "
                "(the learning rule averages over the patterns itself)")
    z = C @ R
    p = np.exp(z - z.max(axis=0))
    p /= p.sum(axis=0)
    if same(C.T @ p):
        return ("the -1 of the correct class is missing: the loss -z_y + log sum_k exp(z_k) "
                "gives p - onehot, not p")
    if same(_softmax_delta(R, labels, C, rows=True)):
        return ("it subtracts 1 in the label's row of every column (p[labels] -= 1); "
                "subtract it once per column, p[labels, np.arange(m)] -= 1")
    if m > 1 and same(_softmax_delta(R, labels, C, norm_axis=1)):
        return ("its softmax normalizes over the patterns (axis 1); each column's "
                "probabilities are normalized over the classes (axis 0)")
    return None

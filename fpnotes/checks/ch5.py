"""Checks of Chapter 5's exercises (the metric ||U||_W = ||A U A||_F behind dW3).

Linear network with gain 1: A = (I - W)^{-1} and P = I - W.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_like, as_weights
from ._core import as_answer_number, compare_array, compare_scalar, report

__all__ = ["ch5_metric_length", "ch5_metric_inverse", "ch5_slice_metric"]


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

"""Checks of Chapter 4's exercises (reparameterizing the network, rules dW2 and dW3).

All exercises use a linear network with gain 1 and the squared error
``L = (1/m) ||A X - Y||_F^2`` with ``A = (I - W)^{-1}``.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_patterns, as_weights
from ._core import as_answer_number, compare_array, compare_scalar, report

__all__ = ["ch4_one_neuron_dw2", "ch4_gradient_from_A", "ch4_dw3_step"]


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

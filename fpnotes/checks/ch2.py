"""Checks of Chapter 2's exercises (implicit differentiation, adjoints, finite differences)."""

from __future__ import annotations

from .._validation import as_patterns, as_weights
from ..gradients import adjoint, euclidean_gradient
from ..losses import squared_error
from ..solvers import fixed_point
from ._core import compare_array, compare_scalar, report

__all__ = ["ch2_linear_gradient", "ch2_weight_derivative", "ch2_adjoint"]


def _reference_gradient(W, X, Y, f):
    fp = fixed_point(W, X, f, on_fail="raise")
    return euclidean_gradient(W, X, fp.r, squared_error(fp.r, Y).delta, f)


def ch2_linear_gradient(answer, W, X, Y):
    """grad_W J for the linear network r = (I - W)^{-1} x and J = (1/m) sum ||r - y||^2."""
    W = as_weights(W)
    X, _ = as_patterns(X, W.shape[0])
    ok, msg = compare_array(answer, _reference_gradient(W, X, Y, "linear"), "the gradient",
                            rtol=1e-6, atol=1e-12)
    return report(ok, msg)


def ch2_weight_derivative(answer, W, X, Y, i, j, f="tanh"):
    """dJ/dW[i, j] for squared error on the fixed points (e.g. by central differences)."""
    W = as_weights(W)
    X, _ = as_patterns(X, W.shape[0])
    expected = _reference_gradient(W, X, Y, f)[i, j]
    ok, msg = compare_scalar(answer, expected, f"dJ/dW[{i}, {j}]", rtol=1e-5,
                             atol=1e-9 * max(abs(expected), 1e-3))
    return report(ok, msg)


def ch2_adjoint(answer, W, G, delta):
    """The adjoints U (N, m) solving (I - W^T G_i) u_i = delta_i."""
    W = as_weights(W)
    G, _ = as_patterns(G, W.shape[0], "G")
    expected = adjoint(W, G, delta, method="batched_lu").u
    ok, msg = compare_array(answer, expected, "U", rtol=1e-6, atol=1e-12)
    return report(ok, msg)

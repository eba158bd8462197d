"""The learning rules dW1, dW2, dW3 and the metric behind dW3.

Registry keys follow Zhu & Rosenbaum (2024):

* ``"dW1"`` -- Euclidean gradient descent, W <- W - lr grad_W L.
* ``"dW2"`` -- the exact reparameterized step: gradient descent on
  A = (G^{-1} - W)^{-1}, mapped back to W (linear networks only).
* ``"dW3"`` -- the linearized reparameterized step, gradient descent under the
  metric ``||U||_W = ||A U A||_F``; computed inverse-free, for nonlinear networks with per-pattern
  gains as in the authors' MNIST code (Zhu & Rosenbaum, 2024; book Chapters 4 and 6).

Every rule maps (W, X, R, delta, f, lr) to the new weights; ``step`` returns
the change Delta W instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._validation import as_like, as_patterns, as_real_array, as_weights, check_lr
from .activations import as_activation, is_linear
from .gradients import _euclidean_gradient

__all__ = ["RULES", "Rule", "update", "step", "metric", "metric_inverse",
           "reparameterized_map", "angle", "StepError"]


class StepError(FloatingPointError):
    """A learning rule's step cannot be computed at this W: a linear system it solves
    is singular (W sits on a pole of the loss) or the step is not finite."""


@dataclass(frozen=True)
class Rule:
    """A learning rule of the registry ``fpnotes.RULES``.

    Attributes
    ----------
    key : str
        The paper's name (``"dW1"``, ``"dW2"``, ``"dW3"``).
    name : str
        What the rule is.
    step : callable
        ``step(W, X, R, delta, act, lr)`` -> Delta W (N, N).
    linear_only : bool
        True when the rule is defined for linear networks only.
    """

    key: str
    name: str
    step: Callable
    linear_only: bool = False

    @property
    def __doc__(self):  # the registry entry documents itself
        return self.step.__doc__


def _gains(W, X, R, act):
    return act.df(W @ R + X)


def _step_dW1(W, X, R, delta, act, lr):
    """dW1: Delta W = -lr grad_W L (Euclidean gradient descent).

    The gradient comes from implicit differentiation (one adjoint solve per
    pattern, batched). Its size blows up near the poles of the loss, where
    I - G_i W is singular.
    """
    return -lr * _euclidean_gradient(W, X, R, delta, act)


def _step_dW2(W, X, R, delta, act, lr):
    """dW2: one gradient step on A = (G^{-1} - W)^{-1}, mapped back to W.

    A+ = A - lr grad_A L with grad_A L = (1/m) delta X^T, and W+ = G^{-1} - (A+)^{-1}.
    Since A+ = A (I - lr P grad_A L) with P = G^{-1} - W, the inverse of A+ is
    (I - lr P grad_A L)^{-1} P: one linear solve, no matrix inverse. Linear
    networks only (A exists only when the gains are constant).
    """
    N, m = X.shape
    g_inv = 1.0 / act.gain_vector(N) if hasattr(act, "gain_vector") else 1.0 / act.df(np.zeros(N))
    P = np.diag(g_inv) - W
    grad_A = delta @ X.T / m
    try:
        A_plus_inv = np.linalg.solve(np.eye(N) - lr * P @ grad_A, P)
    except np.linalg.LinAlgError:
        raise StepError("rule 'dW2': I - lr (G^-1 - W) grad_A L is singular: the step in A "
                        "lands on a matrix with no inverse") from None
    return (np.diag(g_inv) - A_plus_inv) - W


def _step_dW3(W, X, R, delta, act, lr):
    """dW3: Delta W = -(lr/m) sum_i (I - W G_i) G_i delta_i r_i^T (I - G_i W)^T (I - G_i W).

    Batched and inverse-free (four matrix products): left = G delta - W (G G delta),
    a = R - G (W R), right = a - W^T (G a), Delta W = -lr left right^T / m.
    For a linear network with gain 1 it equals -lr M^{-1}(grad_W L), gradient
    descent under the metric M(U) = A^T A U A A^T; with a scalar gain g it is g^4
    times that.
    """
    m = X.shape[1]
    WR = W @ R
    G = act.df(WR + X)
    GD = G * delta
    left = GD - W @ (G * GD)
    a = R - G * WR
    right = a - W.T @ (G * a)
    return (-lr / m) * (left @ right.T)


RULES = {
    "dW1": Rule("dW1", "Euclidean gradient descent", _step_dW1),
    "dW2": Rule("dW2", "exact gradient step on A = (1/G - W)^-1 (steepest descent, d = |A - A'|)",
                _step_dW2, linear_only=True),
    "dW3": Rule("dW3", "linearized reparameterized step (gradient descent under |A U A|)",
                _step_dW3),
}


def _check_rule_inputs(rule, W, X, r, delta, f, lr):
    if isinstance(rule, Rule):
        rule = rule.key
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; use one of {', '.join(RULES)}")
    entry = RULES[rule]
    act = as_activation(f)
    if entry.linear_only and not is_linear(act):
        raise ValueError(f"rule {rule!r} ({entry.name}) is defined for linear networks only; "
                         f"got activation {getattr(act, 'name', type(act).__name__)!r}. "
                         "Use 'dW3', its linearization, for nonlinear networks.")
    W = as_weights(W)
    act = as_activation(f, W.shape[0])
    X, _ = as_patterns(X, W.shape[0])
    R = as_like(r, X.shape, "r")
    D = as_like(delta, X.shape, "delta")
    return entry, W, X, R, D, act, check_lr(lr)


def _checked_step(entry, W, X, R, D, act, lr):
    dW = entry.step(W, X, R, D, act, lr)
    # One pass over N x N numbers: a NaN step would silently poison every later W.
    if not np.all(np.isfinite(dW)):
        raise StepError(f"rule {entry.key!r}: the step is not finite at this W (a singular "
                        "adjoint system, or an overflow: W is at or near a pole of the loss)")
    return dW


def step(rule, W, X, r, delta, f="tanh", lr=1.0):
    """The weight change Delta W of a rule (``update`` returns W + Delta W).

    Parameters
    ----------
    rule : {"dW1", "dW2", "dW3"} or Rule
    W : array_like, shape (N, N)
    X : array_like, shape (N, m)
        Inputs of the batch.
    r : array_like, shape (N, m)
        Fixed points of the batch.
    delta : array_like, shape (N, m)
        dl/dr per pattern (from a loss in :mod:`fpnotes.losses`).
    f : str or Activation
    lr : float
        Learning rate eta > 0.

    Returns
    -------
    ndarray, shape (N, N)

    Raises
    ------
    TypeError
        For an argument of the wrong type (the message names it).
    ValueError
        For a wrong shape or value (the message names the argument).
    StepError
        When the step cannot be computed at this W (a singular system, or a
        step that is not finite).
    """
    entry, W, X, R, D, act, lr = _check_rule_inputs(rule, W, X, r, delta, f, lr)
    return _checked_step(entry, W, X, R, D, act, lr)


def update(rule, W, X, r, delta, f="tanh", lr=1.0):
    """Apply one step of a learning rule and return the new weights (N, N).

    See :func:`step` for the parameters and ``fpnotes.RULES`` for the rules.

    Examples
    --------
    >>> import fpnotes
    >>> task = fpnotes.linear_task(N=20, m=10, seed=0)
    >>> R = fpnotes.fixed_point(task.W0, task.X, task.f).r
    >>> loss = fpnotes.squared_error(R, task.targets)
    >>> W1 = fpnotes.update("dW3", task.W0, task.X, R, loss.delta, task.f, lr=0.1)
    >>> W1.shape
    (20, 20)
    """
    entry, W, X, R, D, act, lr = _check_rule_inputs(rule, W, X, r, delta, f, lr)
    return W + _checked_step(entry, W, X, R, D, act, lr)


def _linear_P(W, f):
    act = as_activation(f)
    if not is_linear(act):
        raise ValueError("the metric M(U) = A^T A U A A^T is defined for linear networks only "
                         f"(A = (1/G - W)^-1); got activation {getattr(act, 'name', act)!r}")
    W = as_weights(W)
    N = W.shape[0]
    g = act.gain_vector(N) if hasattr(act, "gain_vector") else act.df(np.zeros(N))
    return np.diag(1.0 / g) - W


def _solve_P(P, B, transpose=False):
    try:
        return np.linalg.solve(P.T if transpose else P, B)
    except np.linalg.LinAlgError:
        raise ValueError("W is on a pole: G^-1 - W is singular, so A = (G^-1 - W)^-1 and the "
                         "metric are not defined at this W") from None


def reparameterized_map(W, f="linear"):
    """A = (G^{-1} - W)^{-1} for a linear network (computed by an LU solve).

    Raises ValueError where G^{-1} - W is singular (A is not defined there).
    """
    P = _linear_P(W, f)
    return _solve_P(P, np.eye(P.shape[0]))


def metric(W, U, f="linear"):
    """The metric operator M(U) = A^T A U A A^T behind dW3 (linear networks).

    It defines the squared length ``<U, M(U)>_F = ||A U A||_F^2`` of a weight
    change U at W (the Euclidean length of the change it causes in A). Computed with
    solves against P = G^{-1} - W and its transpose (A = P^{-1}), no inverse.
    """
    P = _linear_P(W, f)
    U = as_like(U, P.shape, "U")
    AtAU = _solve_P(P, _solve_P(P, U), transpose=True)          # A^T A U
    # (A^T A U) A A^T = [A A^T (A^T A U)^T]^T
    return _solve_P(P, _solve_P(P, AtAU.T, transpose=True)).T


def metric_inverse(W, V, f="linear"):
    """M^{-1}(V) = P P^T V P^T P with P = G^{-1} - W: products only, no inverse."""
    P = _linear_P(W, f)
    V = as_like(V, P.shape, "V")
    return P @ (P.T @ V @ P.T) @ P


def angle(U, V):
    """Angle in degrees between two weight changes, seen as vectors in R^(N x N).

    Parameters
    ----------
    U, V : array_like, same shape (usually (N, N)), finite and not zero

    Returns
    -------
    float in [0, 180]
    """
    U = as_real_array(U, "U")
    V = as_real_array(V, "V")
    if U.shape != V.shape:
        raise ValueError(f"U and V must have the same shape, got {U.shape} and {V.shape}")
    return _angle(U, V)


def _angle(U, V):
    """:func:`angle` of two finite float arrays of the same shape (ValueError if one is 0)."""
    U, V = U.ravel(), V.ravel()
    su, sv = np.max(np.abs(U), initial=0.0), np.max(np.abs(V), initial=0.0)
    if su == 0 or sv == 0:
        raise ValueError(f"{'U' if su == 0 else 'V'} is zero (or empty): the angle with a "
                         "zero matrix is undefined")
    U, V = U / su, V / sv  # scale first: norms of entries near 1e200 would overflow
    nu, nv = np.linalg.norm(U), np.linalg.norm(V)
    return float(np.degrees(np.arccos(np.clip(U @ V / (nu * nv), -1.0, 1.0))))

"""Slices of the loss landscape of the linear task: lines and planes in W and in A.

For a linear network with gain 1 the fixed points are R = (I - W)^{-1} X, so
``J(W) = (1/m) ||(I - W)^{-1} X - Y||_F^2`` has poles wherever I - W is singular.
Along a line in A = (I - W)^{-1} the same loss is a parabola.
"""

from __future__ import annotations

import numpy as np

from ._result import Result
from ._validation import as_like, as_patterns, as_real_array, as_weights
from .activations import as_activation, is_linear

__all__ = ["loss_along_line", "loss_on_plane", "loss_along_line_in_A", "linear_loss"]


def _gain_inverse(f, N):
    act = as_activation(f)
    if not is_linear(act):
        raise ValueError("loss landscapes here are for linear networks (f = Linear(gain))")
    g = act.gain_vector(N) if hasattr(act, "gain_vector") else act.df(np.zeros(N))
    return np.diag(1.0 / g)


def _targets(Y, X):
    """Y in the shape of X ((N,) stands for (N, 1)); never broadcast a (1, m) target."""
    return as_like(Y, X.shape, "Y")


def _grid(ts, name):
    ts = as_real_array(ts, name)
    if ts.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of numbers, got shape {ts.shape}")
    return ts


def linear_loss(W, X, Y, f="linear"):
    """``J(W) = (1/m) ||A X - Y||_F^2`` with ``A = (G^{-1} - W)^{-1}``; inf where singular.

    Parameters
    ----------
    W : array_like, shape (N, N)
    X, Y : array_like, shape (N, m) (or (N,))
        Inputs and targets, the same shape.
    f : str or Activation
        A linear activation.

    Returns
    -------
    float
    """
    W = as_weights(W)
    X, _ = as_patterns(X, W.shape[0])
    Y = _targets(Y, X)
    P = _gain_inverse(f, W.shape[0]) - W
    try:
        R = np.linalg.solve(P, X)
    except np.linalg.LinAlgError:
        return np.inf
    return float(np.sum((R - Y) ** 2) / X.shape[1])


def _line_points(W_star, W1, ts):
    return W_star[None] + np.asarray(ts, dtype=np.float64)[:, None, None] * W1[None]


def loss_along_line(W_star, W1, ts, X, Y, f="linear"):
    """J(W* + t W1) for each t, with the largest real part of each W's eigenvalues.

    Parameters
    ----------
    W_star, W1 : array_like, shape (N, N)
        Base point and direction.
    ts : array_like, shape (T,)
    X, Y : array_like, shape (N, m)
        Inputs and targets.

    Returns
    -------
    Result with ``t`` (T,), ``loss`` (T,), ``max_real`` (T,) (max Re lambda(W)),
    ``stable`` (T,) bool (max Re lambda(G W) < 1: the fixed point is stable).
    """
    W_star = as_weights(W_star, "W_star")
    W1 = as_like(W1, W_star.shape, "W1")
    N = W_star.shape[0]
    X, _ = as_patterns(X, N)
    Y = _targets(Y, X)
    ts = _grid(ts, "ts")
    Ws = _line_points(W_star, W1, ts)
    return _evaluate(Ws, X, Y, f, ts)


def _evaluate(Ws, X, Y, f, t):
    N = Ws.shape[-1]
    Ginv = _gain_inverse(f, N)
    P = Ginv[None] - Ws
    with np.errstate(all="ignore"):
        loss = np.array([_loss_or_inf(Pk, X, Y) for Pk in P]) if _any_singular(P) else \
            np.sum((np.linalg.solve(P, np.broadcast_to(X, (Ws.shape[0],) + X.shape))
                    - Y[None]) ** 2, axis=(1, 2)) / X.shape[1]
    max_real = np.linalg.eigvals(Ws).real.max(axis=1)
    g = 1.0 / np.diag(Ginv)
    if np.all(g == g[0]):  # scalar gain: the eigenvalues of g W are g times those of W
        max_real_gw = g[0] * max_real
    else:
        max_real_gw = np.linalg.eigvals(g[None, :, None] * Ws).real.max(axis=1)
    return Result(t=t, loss=np.where(np.isfinite(loss), loss, np.inf),
                  max_real=max_real, stable=max_real_gw < 1)


def _any_singular(P):
    # A grid point exactly on a pole makes the batched solve raise for the whole batch.
    try:
        np.linalg.solve(P, np.ones(P.shape[:2] + (1,)))
    except np.linalg.LinAlgError:
        return True
    return False


def _loss_or_inf(P, X, Y):
    try:
        return np.sum((np.linalg.solve(P, X) - Y) ** 2) / X.shape[1]
    except np.linalg.LinAlgError:
        return np.inf


def loss_on_plane(W_star, W1, W2, t1, t2, X, Y, f="linear"):
    """J(W* + a W1 + b W2) on the grid a in t1, b in t2.

    Returns
    -------
    Result with ``t1`` (A,), ``t2`` (B,), ``loss`` (B, A) and ``stable`` (B, A)
    (rows index t2 so that ``plt.contourf(t1, t2, loss)`` draws it directly).
    """
    W_star = as_weights(W_star, "W_star")
    W1, W2 = as_like(W1, W_star.shape, "W1"), as_like(W2, W_star.shape, "W2")
    X, _ = as_patterns(X, W_star.shape[0])
    Y = _targets(Y, X)
    t1, t2 = _grid(t1, "t1"), _grid(t2, "t2")
    loss = np.empty((t2.size, t1.size))
    stable = np.empty((t2.size, t1.size), dtype=bool)
    for j, b in enumerate(t2):  # one batched solve per row keeps memory at A x N^2
        out = loss_along_line(W_star + b * W2, W1, t1, X, Y, f)
        loss[j], stable[j] = out.loss, out.stable
    return Result(t1=t1, t2=t2, loss=loss, stable=stable)


def loss_along_line_in_A(A_star, A1, ts, X, Y):
    """J along the line A* + t A1 in the reparameterized coordinates: a parabola in t.

    Returns
    -------
    Result with ``t`` and ``loss`` (T,), and ``coefficients`` (c2, c1, c0) of the
    exact quadratic J = c2 t^2 + c1 t + c0.
    """
    A_star = as_weights(A_star, "A_star")
    A1 = as_like(A1, A_star.shape, "A1")
    X, _ = as_patterns(X, A_star.shape[0])
    Y = _targets(Y, X)
    ts = _grid(ts, "ts")
    m = X.shape[1]
    E0, E1 = A_star @ X - Y, A1 @ X
    c2, c1, c0 = np.sum(E1**2) / m, 2 * np.sum(E0 * E1) / m, np.sum(E0**2) / m
    R = A_star[None] @ X + ts[:, None, None] * E1[None]
    loss = np.sum((R - Y[None]) ** 2, axis=(1, 2)) / m
    return Result(t=ts, loss=loss, coefficients=np.array([c2, c1, c0]))

"""Figures and small measurements of Chapter 2: gradient checks, BPTT, recurrent backprop."""

from __future__ import annotations

import numpy as np

from .._result import Result
from .._validation import as_like, as_patterns, as_weights
from ..solvers import fixed_point
from .core import new_figure

__all__ = ["iteration_residuals", "recurrent_backprop_residuals", "plot_bptt_convergence",
           "plot_forward_vs_adjoint"]


def iteration_residuals(W, X, f="tanh", *, tol=1e-10, max_iter=1000):
    """Plain fixed-point iteration r <- f(W r + x) from r = 0, recording the residual.

    The iteration is the solver's own, ``fixed_point(method="iterate", history=True)``:
    the record is the residual it measured at each step.

    Parameters
    ----------
    W : array_like, shape (N, N)
    X : array_like, shape (N, m)
    f : str or Activation
    tol : float
        Stop when ``max|r - f(W r + x)|`` (over neurons and patterns) is below it.
    max_iter : int

    Returns
    -------
    Result with ``residual`` (k,), the residual before each update (the largest over
    the patterns still iterating: a pattern stops once it meets ``tol``; inf where it
    is not finite), ``iterations`` (updates until the residual fell below ``tol``;
    ``max_iter`` if it never did) and ``r`` (N, m), the solver's fixed points.
    """
    sol = fixed_point(W, X, f, method="iterate", tol=tol, max_iter=max_iter + 1,
                      on_fail="ignore", history=True)
    worst = np.nanmax(sol.residual_history.residuals, axis=1)  # row k: the iterate r_k
    stop = np.flatnonzero(~np.isfinite(worst) | (worst <= tol))
    k = int(stop[0]) if stop.size else worst.size - 1
    return Result(residual=worst[:k + 1], iterations=k, r=sol.r)


def recurrent_backprop_residuals(W, G, delta, *, tol=1e-10, max_iter=1000):
    """Recurrent backpropagation U <- delta + W^T (G * U) from U = delta, recording the residual.

    Parameters
    ----------
    W : array_like, shape (N, N)
    G : array_like, shape (N, m)
        Gains f'(W r + x) at the fixed points.
    delta : array_like, shape (N, m)
        dl/dr per pattern.
    tol : float
        Tolerance on ``max|U - delta - W^T (G * U)|`` relative to ``max|delta|``.
    max_iter : int

    Returns
    -------
    Result with ``residual`` (k,) (relative), ``iterations`` and ``u`` (N, m).
    """
    W = as_weights(W)
    G, _ = as_patterns(G, W.shape[0], "G")
    D = as_like(delta, G.shape, "delta")
    scale = max(float(np.max(np.abs(D))), 1e-300)
    U = D.copy()
    res = []
    for _ in range(max_iter + 1):
        U_new = D + W.T @ (G * U)
        err = float(np.max(np.abs(U_new - U))) / scale
        res.append(err)
        if not np.isfinite(err) or err <= tol:
            break
        U = U_new
    return Result(residual=np.asarray(res), iterations=len(res) - 1, u=U)


def plot_bptt_convergence(steps, rel_errors, h=None):
    """Relative error of the BPTT gradient vs the number of Euler steps T (semilog-y).

    The error falls exponentially in the simulated time T h, a straight line on this axis.

    Parameters
    ----------
    steps : array_like of int, shape (k,)
    rel_errors : array_like, shape (k,) or dict of label -> (k,) arrays
    h : float, optional
        Euler step, used for a second x-axis label (time T h in units of tau).

    Returns
    -------
    matplotlib.figure.Figure
    """
    steps = np.asarray(steps, dtype=float)
    curves = rel_errors if isinstance(rel_errors, dict) else {None: rel_errors}
    fig, ax = new_figure(1, width=4.4)
    for label, err in curves.items():
        err = np.asarray(err, dtype=float)
        if err.shape != steps.shape:
            raise ValueError(f"rel_errors has shape {err.shape}, steps {steps.shape}")
        ax.semilogy(steps, err, "o-", ms=3, label=label)
    xl = "Euler steps $T$" + (f" (step $h = {h:g}$, time $Th$ in units of $\\tau$)" if h else "")
    ax.set_xlabel(xl, fontsize=9)
    ax.set_ylabel(r"$\|\nabla_{\rm BPTT} - \nabla_W L\| / \|\nabla_W L\|$")
    if len(curves) > 1:
        ax.legend(fontsize=8)
    return fig


def plot_forward_vs_adjoint(forward, adjoint):
    """Residual per iteration of the forward iteration and of recurrent backpropagation.

    Parameters
    ----------
    forward : Result
        From :func:`iteration_residuals`.
    adjoint : Result
        From :func:`recurrent_backprop_residuals`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = new_figure(1, width=4.4)
    ax.semilogy(forward.residual, label=f"forward: $r$ ({forward.iterations} it.)")
    ax.semilogy(adjoint.residual, "--", label=f"adjoint: $u$ ({adjoint.iterations} it.)")
    ax.set_xlabel("iteration")
    ax.set_ylabel("residual")
    ax.legend(fontsize=8)
    return fig

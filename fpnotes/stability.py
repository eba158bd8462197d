"""Stability of fixed points, reported separately from convergence of a solver.

At a fixed point r with gains G = diag(f'(W r + x)), the dynamics
tau dr/dt = -r + f(W r + x) linearize to the Jacobian -I + G W:

* *continuous-time stability* (the dynamics return to r): every eigenvalue of
  G W has real part below 1;
* *discrete-time stability* (plain iteration r <- f(W r + x) converges
  locally): every eigenvalue of G W has modulus below 1, a stricter condition.
"""

from __future__ import annotations

import numpy as np

from ._result import Result
from ._validation import as_patterns, as_weights
from .activations import as_activation

__all__ = ["stability", "jacobian_eigenvalues", "unstable_patterns", "max_real_eig",
           "spectral_radius"]


def jacobian_eigenvalues(W, G):
    """Eigenvalues of the Jacobian -I + G_i W, one row per pattern.

    Parameters
    ----------
    W : array_like, shape (N, N)
    G : array_like, shape (N,) or (N, m)
        Gains f'(z) at the fixed points (``fixed_point(...).gains``).

    Returns
    -------
    ndarray of complex, shape (m, N) (or (N,) for a vector G)
    """
    W = as_weights(W)
    G, vector = as_patterns(G, W.shape[0], "G")
    lam = np.linalg.eigvals(G.T[:, :, None] * W) - 1.0
    return lam[0] if vector else lam


def unstable_patterns(W, G, chunk=64):
    """Indices of the patterns whose fixed point is unstable for the dynamics.

    Parameters
    ----------
    W : array_like, shape (N, N)
    G : array_like, shape (N, m)
        Gains f'(z) at the fixed points (``fixed_point(...).gains``).
    chunk : int
        Patterns per batch of eigenproblems; bounds the (chunk, N, N) memory.

    Returns
    -------
    ndarray of int
        The i with some eigenvalue of the Jacobian -I + G_i W of real part >= 0.
    """
    G, _ = as_patterns(G, as_weights(W).shape[0], "G")
    unstable = [jacobian_eigenvalues(W, G[:, j:j + chunk]).real.max(axis=1) >= 0
                for j in range(0, G.shape[1], chunk)]
    return np.flatnonzero(np.concatenate(unstable))


def stability(W, R, X, f="tanh"):
    """Stability of the fixed points R (N, m) of r = f(W r + x).

    Returns
    -------
    Result with fields
        eigenvalues : complex ndarray (m, N), eigenvalues of -I + G_i W
        max_real : ndarray (m,), the largest real part (< 0: stable dynamics)
        spectral_radius : ndarray (m,), spectral radius of G_i W
        continuous_stable : bool ndarray (m,), Re lambda(G_i W) < 1
        discrete_stable : bool ndarray (m,), ``|lambda(G_i W)| < 1``
    """
    act = as_activation(f)
    W = as_weights(W)
    R, _ = as_patterns(R, W.shape[0], "R")
    X, _ = as_patterns(X, W.shape[0], "X")
    G = act.df(W @ R + X)
    lam = jacobian_eigenvalues(W, G)
    gw = lam + 1.0
    return Result(
        eigenvalues=lam,
        max_real=lam.real.max(axis=1),
        spectral_radius=np.abs(gw).max(axis=1),
        continuous_stable=gw.real.max(axis=1) < 1,
        discrete_stable=np.abs(gw).max(axis=1) < 1,
    )


def max_real_eig(W):
    """Largest real part of the eigenvalues of W (the paper's stability proxy).

    For a linear network with gain 1 the fixed point is stable iff this is < 1;
    for tanh networks (gains <= 1) it bounds what the gains can make of it.
    """
    return float(np.linalg.eigvals(as_weights(W)).real.max())


def spectral_radius(W):
    """Largest modulus of the eigenvalues of W."""
    return float(np.abs(np.linalg.eigvals(as_weights(W))).max())

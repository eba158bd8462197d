"""Stability of fixed points, reported separately from convergence of a solver.

At a fixed point r with gains G = diag(f'(W r + x)), the dynamics
tau dr/dt = -r + f(W r + x) linearize to the Jacobian -I + G W:

* *continuous-time stability* (the dynamics return to r): every eigenvalue of
  G W has real part below 1;
* *discrete-time stability* (plain iteration r <- f(W r + x) converges
  locally): every eigenvalue of G W has modulus below 1, a stricter condition.

The book's one stability criterion for training runs is :func:`stability_criterion`:
at a batch of fixed points it reports max Re lambda(W), the largest Re lambda(G_i W)
over the batch and the fraction of patterns whose fixed point is unstable
(Re lambda(G_i W) >= 1). A run *loses its fixed point* at the first update where
that fraction is positive or a fixed-point solve fails.
"""

from __future__ import annotations

import numpy as np

from ._result import Result
from ._validation import as_patterns, as_weights
from .activations import as_activation

__all__ = ["stability", "stability_criterion", "certified_stable", "jacobian_eigenvalues",
           "unstable_patterns", "max_real_eig", "spectral_radius"]


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


def certified_stable(W, G, rounds=2):
    """Patterns whose fixed point a cheap certificate proves stable: Re lambda(G_i W) < 1.

    Two exact sufficient conditions, tried in turn on the patterns not yet certified:

    * the symmetric part: for gains g >= 0, G W is similar to G^(1/2) W G^(1/2), whose
      eigenvalues have real part at most lambda_max(G^(1/2) S G^(1/2)) <=
      max(lambda_max(S), 0) max_j g_j, with S = (W + W^T)/2 (one symmetric eigenproblem
      for all patterns);
    * a Lyapunov inequality: if P is positive definite and
      Q_i = 2 P - (G_i W)^T P - P G_i W is positive definite, every eigenvalue of
      G_i W has real part below 1 (for G_i W v = lambda v,
      2 Re(lambda) v* P v = v* ((G_i W)^T P + P G_i W) v < 2 v* P v). P solves the
      Lyapunov equation A^T P + P A = -I for A = diag(g_mean) W - I, g_mean the mean
      gains of the patterns still uncertified; Q_i > 0 is checked by a Cholesky
      factorization (a few milliseconds per pattern at N = 300, against about ten
      times that for a dense nonsymmetric eigensolve).

    Learning makes W strongly non-normal (its symmetric part has eigenvalues well
    above max Re lambda(W)), so the first test alone rarely certifies a trained network;
    the second usually certifies most of a batch.

    Parameters
    ----------
    W : array_like, shape (N, N)
    G : array_like, shape (N, m)
        Gains f'(z) at the fixed points.
    rounds : int
        Lyapunov certificates tried, each with the mean gains of the patterns left.

    Returns
    -------
    bool ndarray, shape (m,)
        True where the fixed point is proved stable; False means "not proved"
        (decide with a dense eigensolve, as :func:`stability_criterion` does).
    """
    W = as_weights(W)
    G, _ = as_patterns(G, W.shape[0], "G")
    return _certified(W, G, rounds)


def _certified(W, G, rounds=2, chunk=32):
    from scipy.linalg import solve_continuous_lyapunov

    N, m = G.shape
    ok = np.zeros(m, dtype=bool)
    nonneg = G.min(axis=0) >= 0
    s_max = np.linalg.eigvalsh(0.5 * (W + W.T))[-1]
    ok[nonneg] = max(s_max, 0.0) * G[:, nonneg].max(axis=0) < 1
    eye = np.eye(N)
    for _ in range(rounds):
        todo = np.flatnonzero(~ok)
        if todo.size == 0:
            break
        A = G[:, todo].mean(axis=1)[:, None] * W - eye
        with np.errstate(all="ignore"):
            P = solve_continuous_lyapunov(A.T, -eye)
        P = 0.5 * (P + P.T)
        if not (np.all(np.isfinite(P)) and _positive_definite(P[None])[0]):
            break  # A itself is not stable: no certificate from it
        for j in range(0, todo.size, chunk):
            cols = todo[j:j + chunk]
            K = (P[None, :, :] * G[:, cols].T[:, None, :]) @ W  # P G_i W
            Q = 2.0 * P - K - K.transpose(0, 2, 1)
            ok[cols] = _positive_definite(Q)
    return ok


def _positive_definite(Q):
    """Cholesky test of each matrix in a stack, with a margin against rounding."""
    Q = Q.copy()
    N = Q.shape[-1]
    Q[:, np.arange(N), np.arange(N)] -= (1e-10 * N * np.abs(Q).max(axis=(1, 2)))[:, None]
    try:
        np.linalg.cholesky(Q)
        return np.ones(Q.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        pass
    out = np.zeros(Q.shape[0], dtype=bool)
    for i, q in enumerate(Q):
        try:
            np.linalg.cholesky(q)
            out[i] = True
        except np.linalg.LinAlgError:
            pass
    return out


def stability_criterion(W, G, chunk=64):
    """The book's stability criterion at a batch of fixed points (chapter 6, Appendix B).

    A pattern's fixed point is *unstable* when some eigenvalue of G_i W has real part
    >= 1 (the Jacobian -I + G_i W of tau dr/dt = -r + f(W r + x) has an eigenvalue
    with real part >= 0); the network then never settles there, so it is no model of
    a response. The fraction is exact: :func:`certified_stable` proves most patterns
    stable cheaply, and only the others get a dense nonsymmetric eigensolve.

    Parameters
    ----------
    W : array_like, shape (N, N)
    G : array_like, shape (N, m)
        Gains f'(z) at the fixed points (``fixed_point(...).gains``).
    chunk : int
        Patterns per batch of dense eigenproblems; bounds the (chunk, N, N) memory.

    Returns
    -------
    Result
        Fields:

        * ``max_real_W`` (float): max Re lambda(W), the paper's stability proxy;
        * ``unstable_fraction`` (float): the fraction of patterns with
          Re lambda(G_i W) >= 1;
        * ``unstable`` (ndarray of int): their indices;
        * ``max_real_GW`` (float): the largest Re lambda(G_i W) over the batch when it is
          >= 1 (some pattern is unstable); NaN when every pattern is stable (then it is
          below 1, and the certificate gives no more);
        * ``n_dense`` (int): patterns that needed a dense eigensolve.
    """
    W = as_weights(W)
    G, _ = as_patterns(G, W.shape[0], "G")
    todo = np.flatnonzero(~_certified(W, G))
    value = np.full(G.shape[1], -np.inf)
    for j in range(0, todo.size, chunk):
        cols = todo[j:j + chunk]
        value[cols] = np.linalg.eigvals(G[:, cols].T[:, :, None] * W).real.max(axis=1)
    unstable = np.flatnonzero(value >= 1)
    return Result(max_real_W=max_real_eig(W), unstable_fraction=unstable.size / G.shape[1],
                  unstable=unstable,
                  max_real_GW=float(value.max()) if unstable.size else np.nan,
                  n_dense=int(todo.size))


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
        The i with some eigenvalue of the Jacobian -I + G_i W of real part >= 0
        (Re lambda(G_i W) >= 1), as in :func:`stability_criterion`, which certifies
        most patterns stable without a dense eigensolve.
    """
    return stability_criterion(W, G, chunk).unstable


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

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


def certified_stable(W, G, max_squarings=6):
    """Patterns whose fixed point a cheap certificate proves stable: Re lambda(G_i W) < 1.

    Two exact sufficient conditions, tried in turn on the patterns not yet certified:

    * the symmetric part: for gains g >= 0, G W is similar to G^(1/2) W G^(1/2), whose
      eigenvalues have real part at most lambda_max(G^(1/2) S G^(1/2)) <=
      max(lambda_max(S), 0) max_j g_j, with S = (W + W^T)/2 (one symmetric eigenproblem
      for all patterns);
    * a Cayley transform: with M = G_i W, T = (M - 2 I)^(-1) M maps each eigenvalue
      lambda of M to (lambda - 1 + c)/(lambda - 1 - c) with c = 1, whose modulus is
      below 1 exactly when Re lambda < 1. Since rho(T)^k <= ||T^k||_F, a power T^k
      (k = 1, 2, 4, ..., by repeated squaring) with Frobenius norm at most 1/2 proves
      every Re lambda(M) < 1. It costs one LU solve and a few matrix products per
      pattern, all BLAS-3: about a third of a dense nonsymmetric eigensolve at N = 300.

    Learning makes W strongly non-normal (its symmetric part has eigenvalues well
    above max Re lambda(W)), so the first test alone rarely certifies a trained network;
    on Chapter 6's trained MNIST networks the second certified every pattern with a
    margin (k = 4 to 8).

    Parameters
    ----------
    W : array_like, shape (N, N)
    G : array_like, shape (N, m)
        Gains f'(z) at the fixed points.
    max_squarings : int
        Highest power tried is 2**max_squarings.

    Returns
    -------
    bool ndarray, shape (m,)
        True where the fixed point is proved stable; False means "not proved"
        (decide with a dense eigensolve, as :func:`stability_criterion` does).
    """
    W = as_weights(W)
    G, _ = as_patterns(G, W.shape[0], "G")
    return _certified(W, G, max_squarings)


def _certified(W, G, max_squarings=6, chunk=32):
    N, m = G.shape
    ok = np.zeros(m, dtype=bool)
    nonneg = G.min(axis=0) >= 0
    s_max = np.linalg.eigvalsh(0.5 * (W + W.T))[-1]
    ok[nonneg] = max(s_max, 0.0) * G[:, nonneg].max(axis=0) < 1
    todo = np.flatnonzero(~ok)
    for j in range(0, todo.size, chunk):
        cols = todo[j:j + chunk]
        ok[cols] = _cayley_certificate(G[:, cols].T[:, :, None] * W, max_squarings)
    return ok


def _cayley_certificate(M, max_squarings, c=1.0):
    """For a stack M (k, N, N): True where some ||T^(2^j)||_F <= 1/2, T the Cayley
    transform (M - (1 + c) I)^(-1) (M - (1 - c) I); proves Re lambda(M) < 1."""
    N = M.shape[-1]
    eye = np.eye(N)
    ok = np.zeros(M.shape[0], dtype=bool)
    try:
        with np.errstate(all="ignore"):
            T = np.linalg.solve(M - (1.0 + c) * eye, M - (1.0 - c) * eye)
    except np.linalg.LinAlgError:
        return ok  # an eigenvalue at exactly 1 + c: no certificate, the dense path decides
    live = np.arange(M.shape[0])
    for _ in range(max_squarings + 1):
        norms = np.sqrt(np.einsum("kij,kij->k", T, T))
        done = norms <= 0.5
        ok[live[done]] = True
        keep = ~done & np.isfinite(norms) & (norms < 1e100)  # growing: no certificate
        live, T = live[keep], T[keep]
        if live.size == 0:
            break
        T = T @ T
    return ok


def stability_criterion(W, G, chunk=64, *, sample=None, seed=0):
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
    sample : int, optional
        Judge only this many patterns, drawn without replacement with ``seed`` (all
        of them when None or when the batch is no larger). The exact test costs a
        few N^3 flops per pattern, more than a training step for a whole batch at
        N = 300, m = 512; a sample of 64 still finds an unstable fraction of 5%
        with probability 0.96 at each check. The fraction is then over the sample.
    seed : int or sequence of int
        Seeds the sample.

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
        * ``n_dense`` (int): patterns that needed a dense eigensolve;
        * ``patterns`` (ndarray of int): the patterns judged (all, or the sample).
    """
    W = as_weights(W)
    G, _ = as_patterns(G, W.shape[0], "G")
    if sample is not None and not (isinstance(sample, (int, np.integer)) and sample >= 1):
        raise ValueError(f"sample must be a positive integer or None, got {sample!r}")
    return _stability_criterion(W, G, chunk, sample=sample, seed=seed)


def _stability_criterion(W, G, chunk=64, *, sample=None, seed=0):
    """:func:`stability_criterion` on checked arguments (the kernel a training loop calls)."""
    patterns = np.arange(G.shape[1])
    if sample is not None:
        if sample < G.shape[1]:
            patterns = np.sort(np.random.default_rng(seed).choice(G.shape[1], sample,
                                                                  replace=False))
            G = G[:, patterns]
    todo = np.flatnonzero(~_certified(W, G))
    value = np.full(G.shape[1], -np.inf)
    for j in range(0, todo.size, chunk):
        cols = todo[j:j + chunk]
        value[cols] = np.linalg.eigvals(G[:, cols].T[:, :, None] * W).real.max(axis=1)
    bad = np.flatnonzero(value >= 1)
    return Result(max_real_W=_max_real_eig(W), unstable_fraction=bad.size / G.shape[1],
                  unstable=patterns[bad],
                  max_real_GW=float(value.max()) if bad.size else np.nan,
                  n_dense=int(todo.size), patterns=patterns)


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
    return _max_real_eig(as_weights(W))


def _max_real_eig(W):
    return float(np.linalg.eigvals(W).real.max())


def spectral_radius(W):
    """Largest modulus of the eigenvalues of W."""
    return float(np.abs(np.linalg.eigvals(as_weights(W))).max())

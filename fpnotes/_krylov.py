"""Batched GMRES: one Krylov solve per column, all columns advanced together.

Column j solves its own linear system A_j x_j = b_j; ``matvec`` applies all
the A_j to the columns of an (N, m) block at once, so each Krylov step costs
one matrix-matrix product instead of m matrix-vector products.
"""

from __future__ import annotations

import numpy as np


def batched_gmres(matvec, B, X0=None, *, tol=1e-12, restart=40, max_restarts=20, active=None):
    """Solve A_j x_j = b_j for every column j with restarted GMRES.

    Parameters
    ----------
    matvec : callable
        ``matvec(V, cols)`` returns the products A_j v_j for the columns ``cols``
        (an index array) of the block V of shape (N, len(cols)).
    B : ndarray, shape (N, m)
        Right-hand sides.
    X0 : ndarray, shape (N, m), optional
        Starting guess (zeros by default).
    tol : float or ndarray of shape (m,)
        Absolute tolerance on the max-norm of each column's residual.
    restart, max_restarts : int
        Krylov dimension per cycle and number of cycles.

    Returns
    -------
    X : ndarray, shape (N, m)
    residual : ndarray, shape (m,)
        Max-norm of B - A X per column, recomputed at the end.
    matvecs : int
        Number of block products performed (a cost measure).
    """
    N, m = B.shape
    X = np.zeros_like(B) if X0 is None else X0.copy()
    cols = np.arange(m) if active is None else np.asarray(active)
    res = np.zeros(m)
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), (m,))
    matvecs = 0
    for _ in range(max_restarts):
        Rb = B[:, cols] - matvec(X[:, cols], cols)
        matvecs += 1
        res[cols] = np.max(np.abs(Rb), axis=0)
        keep = res[cols] > tol[cols]
        cols, Rb = cols[keep], Rb[:, keep]
        if cols.size == 0:
            break
        X[:, cols] += _gmres_cycle(matvec, Rb, cols, tol[cols], min(restart, N))
        matvecs += min(restart, N)
    else:
        Rb = B[:, cols] - matvec(X[:, cols], cols)
        matvecs += 1
        res[cols] = np.max(np.abs(Rb), axis=0)
    return X, res, matvecs


def _gmres_cycle(matvec, R0, cols, tol, k):
    """One GMRES cycle of dimension k from residual block R0; returns the correction."""
    N, m = R0.shape
    beta = np.linalg.norm(R0, axis=0)
    V = np.zeros((k + 1, N, m))
    V[0] = R0 / np.where(beta > 0, beta, 1.0)
    H = np.zeros((m, k + 1, k))
    cs, sn = np.zeros((m, k)), np.zeros((m, k))
    g = np.zeros((m, k + 1))
    g[:, 0] = beta
    j_used = k
    for j in range(k):
        w = matvec(V[j], cols)
        for i in range(j + 1):  # modified Gram-Schmidt, vectorized over columns
            h = np.einsum("nm,nm->m", w, V[i])
            H[:, i, j] = h
            w -= h * V[i]
        hn = np.linalg.norm(w, axis=0)
        H[:, j + 1, j] = hn
        V[j + 1] = w / np.where(hn > 0, hn, 1.0)
        for i in range(j):  # apply the earlier Givens rotations to the new column
            a, b = H[:, i, j].copy(), H[:, i + 1, j].copy()
            H[:, i, j] = cs[:, i] * a + sn[:, i] * b
            H[:, i + 1, j] = -sn[:, i] * a + cs[:, i] * b
        a, b = H[:, j, j], H[:, j + 1, j]
        rho = np.hypot(a, b)
        safe = np.where(rho > 0, rho, 1.0)
        cs[:, j], sn[:, j] = np.where(rho > 0, a / safe, 1.0), np.where(rho > 0, b / safe, 0.0)
        H[:, j, j], H[:, j + 1, j] = rho, 0.0
        g[:, j + 1] = -sn[:, j] * g[:, j]
        g[:, j] = cs[:, j] * g[:, j]
        # |g_{j+1}| is the 2-norm of the residual; it bounds the max-norm we test.
        if np.all(np.abs(g[:, j + 1]) <= tol):
            j_used = j + 1
            break
    Hs = H[:, :j_used, :j_used]
    diag = np.abs(np.diagonal(Hs, axis1=1, axis2=2))
    # Columns that hit an exact breakdown have zero pivots past it: regularize them.
    Hs = Hs + np.eye(j_used) * (diag == 0)[:, None, :]
    y = np.linalg.solve(Hs, g[:, :j_used, None])[..., 0]
    return np.einsum("knm,mk->nm", V[:j_used], y)

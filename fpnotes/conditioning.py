"""Why rule dW1 stalls on the linear task: the curvature of J seen in W and in A.

For a linear network with gain 1 the fixed points are R = A X with A = (I - W)^{-1},
and the squared-error loss J = (1/m) ||A X - Y||_F^2 of the paper's linear task
(Zhu & Rosenbaum 2024; Chapter 3 of the book).
A weight change U changes the fixed points by A U A X to first order (Chapter 4), so the
Gauss-Newton part of the Hessian of J in W acts on U as

    H_W(U) = (2/m) A^T A U (A X)(A X)^T,

whose eigenvalues are (2/m) s_j(A)^2 s_i(A X)^2 (products of squared singular values).
In the coordinates A the same loss has the constant Hessian (2/m) X X^T (x) I, with
eigenvalues (2/m) s_i(X)^2. Gradient descent with rate eta is stable only for
eta < 2 / lambda_max and moves along an eigendirection at the rate eta * lambda, so the
ratio lambda_max / lambda_min (over the directions the data constrain) measures how slow
the slowest direction is at the largest safe rate. The extra factor that W-coordinates
bring is set by the condition number kappa(A) = s_max(A) / s_min(A): no pole needs to be
crossed, or even approached by an eigenvalue, for kappa(A)^2 to be large, because
I - W can be nearly singular in the sense of singular values while its eigenvalues
stay far from 0 (W is not normal).
"""

from __future__ import annotations

import numpy as np

from ._result import Result
from .losses import squared_error
from .rules import step

__all__ = ["linear_curvature", "curvature_along_rule"]


def linear_curvature(W, X, rtol=1e-10):
    """Gauss-Newton curvature of the linear-task loss at W, in W and in A coordinates.

    Parameters
    ----------
    W : array_like, shape (N, N)
        Weights of a linear network with gain 1 (I - W must be invertible).
    X : array_like, shape (N, m)
        Inputs, one column per pattern.
    rtol : float
        Singular values of X and A X below ``rtol`` times the largest count as zero (the
        directions the data do not constrain, e.g. when m < N).

    Returns
    -------
    Result with ``kappa_A`` (condition number of A), ``W_max``, ``W_min`` (largest and
    smallest nonzero Gauss-Newton eigenvalue of J in W), ``A_max``, ``A_min`` (the same in
    A), ``max_real_eig`` (largest real part of the eigenvalues of W) and
    ``min_distance`` (min ``|1 - lambda(W)|``, the eigenvalues' distance to a pole).
    """
    W = np.asarray(W, dtype=float)
    X = np.asarray(X, dtype=float)
    N, m = X.shape
    A = np.linalg.inv(np.eye(N) - W)
    s_A = np.linalg.svd(A, compute_uv=False)
    s_AX = np.linalg.svd(A @ X, compute_uv=False)
    s_X = np.linalg.svd(X, compute_uv=False)
    s_AX = s_AX[s_AX > rtol * s_AX[0]]
    s_X = s_X[s_X > rtol * s_X[0]]
    lam = np.linalg.eigvals(W)
    return Result(kappa_A=float(s_A[0] / s_A[-1]),
                  W_max=float(2 / m * s_A[0] ** 2 * s_AX[0] ** 2),
                  W_min=float(2 / m * s_A[-1] ** 2 * s_AX[-1] ** 2),
                  A_max=float(2 / m * s_X[0] ** 2), A_min=float(2 / m * s_X[-1] ** 2),
                  max_real_eig=float(lam.real.max()),
                  min_distance=float(np.abs(1 - lam).min()))


def curvature_along_rule(task, rule, lr, n_iter, every=50):
    """Run a rule on a linear task and record :func:`linear_curvature` along its path.

    The run is the same full-batch training as ``train_task(task, rule, lr, n_iter)`` (exact
    fixed points R = A X, squared error); every ``every`` iterations, and at the start and
    the end, the curvature at the current W is recorded.

    Returns
    -------
    Result with ``iteration`` and one array per field of :func:`linear_curvature`, plus
    ``loss`` at the recorded iterations.
    """
    W = np.array(task.W0, dtype=float)
    X, Y = task.X, task.targets
    N = W.shape[0]
    fields = ("kappa_A", "W_max", "W_min", "A_max", "A_min", "max_real_eig", "min_distance")
    rec = {k: [] for k in fields + ("iteration", "loss")}

    def record(k, loss):
        c = linear_curvature(W, X)
        for name in fields:
            rec[name].append(c[name])
        rec["iteration"].append(k)
        rec["loss"].append(loss)

    for k in range(n_iter + 1):
        R = np.linalg.solve(np.eye(N) - W, X)
        out = squared_error(R, Y)
        if k % every == 0 or k == n_iter:
            record(k, float(out.loss))
        if k == n_iter:
            break
        W = W + step(rule, W, X, R, out.delta, task.f, lr)
    return Result(**{k: np.asarray(v) for k, v in rec.items()})

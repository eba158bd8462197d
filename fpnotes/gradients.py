"""Gradients of a loss on fixed points: implicit differentiation and BPTT.

Implicit differentiation of r_i = f(W r_i + x_i) gives

    grad_W L = (1/m) sum_i G_i u_i r_i^T,   (I - W^T G_i) u_i = delta_i,

batched as ``(G * U) @ R.T / m`` where the adjoints U (N, m) solve one linear
system per pattern. The systems are solved together: one LU for linear networks
(G is the same for every pattern), a stack of LUs when m N^3 is small, and
batched GMRES (one GEMM per step for all patterns) otherwise. The
recurrent-backpropagation iteration U <- delta + W^T (G * U) (Almeida-Pineda)
is available as ``adjoint="iterate"``; it converges only while the spectral
radius of G W is below 1.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._krylov import batched_gmres
from ._result import Result
from ._validation import (
    as_like,
    as_patterns,
    as_weights,
    check_choice,
    check_int,
    check_number,
    check_positive,
)
from .activations import as_activation
from .losses import _check_targets, _prepare_loss, get_loss
from .solvers import ON_FAIL, ConvergenceWarning, FixedPointError, _euler_steps

__all__ = ["euclidean_gradient", "adjoint", "bptt_gradient", "ADJOINT_METHODS"]

ADJOINT_METHODS = ("auto", "lu", "batched_lu", "krylov", "iterate")
# Above this many flops (m N^3 / 3) a stack of per-pattern LUs costs more than GMRES.
BATCHED_LU_MAX_FLOPS = 2e9


def adjoint(W, G, delta, *, method="auto", tol=1e-10, max_iter=None, on_fail="warn"):
    """Solve (I - W^T G_i) u_i = delta_i for every pattern i.

    Parameters
    ----------
    W : array_like, shape (N, N)
    G : array_like, shape (N, m)
        Gains f'(W r + x) at the fixed points.
    delta : array_like, shape (N, m)
        dl/dr per pattern.
    method : {"auto", "lu", "batched_lu", "krylov", "iterate"}
        ``"lu"`` requires all columns of G to be equal (linear networks).
    tol : float
        Tolerance on the residual relative to ``max|delta|``.
    max_iter : int >= 1, optional
        Restarts of GMRES (``"krylov"``) or steps of ``"iterate"``.
    on_fail : {"warn", "raise", "ignore"}
        What to do when the solve fails (a singular I - W^T G_i included: its
        columns of ``u`` are NaN): warn with a ConvergenceWarning, raise
        FixedPointError (the partial result as ``.result``), or only report it.

    Returns
    -------
    Result with ``u`` (N, m), ``converged``, ``residual`` (relative, max over
    patterns), ``method``, ``message``.
    """
    W = as_weights(W)
    N = W.shape[0]
    G, _ = as_patterns(G, N, "G")
    D = as_like(delta, G.shape, "delta")
    check_choice(method, ADJOINT_METHODS, "adjoint method")
    check_choice(on_fail, ON_FAIL, "on_fail")
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1, optional=True)
    return _adjoint(W, G, D, method=method, tol=tol, max_iter=max_iter, on_fail=on_fail,
                    stacklevel=3)


def _adjoint(W, G, D, *, method="auto", tol=1e-10, max_iter=None, on_fail="warn", stacklevel=2):
    """:func:`adjoint` on checked arguments (the kernel the learning rules call)."""
    N = W.shape[0]
    m = G.shape[1]
    U = X0 = None
    same_gain = bool(np.all(G == G[:, :1]))
    if method == "auto":
        if same_gain:
            method = "lu"
        elif m * N**3 / 3 <= BATCHED_LU_MAX_FLOPS:
            method = "batched_lu"
        else:
            # Recurrent backpropagation first: one GEMM per step and, for the disc-shaped
            # spectra of random W, as fast as GMRES. GMRES takes over if it stalls.
            U, ok = _adjoint_iterate(W, G, D, tol * max(np.abs(D).max(), 1e-300), 200,
                                     give_up=True)
            method = "iterate" if ok else "krylov"
            X0 = None if ok or not np.all(np.isfinite(U)) else U
    singular = False
    if method == "lu":
        if not same_gain:
            raise ValueError("adjoint method 'lu' needs the same gains for every pattern "
                             "(a linear network); use 'batched_lu' or 'krylov'")
        try:
            U = np.linalg.solve(np.eye(N) - W.T * G[:, 0], D)
        except np.linalg.LinAlgError:
            U, singular = np.full_like(D, np.nan), True
    elif method == "batched_lu":
        J = np.eye(N) - W.T[None] * G.T[:, None, :]
        try:
            U = np.linalg.solve(J, D.T[..., None])[..., 0].T
        except np.linalg.LinAlgError:  # one singular pattern fails the batch: solve each
            U, singular = np.full_like(D, np.nan), True
            for i in range(m):
                try:
                    U[:, i] = np.linalg.solve(J[i], D[:, i])
                except np.linalg.LinAlgError:
                    pass
    elif method == "krylov":
        def mv(V, cols):
            return V - W.T @ (G[:, cols] * V)
        U, _, _ = batched_gmres(mv, D, X0, tol=tol * max(np.abs(D).max(), 1e-300),
                                restart=min(N, 60), max_restarts=max_iter or 20)
    elif method == "iterate" and U is None:
        U, _ = _adjoint_iterate(W, G, D, tol * max(np.abs(D).max(), 1e-300), max_iter or 10_000)
    with np.errstate(all="ignore"):
        res = np.abs(U - D - W.T @ (G * U)).max() / max(np.abs(D).max(), 1e-300)
    converged = bool(np.isfinite(res) and res <= max(tol, 1e-9))
    msg = f"adjoint solve ({method}) converged: relative residual {res:.2e}"
    if not converged:
        msg = (f"adjoint solve ({method}) did not converge: relative residual {res:.2e} > "
               f"{tol:.0e}" + (" (recurrent backpropagation diverges once the spectral radius "
                               "of G W reaches 1)" if method == "iterate" else "")
               + (" (I - W^T G is singular: no adjoint)" if singular else ""))
    out = Result(u=U, converged=converged, residual=float(res), method=method, message=msg)
    if not converged:
        if on_fail == "raise":
            raise FixedPointError(msg, out)
        if on_fail == "warn":
            warnings.warn(msg, ConvergenceWarning, stacklevel=stacklevel)
    return out


def _adjoint_iterate(W, G, D, atol, max_iter, give_up=False):
    """U <- D + W^T (G * U); returns (U, converged). With ``give_up``, stop as soon
    as the error shrinks by less than half in 10 steps, or doubles within the first 10
    (GMRES does better then)."""
    U = D.copy()
    checkpoint = first = np.inf
    for it in range(1, max_iter + 1):
        U_new = D + W.T @ (G * U)
        err = np.abs(U_new - U).max()
        U = U_new
        if not np.isfinite(err) or err <= atol:
            break
        first = min(first, err) if it == 1 else first
        if give_up and it <= 10 and err > 2.0 * first:
            break  # growing: the spectrum of G W reaches outside the unit disc
        if give_up and it % 10 == 0:
            if err > 0.5 * checkpoint:
                break
            checkpoint = err
    return U, bool(np.isfinite(err) and err <= atol)


def euclidean_gradient(W, X, r, delta, f="tanh", *, adjoint_method="auto", tol=1e-10,
                       on_fail="warn"):
    """Euclidean gradient grad_W L of a mean loss on fixed points (rule dW1's direction).

    Parameters
    ----------
    W : array_like, shape (N, N)
    X : array_like, shape (N, m)
        Inputs.
    r : array_like, shape (N, m)
        Fixed points r = f(W r + X) (e.g. ``fixed_point(W, X, f).r``).
    delta : array_like, shape (N, m)
        dl/dr_i per pattern (not divided by m), as returned by the losses.
    f : str or Activation
    adjoint_method : str
        See :func:`adjoint`.

    Returns
    -------
    ndarray, shape (N, N)
        (1/m) sum_i G_i u_i r_i^T.
    """
    W = as_weights(W)
    N = W.shape[0]
    act = as_activation(f, N)
    X, _ = as_patterns(X, N)
    R = as_like(r, X.shape, "r")
    D = as_like(delta, X.shape, "delta")
    check_choice(adjoint_method, ADJOINT_METHODS, "adjoint method")
    check_choice(on_fail, ON_FAIL, "on_fail")
    tol = check_positive(tol, "tol")
    return _euclidean_gradient(W, X, R, D, act, adjoint_method=adjoint_method, tol=tol,
                               on_fail=on_fail, stacklevel=4)


def _euclidean_gradient(W, X, R, D, act, *, adjoint_method="auto", tol=1e-10, on_fail="warn",
                        stacklevel=3):
    """:func:`euclidean_gradient` on checked arguments (rule dW1's kernel)."""
    G = act.df(W @ R + X)
    U = _adjoint(W, G, D, method=adjoint_method, tol=tol, on_fail=on_fail,
                 stacklevel=stacklevel).u
    return (G * U) @ R.T / X.shape[1]


def bptt_gradient(W, X, targets, f="tanh", *, steps, h=0.01, loss="squared_error",
                  readout=None):
    """Exact gradient of the loss after ``steps`` forward-Euler steps from r = 0.

    The forward pass is r_{t+1} = (1 - h) r_t + h f(W r_t + x); the reverse pass
    is written out by hand: lambda_T = delta(r_T)/m,
    lambda_t = (1 - h) lambda_{t+1} + h W^T (G_t * lambda_{t+1}) and
    grad = h sum_t (G_t * lambda_{t+1}) r_t^T. As ``steps`` grows (and the fixed
    point is stable) it converges to :func:`euclidean_gradient`.

    Parameters
    ----------
    W : array_like, shape (N, N)
    X : array_like, shape (N, m)
    targets : array_like
        Targets passed to the loss ((K, m) for squared error, (m,) labels for
        cross-entropy).
    f : str or Activation
    steps : int
        Number of Euler steps T (memory: T x N x m floats).
    h : float
        Euler step dt/tau.
    loss : str or callable
    readout : array_like, shape (K, N), optional

    Returns
    -------
    Result with ``gradient`` (N, N), ``loss`` (at r_T), ``r`` (r_T, (N, m)) and
    ``diverged`` (True when the forward pass overflowed -- then ``loss`` and
    ``gradient`` are NaN -- or the loss or the backward pass did).
    """
    W = as_weights(W)
    act = as_activation(f, W.shape[0])
    X, _ = as_patterns(X, W.shape[0])
    steps = check_int(steps, "steps", minimum=1)
    h = check_number(h, "h", low=0.0, high=1.0)
    loss_fn = get_loss(loss)
    _check_targets(loss_fn, X.shape, targets, readout)
    kernel, targets = _prepare_loss(loss_fn, targets, readout)
    return _bptt_gradient(W, X, targets, act, steps, h, kernel)[0]


def _bptt_gradient(W, X, T, act, steps, h, loss):
    """:func:`bptt_gradient` on checked arguments; ``loss`` is a kernel ``(R, T) -> Result``
    (:func:`fpnotes.losses._prepare_loss`). Returns the Result and the loss's own output
    at r_T (None when the forward pass overflowed)."""
    rs = _euler_steps(W, X, act, steps, h, convex=True)
    if not np.all(np.isfinite(rs[-1])):
        # the dynamics ran away: there is no loss to differentiate
        return Result(gradient=np.full_like(W, np.nan), loss=np.nan, r=rs[-1],
                      diverged=True), None
    out = loss(rs[-1], T)
    lam = out.delta / X.shape[1]
    grad = np.zeros_like(W)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps - 1, -1, -1):
            gl = act.df(W @ rs[t] + X) * lam
            grad += h * gl @ rs[t].T
            lam = (1 - h) * lam + h * (W.T @ gl)
    # the backward pass can overflow where the forward one did not (huge W)
    diverged = not (np.isfinite(out.loss) and np.all(np.isfinite(grad)))
    return Result(gradient=grad, loss=out.loss, r=rs[-1], diverged=diverged), out

"""Figures of Chapter 1: solver convergence, eigenvalue clouds, the rho explorer."""

from __future__ import annotations

import warnings

import numpy as np

from .._result import Result
from ..solvers import fixed_point, simulate
from ..tasks import random_weights
from .core import interactive, new_figure

__all__ = ["fixed_point_residual_history", "plot_solver_convergence", "plot_eigenvalue_cloud",
           "plot_rho_explorer", "interactive_rho_explorer"]

METHOD_COLORS = {"iterate": "#1f77b4", "anderson": "#ff7f0e", "newton": "#2ca02c",
                 "euler": "#9467bd", "damped": "#9467bd"}


def fixed_point_residual_history(W, X, f="tanh", *, method="iterate", max_iters=(1, 2, 4, 8),
                                 **kwargs):
    """Residual of :func:`fpnotes.fixed_point` as a function of its iteration cap.

    Runs the solver once per cap (``on_fail="ignore"``) and records how far it
    got; stops at the first cap where it converged. Each point is what
    ``fixed_point`` returns with that cap (a capped solve checks its last step and
    keeps the iterates it measured), which the residuals of one long solve
    (``fixed_point(..., history=True)``) match except at the converged end.

    Parameters
    ----------
    W : array_like, shape (N, N)
    X : array_like, shape (N, m)
    f : str or Activation
    method : str
        Any method of :func:`fpnotes.fixed_point` except ``"auto"``.
    max_iters : sequence of int
        Increasing iteration caps.
    **kwargs
        Passed on to :func:`fpnotes.fixed_point` (``tol``, ``options`` or the method's
        shorthands such as ``damping``, ``h``).

    Returns
    -------
    Result with ``iterations``, ``work`` (GEMM equivalents) and ``residual``,
    1-D arrays of equal length (a non-finite residual is stored as inf).
    """
    caps = np.asarray(max_iters)
    if caps.ndim != 1 or caps.size == 0 or np.any(caps < 1) or np.any(np.diff(caps) <= 0):
        raise ValueError("max_iters must be a non-empty increasing sequence of positive ints")
    its, work, res = [], [], []
    for k in caps:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = fixed_point(W, X, f, method=method, max_iter=int(k), on_fail="ignore", **kwargs)
        its.append(out.iterations)
        work.append(out.work)
        res.append(out.residual if np.isfinite(out.residual) else np.inf)
        if out.converged:
            break
    return Result(iterations=np.asarray(its), work=np.asarray(work, dtype=float),
                  residual=np.asarray(res, dtype=float))


def plot_solver_convergence(histories, tol=None, xscale="linear"):
    """Residual vs iterations (left) and vs work in GEMM equivalents (right).

    Parameters
    ----------
    histories : dict of str -> Result
        Label -> output of :func:`fixed_point_residual_history`.
    tol : float, optional
        Draw the tolerance as a dashed line.
    xscale : {"linear", "log"}
        Scale of both x axes; "log" keeps a method that converges in a few iterations
        (Newton) visible beside one that needs hundreds.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if xscale not in ("linear", "log"):
        raise ValueError(f"xscale must be 'linear' or 'log', not {xscale!r}")
    if not isinstance(histories, dict) or not histories:
        raise TypeError("histories must be a non-empty dict {label: residual history}")
    fig, axes = new_figure(2)
    for k, (label, h) in enumerate(histories.items()):
        color = METHOD_COLORS.get(label.split()[0], f"C{k}")
        res = np.minimum(h.residual, 1e6)
        for ax, x in zip(axes, (h.iterations, h.work), strict=True):
            ax.semilogy(x, res, "o-", ms=3, color=color, label=label)
    for ax, xl in zip(axes, ("iterations", "work (GEMM equivalents)"), strict=True):
        if tol is not None:
            ax.axhline(tol, color="k", ls="--", lw=0.8)
        ax.set_xscale(xscale)
        ax.set_xlabel(xl + (" (log scale)" if xscale == "log" else ""))
        ax.set_ylabel(r"residual $\max|r - f(Wr+x)|$")
    axes[0].legend(fontsize=8)
    return fig


def plot_eigenvalue_cloud(eigenvalues, rho=None, ax=None, title=None):
    """Eigenvalues in the complex plane with the radius-rho circle and the Re = 1 line.

    Parameters
    ----------
    eigenvalues : array_like of complex, shape (n,)
    rho : float, optional
        Radius of the circular-law disc to draw.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    lam = np.ravel(np.asarray(eigenvalues, dtype=complex))
    if ax is None:
        fig, ax = new_figure(1, width=3.6, height=3.4)
    else:
        fig = ax.figure
    unstable = lam.real >= 1
    ax.plot(lam.real[~unstable], lam.imag[~unstable], ".", ms=3, color="C0")
    ax.plot(lam.real[unstable], lam.imag[unstable], ".", ms=5, color="C3")
    if rho is not None:
        th = np.linspace(0, 2 * np.pi, 200)
        ax.plot(rho * np.cos(th), rho * np.sin(th), "k-", lw=0.8, label=fr"$|\lambda| = {rho:g}$")
    ax.axvline(1.0, color="C3", ls="--", lw=1, label=r"Re $\lambda = 1$")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(r"Re $\lambda$")
    ax.set_ylabel(r"Im $\lambda$")
    ax.legend(fontsize=7, loc="upper left")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_rho_explorer(rho=0.8, N=200, seed=0, n_neurons=5, steps=400, h=0.05, f="tanh",
                      input_scale=0.5):
    """Eigenvalues of W = rho N(0,1)/sqrt(N) (left) and a few neurons' r(t) (right).

    The network is simulated by forward Euler (``fpnotes.simulate``) from r = 0 with a
    fixed random input; time is in units of tau.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not rho > 0:
        raise ValueError(f"rho must be positive, got {rho}")
    rng = np.random.default_rng(seed)
    W = random_weights(N, 1.0, rng) * rho
    x = input_scale * rng.standard_normal(N)
    fig, axes = new_figure(2, width=3.8)
    plot_eigenvalue_cloud(np.linalg.eigvals(W), rho=rho, ax=axes[0],
                          title=fr"eigenvalues of $W$, $\rho = {rho:.2f}$")
    traj = simulate(W, x, f, steps=steps, h=h)
    t = h * np.arange(steps + 1)
    axes[1].plot(t, traj[:, :n_neurons], lw=1)
    axes[1].set_xlabel(r"time ($t/\tau$)")
    axes[1].set_ylabel(r"rate $r_k(t)$")
    axes[1].set_title(f"{n_neurons} of {N} neurons", fontsize=10)
    return fig


def interactive_rho_explorer(rho=0.8, **fixed):
    """:func:`plot_rho_explorer` with a slider for rho (ipywidgets)."""
    import ipywidgets as widgets

    slider = widgets.FloatSlider(value=rho, min=0.1, max=3.0, step=0.05, description="rho")
    return interactive(plot_rho_explorer, rho=slider, **{k: widgets.fixed(v) for k, v in
                                                         fixed.items()})

"""Figures of chapter 5: the metric behind dW3 in a two-dimensional slice of weight space.

The slice is a two-neuron linear network (gain 1) whose two self-weights are free,

    W(a, b) = [[a, c], [c, b]] = W_base + a E1 + b E2,

with a fixed coupling c between the neurons. Each of the two input patterns drives one neuron
(X = x I) and the targets are the fixed points of W(a*, b*), so the loss is zero there.
For c = 0 the problem splits into two one-neuron problems and every rule keeps W diagonal, so
all three rules (dW1, dW2, dW3) can be run exactly inside the slice.

* :func:`metric_slice_task` -- the slice and its data;
* :func:`slice_metric` -- the 2x2 matrix of the metric ||U||_W = ||A U A||_F in the slice;
* :func:`slice_gradients` -- Euclidean and metric gradients in slice coordinates;
* :func:`slice_rule_path` -- the path of a learning rule, in slice coordinates;
* :func:`plot_metric_slice` / :func:`interactive_metric_slice` -- loss contours, unit balls and
  gradient directions.
"""

from __future__ import annotations

import numpy as np

from .._result import Result
from ..gradients import euclidean_gradient
from ..landscape import linear_loss, loss_on_plane
from ..losses import squared_error
from ..rules import metric, reparameterized_map, update
from .core import RULE_COLORS, RULE_LABELS, interactive, new_figure

__all__ = ["metric_slice_task", "slice_metric", "slice_gradients", "slice_rule_path",
           "plot_metric_slice", "interactive_metric_slice"]


def _number(name, value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def metric_slice_task(coupling=0.5, target=(0.5, 0.3), x=1.0):
    """The two-neuron slice W(a, b) = [[a, c], [c, b]] and its data.

    Parameters
    ----------
    coupling : float
        The fixed off-diagonal weight c.
    target : (float, float)
        (a*, b*): the targets are the fixed points of W(a*, b*), which must be invertible
        (I - W(a*, b*) nonsingular).
    x : float
        Input strength: X = x I (pattern i drives neuron i).

    Returns
    -------
    Result with ``W_base`` (2, 2), ``E1``, ``E2`` (2, 2) (orthonormal directions), ``X`` (2, 2),
    ``Y`` (2, 2), ``W_star`` (2, 2), ``target`` (2,), ``coupling``, ``f`` ("linear").
    """
    c, x = _number("coupling", coupling), _number("x", x)
    t = np.asarray(target, dtype=np.float64)
    if t.shape != (2,) or not np.all(np.isfinite(t)):
        raise ValueError(f"target must be two finite numbers (a*, b*), got {target!r}")
    W_base = np.array([[0.0, c], [c, 0.0]])
    E1, E2 = np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 1.0]])
    W_star = W_base + t[0] * E1 + t[1] * E2
    X = x * np.eye(2)
    if abs(np.linalg.det(np.eye(2) - W_star)) < 1e-12:
        raise ValueError("I - W(a*, b*) is singular: the target lies on a pole")
    Y = np.linalg.solve(np.eye(2) - W_star, X)
    return Result(W_base=W_base, E1=E1, E2=E2, X=X, Y=Y, W_star=W_star, target=t,
                  coupling=c, f="linear")


def _directions(E1, E2, N):
    E = np.stack([np.asarray(E1, dtype=np.float64), np.asarray(E2, dtype=np.float64)])
    if E.shape != (2, N, N):
        raise ValueError(f"E1 and E2 must have shape ({N}, {N}), got {E.shape[1:]}")
    return E


def slice_metric(W, E1, E2, f="linear"):
    """The metric of dW3 restricted to the plane spanned by E1, E2 at W.

    g_jk = <E_j, M(E_k)>_F = <A E_j A, A E_k A>_F with A = (G^-1 - W)^-1, so a change
    U = u1 E1 + u2 E2 has squared length u^T g u = ||A U A||_F^2.

    Parameters
    ----------
    W : array_like, shape (N, N)
    E1, E2 : array_like, shape (N, N)
    f : str or Activation (linear)

    Returns
    -------
    ndarray, shape (2, 2), symmetric positive definite
    """
    W = np.asarray(W, dtype=np.float64)
    E = _directions(E1, E2, W.shape[0])
    ME = [metric(W, Ek, f) for Ek in E]
    g = np.array([[np.vdot(E[j], ME[k]) for k in range(2)] for j in range(2)])
    return 0.5 * (g + g.T)


def slice_gradients(W, E1, E2, X, Y, f="linear"):
    """Euclidean and metric (dW3) gradients of the squared-error loss, in slice coordinates.

    With the Euclidean Gram matrix h_jk = <E_j, E_k> and the partial derivatives
    d_j = <grad_W L, E_j>, the Euclidean gradient in the slice is h^-1 d and the metric
    gradient g^-1 d (g from :func:`slice_metric`). Steepest descent moves against them.

    Parameters
    ----------
    W : array_like, shape (N, N)
    E1, E2 : array_like, shape (N, N)
    X, Y : array_like, shape (N, m)
        Inputs and targets.

    Returns
    -------
    Result with ``loss`` (float), ``partial`` (2,), ``euclidean`` (2,), ``metric`` (2,).
    """
    W = np.asarray(W, dtype=np.float64)
    E = _directions(E1, E2, W.shape[0])
    A = reparameterized_map(W, f)
    R = A @ np.asarray(X, dtype=np.float64)
    out = squared_error(R, Y)
    grad = euclidean_gradient(W, X, R, out.delta, f)
    d = np.array([np.vdot(grad, Ek) for Ek in E])
    h = np.array([[np.vdot(E[j], E[k]) for k in range(2)] for j in range(2)])
    g = slice_metric(W, E[0], E[1], f)
    return Result(loss=out.loss, partial=d, euclidean=np.linalg.solve(h, d),
                  metric=np.linalg.solve(g, d))


def _coords(W, task):
    D = W - task.W_base
    return np.array([np.vdot(D, task.E1), np.vdot(D, task.E2)])


def slice_rule_path(task, rule, start, lr, n_iter):
    """Run a learning rule from W(start) and record where it goes, in slice coordinates.

    The rule acts on the whole 2x2 matrix W (``fpnotes.update``); the path is the projection
    onto the slice and ``off_slice`` measures how far W leaves it (zero for coupling 0).

    Parameters
    ----------
    task : Result from :func:`metric_slice_task`
    rule : {"dW1", "dW2", "dW3"}
    start : (float, float)
        Initial (a, b).
    lr : float
    n_iter : int

    Returns
    -------
    Result with ``coords`` (K, 2), ``loss`` (K,), ``off_slice`` (K,) and ``diverged`` (bool);
    K = n_iter + 1 unless the run left the stable region or produced a non-finite step.
    """
    s = np.asarray(start, dtype=np.float64)
    if s.shape != (2,):
        raise ValueError(f"start must be two numbers (a, b), got {start!r}")
    W = task.W_base + s[0] * task.E1 + s[1] * task.E2
    coords, losses, off = [], [], []
    diverged = False
    for it in range(int(n_iter) + 1):
        c = _coords(W, task)
        coords.append(c)
        off.append(float(np.linalg.norm(W - task.W_base - c[0] * task.E1 - c[1] * task.E2)))
        losses.append(linear_loss(W, task.X, task.Y))
        if it == n_iter:
            break
        if not np.isfinite(losses[-1]) or np.linalg.eigvals(W).real.max() >= 1:
            diverged = True
            break
        R = reparameterized_map(W) @ task.X
        with np.errstate(all="ignore"):
            W_new = update(rule, W, task.X, R, squared_error(R, task.Y).delta, "linear", lr)
        if not np.all(np.isfinite(W_new)):
            diverged = True
            break
        W = W_new
    return Result(coords=np.array(coords), loss=np.array(losses), off_slice=np.array(off),
                  diverged=diverged)


def _ellipse(g, radius, n=120):
    theta = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(theta), np.sin(theta)])
    L = np.linalg.cholesky(g)
    return radius * np.linalg.solve(L.T, circle)  # u with u^T g u = radius^2


def plot_metric_slice(a=-0.4, b=-0.6, *, coupling=0.5, target=(0.5, 0.3), points=None,
                      radius=0.25, paths=None, a_range=(-1.5, 2.0), b_range=(-1.5, 2.0),
                      n_grid=161, ax=None):
    """Loss contours in the slice W(a, b), with Euclidean and metric unit balls and gradients.

    At each point the grey circle is the Euclidean ball ||U||_F = radius and the colored
    ellipse the metric ball ||A U A||_F = radius; the arrows (length ``radius``) point along
    the negative Euclidean gradient (dW1's direction, red) and the negative metric gradient
    (dW3's direction, green). The hatched region is where the fixed point is unstable
    (max Re lambda(W) >= 1); the dashed curve is the pole set det(I - W) = 0.

    Parameters
    ----------
    a, b : float
        The point drawn when ``points`` is None.
    coupling : float
        Off-diagonal weight c of the slice (:func:`metric_slice_task`).
    target : (float, float)
        (a*, b*), marked with a star.
    points : sequence of (a, b), optional
        Several points at once.
    radius : float
        Radius of the balls (in weight units).
    paths : dict, optional
        ``{rule: (K, 2) array}`` of learning paths to draw (e.g. from :func:`slice_rule_path`).
    a_range, b_range : (float, float)
    n_grid : int
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    task = metric_slice_task(coupling, target)
    radius = _number("radius", radius)
    pts = [(a, b)] if points is None else list(points)
    ta, tb = np.linspace(*a_range, int(n_grid)), np.linspace(*b_range, int(n_grid))
    try:
        plane = loss_on_plane(task.W_base, task.E1, task.E2, ta, tb, task.X, task.Y)
    except np.linalg.LinAlgError:  # a grid point sits exactly on a pole: nudge the grid
        ta, tb = ta + 1e-7 * np.pi, tb + 1e-7 * np.e
        plane = loss_on_plane(task.W_base, task.E1, task.E2, ta, tb, task.X, task.Y)
    if ax is None:
        fig, ax = new_figure(width=5.2, height=5.0)
    else:
        fig = ax.figure
    logL = np.log10(np.clip(plane.loss, 1e-3, 1e4))
    levels = np.arange(-3, 4.25, 0.5)
    cs = ax.contourf(ta, tb, logL, levels=levels, cmap="Greys_r", alpha=0.6)
    ax.contour(ta, tb, logL, levels=levels, colors="0.45", linewidths=0.4)
    fig.colorbar(cs, ax=ax, label="$\\log_{10}$ loss", shrink=0.8)
    ax.contourf(ta, tb, (~plane.stable).astype(float), levels=[0.5, 1.5], colors="none",
                hatches=["//"])
    AA, BB = np.meshgrid(ta, tb)
    det = (1 - AA) * (1 - BB) - task.coupling ** 2
    ax.contour(ta, tb, det, levels=[0.0], colors="k", linestyles="--", linewidths=1)
    ax.plot(*task.target, "*", color="gold", ms=14, mec="k", zorder=5)
    theta = np.linspace(0, 2 * np.pi, 120)
    for p in pts:
        p = np.array([_number("a", p[0]), _number("b", p[1])])
        W = task.W_base + p[0] * task.E1 + p[1] * task.E2
        if abs(np.linalg.det(np.eye(2) - W)) < 1e-9:
            ax.plot(*p, "x", color="k")
            continue
        ax.plot(p[0] + radius * np.cos(theta), p[1] + radius * np.sin(theta), color="0.35",
                lw=1)
        ell = _ellipse(slice_metric(W, task.E1, task.E2), radius)
        ax.fill(p[0] + ell[0], p[1] + ell[1], color=RULE_COLORS["dW3"], alpha=0.35, lw=0)
        ax.plot(p[0] + ell[0], p[1] + ell[1], color=RULE_COLORS["dW3"], lw=1.2)
        grads = slice_gradients(W, task.E1, task.E2, task.X, task.Y)
        for key, rule in (("euclidean", "dW1"), ("metric", "dW3")):
            v = -grads[key]
            nv = np.linalg.norm(v)
            if nv > 0:
                v = radius * v / nv
                ax.annotate("", xy=p + v, xytext=p, arrowprops=dict(
                    arrowstyle="-|>", color=RULE_COLORS[rule], lw=1.8))
        ax.plot(*p, "o", color="k", ms=3)
    for rule, path in (paths or {}).items():
        path = np.asarray(path, dtype=np.float64)
        ax.plot(path[:, 0], path[:, 1], ".-", color=RULE_COLORS.get(rule, "k"), ms=3, lw=1.2,
                label=RULE_LABELS.get(rule, rule))
    if paths:
        ax.legend(fontsize=8, loc="upper left")
    ax.set(xlim=a_range, ylim=b_range, xlabel="$a = W_{11}$", ylabel="$b = W_{22}$",
           title=f"slice $W = [[a, {task.coupling:g}], [{task.coupling:g}, b]]$")
    ax.set_aspect("equal")
    return fig


def interactive_metric_slice(coupling=0.5):
    """Sliders for the point (a, b) of :func:`plot_metric_slice` (and the ball radius)."""
    import ipywidgets as widgets

    return interactive(
        plot_metric_slice,
        a=widgets.FloatSlider(value=-0.4, min=-1.4, max=1.9, step=0.05, description="a"),
        b=widgets.FloatSlider(value=-0.6, min=-1.4, max=1.9, step=0.05, description="b"),
        radius=widgets.FloatSlider(value=0.25, min=0.05, max=0.6, step=0.05,
                                   description="radius"),
        coupling=widgets.fixed(coupling))

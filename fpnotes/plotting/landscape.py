"""Figures of Chapter 3: the one-neuron pole, loss along lines and planes, lines in A."""

from __future__ import annotations

import numpy as np

from .core import interactive, new_figure

__all__ = ["one_neuron_loss", "one_neuron_iterates", "plot_one_neuron",
           "interactive_one_neuron", "plot_loss_along_line", "plot_loss_on_plane",
           "plot_loss_in_A"]


def _check_one_neuron(g, x):
    if not (np.isscalar(g) and g > 0):
        raise ValueError(f"gain g must be a positive number, got {g!r}")
    if not (np.isscalar(x) and x != 0):
        raise ValueError(f"input x must be a non-zero number, got {x!r}")


def one_neuron_loss(w, target, g=1.0, x=1.0):
    """Loss (r - target)^2 of one linear neuron r = g x / (1 - g w); inf at the pole.

    Parameters
    ----------
    w : float or array_like, shape (k,)
    target, g, x : float

    Returns
    -------
    float or ndarray, shape like ``w``
    """
    _check_one_neuron(g, x)
    w = np.asarray(w, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = g * x / (1 - g * w)
        loss = (r - target) ** 2
    return np.where(np.isfinite(loss), loss, np.inf)[()]


def one_neuron_iterates(w0, target, lr, g=1.0, x=1.0, n_steps=30):
    """Gradient descent on the one-neuron loss: w <- w - lr dL/dw.

    dL/dw = 2 (r - target) r g / (1 - g w). Iteration stops early if w becomes
    non-finite or lands on the pole.

    Returns
    -------
    ndarray, shape (k,), k <= n_steps + 1
        The iterates w_0, w_1, ...
    """
    _check_one_neuron(g, x)
    if not (isinstance(n_steps, (int, np.integer)) and n_steps >= 0):
        raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}")
    ws = [float(w0)]
    w = float(w0)
    with np.errstate(all="ignore"):
        for _ in range(n_steps):
            r = g * x / (1 - g * w)
            w = w - lr * 2 * (r - target) * r * g / (1 - g * w)
            if not np.isfinite(w):
                break
            ws.append(w)
    return np.asarray(ws)


def plot_one_neuron(target=2.0, lr=0.05, g=1.0, x=1.0, w0s=(0.2, 1.6), n_steps=20,
                    wlim=(-1.5, 3.0)):
    """The one-neuron loss with its pole at w = 1/g and gradient-descent iterates.

    Parameters
    ----------
    target : float
        Target rate r-hat.
    lr : float
        Learning rate.
    g, x : float
        Gain and input.
    w0s : sequence of float
        Starting weights (one trajectory each).
    n_steps : int
    wlim : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = new_figure(1, width=5.0, height=3.4)
    w = np.linspace(*wlim, 1201)
    loss = one_neuron_loss(w, target, g, x)
    ax.semilogy(w, loss + 1e-6, "k-", lw=1)
    ax.axvline(1 / g, color="C3", ls="--", lw=1, label=fr"pole $w = 1/g = {1 / g:g}$")
    w_star = 1 / g - x / target if target != 0 else None
    if w_star is not None:
        ax.axvline(w_star, color="C2", ls=":", lw=1, label=r"minimum $w^*$")
    for k, w0 in enumerate(w0s):
        ws = one_neuron_iterates(w0, target, lr, g, x, n_steps)
        inside = (ws > wlim[0]) & (ws < wlim[1])
        ax.plot(ws[inside], one_neuron_loss(ws[inside], target, g, x) + 1e-6, "o-", ms=4,
                color=f"C{k}", alpha=0.8, label=f"start $w_0 = {w0:g}$")
    ax.set_ylim(1e-6, 1e4)
    ax.set_xlim(*wlim)
    ax.set_xlabel("$w$")
    ax.set_ylabel(r"$(r - \hat r)^2$")
    ax.set_title(fr"$\hat r = {target:g}$, $\eta = {lr:g}$", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def interactive_one_neuron(target=2.0, lr=0.05, **fixed):
    """:func:`plot_one_neuron` with sliders for the target and the learning rate."""
    import ipywidgets as widgets

    return interactive(
        plot_one_neuron,
        target=widgets.FloatSlider(value=target, min=-3.0, max=5.0, step=0.1,
                                   description="target"),
        lr=widgets.FloatLogSlider(value=lr, base=10, min=-3, max=0, step=0.1, description="lr"),
        **{k: widgets.fixed(v) for k, v in fixed.items()})


def _stable_spans(t, stable):
    spans, start = [], None
    for k, s in enumerate(stable):
        if s and start is None:
            start = k
        if (not s or k == len(stable) - 1) and start is not None:
            end = k if s else k - 1
            spans.append((t[start], t[end]))
            start = None
    return spans


def plot_loss_along_line(line, ax=None, label=None):
    """Loss J(W* + t W1) on a log scale with the stable region shaded.

    Parameters
    ----------
    line : Result
        Output of :func:`fpnotes.loss_along_line` (``t``, ``loss``, ``stable``).
    ax : matplotlib Axes, optional
    label : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if ax is None:
        fig, ax = new_figure(1, width=5.0)
    else:
        fig = ax.figure
    t, loss, stable = np.asarray(line.t), np.asarray(line.loss), np.asarray(line.stable)
    for a, b in _stable_spans(t, stable):
        ax.axvspan(a, b, color="C2", alpha=0.15, lw=0)
    ax.semilogy(t, loss, "k-", lw=0.8, label=label)
    ax.set_xlabel("$t$")
    ax.set_ylabel(r"$J(W^* + t W_1)$")
    ax.set_title("shaded: stable ($\\max$ Re $\\lambda(W) < 1$)", fontsize=9)
    return fig


def plot_loss_on_plane(plane):
    """log10 J on a plane W* + a W1 + b W2, with the boundary of the stable region.

    Parameters
    ----------
    plane : Result
        Output of :func:`fpnotes.loss_on_plane`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = new_figure(1, width=4.8, height=3.8)
    logj = np.log10(np.clip(plane.loss, 1e-300, 1e300))
    vmin = np.nanmin(logj)
    im = ax.pcolormesh(plane.t1, plane.t2, logj, shading="auto", cmap="magma",
                       vmin=vmin, vmax=vmin + 6)
    ax.contour(plane.t1, plane.t2, plane.stable.astype(float), levels=[0.5], colors="c",
               linewidths=1.2)
    fig.colorbar(im, ax=ax, label=r"$\log_{10} J$")
    ax.set_xlabel("$t_1$")
    ax.set_ylabel("$t_2$")
    ax.set_title("cyan: boundary of the stable region", fontsize=9)
    return fig


def plot_loss_in_A(line_A, ax=None):
    """Loss along a line A* + t A1 in the reparameterized coordinates (a parabola).

    Parameters
    ----------
    line_A : Result
        Output of :func:`fpnotes.loss_along_line_in_A`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if ax is None:
        fig, ax = new_figure(1, width=4.4)
    else:
        fig = ax.figure
    ax.plot(line_A.t, line_A.loss, "k-", lw=1)
    ax.set_xlabel("$t$")
    ax.set_ylabel(r"$J$ along $A^* + t A_1$")
    return fig

"""Figures of chapter 4: reparameterizing the network (W -> A = (G^-1 - W)^-1).

* :func:`plot_reparam_one_neuron` -- the one-neuron loss in w (a pole) and in a (a parabola);
* :func:`plot_rule_comparison_curves` -- learning curves of several rules, one panel per rule;
* :func:`plot_update_angles` -- angles between the updates of two rules over training;
* :func:`plot_final_eigenvalues` -- eigenvalues of W after training, one panel per rule.
"""

from __future__ import annotations

import numpy as np

from ..landscape import loss_along_line, loss_along_line_in_A
from .core import RULE_COLORS, RULE_LABELS, lr_colors, new_figure

__all__ = ["plot_reparam_one_neuron", "plot_rule_comparison_curves", "plot_update_angles",
           "plot_final_eigenvalues"]


def _positive(name, value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def plot_reparam_one_neuron(x=1.0, y=2.0, w_range=(-3.0, 3.0), n=801, ymax=10.0):
    """The loss of a one-neuron linear network in w and in a = 1/(1 - w).

    The fixed point of r = w r + x is r = x / (1 - w) = a x, and the loss is
    J = (r - y)^2: a pole at w = 1 in the left panel, a parabola in a in the right one.

    Parameters
    ----------
    x, y : float
        Input and target (x > 0, y > 0).
    w_range : (float, float)
        Range of w in the left panel.
    n : int
        Number of grid points per panel.
    ymax : float
        Upper limit of the loss axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x, y, ymax = _positive("x", x), _positive("y", y), _positive("ymax", ymax)
    X, Y = np.array([[x]]), np.array([[y]])
    w = np.linspace(*w_range, int(n))
    out = loss_along_line(np.zeros((1, 1)), np.ones((1, 1)), w, X, Y)
    a_star = y / x
    a = np.linspace(-0.5 * a_star, 2.5 * a_star, int(n))
    inA = loss_along_line_in_A(np.zeros((1, 1)), np.ones((1, 1)), a, X, Y)
    fig, (ax1, ax2) = new_figure(2)
    loss = np.where(np.abs(w - 1) < 1e-9, np.nan, out.loss)
    for side in (w < 1, w > 1):
        ax1.plot(w[side], loss[side], color="k")
    ax1.axvline(1.0, color="0.5", ls="--", lw=1)
    ax1.axvspan(1.0, w_range[1], color="0.9", zorder=0)
    ax1.plot([1 - 1 / a_star], [0], "o", color=RULE_COLORS["dW2"])
    ax1.set(xlabel="weight $w$", ylabel="loss $J$", ylim=(-0.04 * ymax, ymax),
            title="in $w$: a pole at $w = 1$")
    ax2.plot(a, inA.loss, color="k")
    ax2.plot([a_star], [0], "o", color=RULE_COLORS["dW2"])
    ax2.set(xlabel="$a = 1/(1-w)$", ylabel="loss $J$", ylim=(-0.04 * ymax, ymax),
            title="in $a$: a parabola")
    return fig


def _result_loss(res):
    """(iterations, losses) of a TrainResult, a stored run or a plain array of losses."""
    if hasattr(res, "history"):
        loss = np.asarray(res.history.loss, dtype=np.float64)
        return np.asarray(res.history.get("iteration", np.arange(loss.size))), loss
    loss = np.asarray(res, dtype=np.float64)
    return np.arange(loss.size), loss


def plot_rule_comparison_curves(results, rules=None, lrs=None, *, floor=1e-32, marks=(1e-9,),
                                sharey=True):
    """Learning curves of several rules, one panel per rule, one line per learning rate.

    Parameters
    ----------
    results : dict
        ``{(rule, lr): run}`` with a TrainResult, a stored sweep run converted by
        :func:`fpnotes.sweep.as_train_result`, or a 1-D array of losses.
    rules, lrs : sequence, optional
        Which rules (panels) and rates (lines); default: all keys, in sorted order.
    floor : float
        Losses below it are drawn at it (log scale).
    marks : sequence of float
        Horizontal reference lines.
    sharey : bool
        One loss axis for all panels (default); False gives each panel its own range, so
        that a rule whose losses span a few decades is not flattened by one spanning thirty.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(results, dict) or not results:
        raise TypeError("results must be a non-empty dict {(rule, lr): TrainResult}")
    rules = list(rules) if rules is not None else sorted({k[0] for k in results})
    lrs = list(lrs) if lrs is not None else sorted({k[1] for k in results})
    fig, axes = new_figure(len(rules), width=3.6, sharey=sharey, squeeze=False)
    colors = lr_colors(lrs)
    for ax, rule in zip(axes[0], rules, strict=True):
        for lr, c in zip(lrs, colors, strict=True):
            if (rule, lr) not in results:
                continue
            it, loss = _result_loss(results[(rule, lr)])
            ax.semilogy(it, np.maximum(loss, floor), color=c, label=f"$\\eta$ = {lr:g}")
        own = ax.get_ylim()
        for mark in marks:
            ax.axhline(mark, color="0.6", ls=":", lw=1)
        ax.set(xlabel="iteration", title=RULE_LABELS.get(rule, rule))
        if not sharey:  # the panel's range is its data's; marks outside it are not drawn
            ax.set_ylim(own)
            ax.set_ylabel("loss")
    axes[0, 0].set_ylabel("loss")
    axes[0, -1].legend(fontsize=8, loc="lower left")
    return fig


def _angles(label, values):
    if hasattr(values, "history"):
        if "angle" not in values.history:
            raise ValueError(f"angles[{label!r}] is a run without recorded angles "
                             "(train it with compare=...)")
        return values.history.iteration, np.asarray(values.history.angle, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"angles[{label!r}] must be 1-D, got shape {v.shape}")
    return np.arange(v.size), v


def plot_update_angles(angles, *, log=True):
    """Angles (degrees) between the updates of two rules over training.

    Parameters
    ----------
    angles : dict
        ``{label: 1-D array of angles}``, e.g. ``{"dW1 vs dW2": res.history.angle}``
        (drawn against 0, 1, 2, ...), or ``{label: run}`` with a run that recorded
        angles (``compare=...``; drawn against ``run.history.iteration``).
    log : bool
        Also draw a second panel with a logarithmic angle axis (for angles near 0).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(angles, dict) or not angles:
        raise TypeError("angles must be a non-empty dict {label: array of angles}")
    fig, axes = new_figure(2 if log else 1, squeeze=False)
    palette = ["#d62728", "#2ca02c", "#1f77b4", "#ff7f0e"]
    for k, (label, values) in enumerate(angles.items()):
        it, v = _angles(label, values)
        axes[0, 0].plot(it, v, color=palette[k % 4], label=label)
        if log:
            axes[0, 1].semilogy(it, np.maximum(v, 1e-6), color=palette[k % 4], label=label)
    axes[0, 0].set(xlabel="iteration", ylabel="angle (degrees)", ylim=(0, 90))
    axes[0, 0].legend(fontsize=8)
    if log:
        axes[0, 1].set(xlabel="iteration", ylabel="angle (degrees, log scale)",
                       ylim=(1e-6, 100))
    return fig


def plot_final_eigenvalues(weights, W0=None):
    """Eigenvalues of W in the complex plane, one panel per rule, with the line Re = 1.

    Parameters
    ----------
    weights : dict
        ``{rule: W (N, N)}`` (e.g. the final weights of training runs).
    W0 : array_like, shape (N, N), optional
        Initial weights, drawn in grey in every panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(weights, dict) or not weights:
        raise TypeError("weights must be a non-empty dict {rule: W}")
    fig, axes = new_figure(len(weights), width=3.3, height=3.3, squeeze=False)
    ev0 = None if W0 is None else np.linalg.eigvals(np.asarray(W0, dtype=np.float64))
    evs = [np.linalg.eigvals(np.asarray(W, dtype=np.float64)) for W in weights.values()
           if np.ndim(W) == 2 and np.shape(W)[0] == np.shape(W)[1]]
    every = np.concatenate(evs + ([ev0] if ev0 is not None else []))
    half = 1.1 * max(np.abs(every.imag).max(), 1.0 - every.real.min(), every.real.max() - 1.0,
                     0.2) / 2 + 0.05
    lim = (min(every.real.min(), 1.0) - 0.1, max(every.real.max(), 1.0) + 0.1)
    half = max(half, (lim[1] - lim[0]) / 2)
    center = (lim[0] + lim[1]) / 2
    for ax, (rule, W) in zip(axes[0], weights.items(), strict=True):
        W = np.asarray(W, dtype=np.float64)
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"weights[{rule!r}] must be square, got shape {W.shape}")
        if ev0 is not None:
            ax.plot(ev0.real, ev0.imag, ".", color="0.75", ms=4, label="initial W")
        ev = np.linalg.eigvals(W)
        if ev.size == 0:
            raise ValueError(f"weights[{rule!r}] is empty")
        ax.plot(ev.real, ev.imag, ".", color=RULE_COLORS.get(rule, "k"), ms=5, label=rule)
        ax.axvline(1.0, color="k", ls="--", lw=1)
        ax.set(xlabel="Re $\\lambda$", title=f"{rule}: max Re $\\lambda$ = {ev.real.max():.2f}")
        ax.set(xlim=(center - half, center + half), ylim=(-half, half))
        ax.set_aspect("equal", adjustable="box")
        ax.legend(fontsize=7, loc="lower left")
    axes[0, 0].set_ylabel("Im $\\lambda$")
    return fig

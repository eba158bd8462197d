"""Figures of Chapter 6's MNIST replication, drawn from stored sweep records.

The numbers come from :mod:`fpnotes.replication`; each function returns a Figure.
"""

from __future__ import annotations

import numpy as np

from ..replication import PAPER_MNIST, curves
from .core import RULE_COLORS, RULE_LABELS, lr_colors, new_figure

__all__ = ["plot_replication_curves", "plot_accuracy_vs_rate", "plot_eigenvalue_clouds"]


def _rates(records, rule):
    return sorted({r["config"]["lr"] for r in records if r and r["config"]["rule"] == rule})


def plot_replication_curves(records, *, field="test_accuracies", iterations="test_iterations",
                            ylabel="test accuracy", rules=("dW1", "dW3"), stability_line=False,
                            ylim=None):
    """One panel per rule: a recorded trace over training, median and range over seeds.

    Parameters
    ----------
    records : list of dict
        Stored runs (:func:`fpnotes.sweep.load_results`).
    field, iterations : str
        The trace and its iterations in the stored results, e.g. ``"max_real_eigs"``
        and ``"eig_iterations"`` for max Re lambda(W).
    ylabel : str
    rules : tuple of str
    stability_line : bool
        Draw the line at 1 (for max Re lambda(W)).
    ylim : tuple, optional

    Returns
    -------
    matplotlib.figure.Figure
        A line per learning rate (light: small, dark: large), its median over seeds,
        with the range shaded; a line ends where the last seed's run stopped.
    """
    records = [r for r in records if r is not None]
    fig, axes = new_figure(len(rules), 1, width=4.4, height=3.3, sharey=True)
    axes = np.atleast_1d(axes)
    for ax, rule in zip(axes, rules, strict=True):
        lrs = _rates(records, rule)
        for lr, color in zip(lrs, lr_colors(lrs), strict=True):
            c = curves(records, rule, lr, field, iterations)
            if not c.iteration.size:
                continue
            ax.plot(c.iteration, c.median, color=color, lw=1.6, label=f"η = {lr:g}")
            ax.fill_between(c.iteration, c.low, c.high, color=color, alpha=0.2, lw=0)
        if stability_line:
            ax.axhline(1.0, color="k", ls="--", lw=1)
        ax.set(xlabel="update", title=RULE_LABELS.get(rule, rule))
        ax.legend(fontsize=7, ncol=2 if len(lrs) > 4 else 1)
    axes[0].set_ylabel(ylabel)
    if ylim is not None:
        axes[0].set_ylim(*ylim)
    return fig


def plot_accuracy_vs_rate(summary, *, paper=PAPER_MNIST, field="accuracy"):
    """Test accuracy against learning rate for both rules on one axis.

    Parameters
    ----------
    summary : dict from :func:`fpnotes.replication.rate_summary`
    paper : dict, optional
        The paper's ``{(rule, lr): (last-10 mean, best, max Re lambda)}``, drawn as open
        markers (its last-10 mean); None to leave out.
    field : str
        ``"accuracy"`` or ``"best_accuracy"``.

    Returns
    -------
    matplotlib.figure.Figure
        Per rule, the median over seeds (filled markers and line) with the range as an
        error bar; a cross beside the rates where some run lost its fixed point.
    """
    fig, ax = new_figure(width=5.6, height=3.6)
    rules = sorted({rule for rule, _ in summary})
    for rule in rules:
        color = RULE_COLORS.get(rule, "k")
        keys = [k for k in summary if k[0] == rule]
        lrs = np.array([k[1] for k in keys])
        med = np.array([summary[k][field] for k in keys])
        lo = med - np.array([summary[k][f"{field}_min"] for k in keys])
        hi = np.array([summary[k][f"{field}_max"] for k in keys]) - med
        ax.errorbar(lrs, med, yerr=[lo, hi], fmt="o-", color=color, capsize=3, ms=5,
                    label=f"{rule} here (median, range over seeds)")
        lost = [k for k in keys if summary[k].lost]
        if lost:
            ax.plot([k[1] for k in lost], [summary[k][field] for k in lost], "x", color="k",
                    ms=9, mew=1.8, zorder=5)
        if paper:
            pk = sorted(k for k in paper if k[0] == rule)
            ax.plot([k[1] for k in pk], [paper[k][0] for k in pk], "s--", mfc="none",
                    color=color, alpha=0.8, ms=6, lw=1, label=f"{rule} paper (last 10 updates)")
    if any(row.lost for row in summary.values()):
        ax.plot([], [], "x", color="k", ms=8, mew=1.8, label="some seed lost its fixed point")
    ax.set(xscale="log", xlabel="learning rate $\\eta$", ylim=(0, 1),
           ylabel="test accuracy" if field == "accuracy" else "best test accuracy")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_eigenvalue_clouds(records, *, titles=None):
    """The eigenvalues of the final W of a few stored runs, one panel each.

    Parameters
    ----------
    records : list of dict
        Stored runs with ``final_eig_real`` and ``final_eig_imag``.
    titles : list of str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Each panel: the eigenvalues, the circle of radius 0.5 that those of W0 fill
        (the circular law), and the line Re lambda = 1.
    """
    fig, axes = new_figure(len(records), 1, width=3.6, height=3.5, sharex=True, sharey=True)
    axes = np.atleast_1d(axes)
    t = np.linspace(0, 2 * np.pi, 200)
    for k, (ax, rec) in enumerate(zip(axes, records, strict=True)):
        c, out = rec["config"], rec["result"]
        re, im = np.array(out["final_eig_real"]), np.array(out["final_eig_imag"])
        ax.plot(0.5 * np.cos(t), 0.5 * np.sin(t), color="0.6", lw=1, label="W0's disc")
        ax.plot(re, im, ".", ms=3, color=RULE_COLORS.get(c["rule"], "k"))
        ax.axvline(1.0, color="k", ls="--", lw=1, label="Re λ = 1")
        ax.set(xlabel="Re λ", aspect="equal",
               title=titles[k] if titles else f"{c['rule']}, η = {c['lr']:g}, seed {c['seed']}")
    axes[0].set_ylabel("Im λ")
    axes[0].legend(fontsize=7, loc="lower left")
    return fig

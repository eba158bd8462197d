"""Learning curves and eigenvalues over training, for any rule and several learning rates.

Every function takes the runs as a dict ``{lr: TrainResult}`` or a list of
TrainResults (each knows its ``lr`` and ``rule``); ``ax`` lets a caller overlay
several rules on the same axes.
"""

from __future__ import annotations

import numpy as np

from .core import RULE_LABELS, lr_colors, new_figure

__all__ = ["plot_learning_curves", "plot_eig_over_training", "plot_training_summary"]


def _runs(results):
    if isinstance(results, dict):
        runs = list(results.items())
    elif isinstance(results, (list, tuple)):
        runs = [(r["lr"], r) for r in results]
    else:
        raise TypeError("results must be a dict {lr: TrainResult} or a list of TrainResults")
    if not runs:
        raise ValueError("results is empty")
    return sorted(runs, key=lambda p: p[0])


def _style(runs, rule, colors, linestyle):
    rule = rule or runs[0][1].get("rule")
    cols = colors if colors is not None else lr_colors([lr for lr, _ in runs])
    return rule, cols, linestyle


def plot_learning_curves(results, rule=None, ax=None, colors=None, linestyle="-",
                         field="loss"):
    """Training loss (log scale) against iteration, one curve per learning rate.

    Parameters
    ----------
    results : dict {lr: TrainResult} or list of TrainResult
    rule : str, optional
        Rule name for the legend (default: read from the results).
    ax : matplotlib Axes, optional
    colors : list, optional
        One color per run (sorted by lr); default :func:`lr_colors`.
    linestyle : str
    field : str
        History field to plot (``"loss"``, ``"accuracy"``, ...); log scale for ``"loss"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    runs = _runs(results)
    rule, cols, ls = _style(runs, rule, colors, linestyle)
    if ax is None:
        fig, ax = new_figure(1, width=4.6)
    else:
        fig = ax.figure
    for (lr, res), c in zip(runs, cols, strict=True):
        y = np.asarray(res.history[field])
        lab = f"{rule} $\\eta={lr:g}$" if rule else f"$\\eta={lr:g}$"
        if res.get("diverged"):
            lab += " (diverged)"
        ax.plot(np.arange(y.size), y, color=c, ls=ls, lw=1.2, label=lab)
    if field == "loss":
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"training {field}")
    if rule in RULE_LABELS:
        ax.set_title(RULE_LABELS[rule], fontsize=10)
    ax.legend(fontsize=7)
    return fig


def plot_eig_over_training(results, rule=None, ax=None, colors=None, linestyle="-"):
    """Largest real part of W's eigenvalues over training, with the line Re = 1.

    Parameters
    ----------
    results : dict {lr: TrainResult} or list of TrainResult
        Runs trained with ``eig_every > 0``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    runs = _runs(results)
    rule, cols, ls = _style(runs, rule, colors, linestyle)
    if ax is None:
        fig, ax = new_figure(1, width=4.6)
    else:
        fig = ax.figure
    for (lr, res), c in zip(runs, cols, strict=True):
        if len(res.eig["iteration"]) == 0:
            raise ValueError(f"run with lr={lr} has no eigenvalue record (use eig_every > 0)")
        lab = f"{rule} $\\eta={lr:g}$" if rule else f"$\\eta={lr:g}$"
        ax.plot(res.eig["iteration"], res.eig["max_real"], color=c, ls=ls, lw=1.2, label=lab)
    ax.axhline(1.0, color="k", ls="--", lw=0.8)
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"$\max$ Re $\lambda(W)$")
    ax.legend(fontsize=7)
    return fig


def plot_training_summary(results, rule=None, colors=None):
    """Learning curves (left) and max Re lambda(W) over training (right) side by side."""
    fig, axes = new_figure(2, width=4.4)
    plot_learning_curves(results, rule, ax=axes[0], colors=colors)
    plot_eig_over_training(results, rule, ax=axes[1], colors=colors)
    axes[1].get_legend().remove()
    return fig

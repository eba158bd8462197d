"""Figures of Chapter 6: training runs on a classification task, and update costs.

Every function takes :class:`fpnotes.training.TrainResult` objects (from
:func:`fpnotes.train` or :func:`fpnotes.bptt_training.train_bptt`) and returns a
matplotlib Figure. Runs that diverged are drawn up to where they stopped and
marked with a cross.
"""

from __future__ import annotations

import numpy as np

from .core import RULE_COLORS, RULE_LABELS, lr_colors, new_figure

__all__ = ["smooth_curve", "plot_classification_runs", "plot_best_runs", "plot_update_cost"]


def smooth_curve(y, window=10):
    """Running mean over ``window`` points (shorter at the start); same length as ``y``.

    Parameters
    ----------
    y : array_like, shape (n,)
    window : int
        Positive window length.

    Returns
    -------
    ndarray, shape (n,)
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if not (isinstance(window, (int, np.integer)) and window >= 1):
        raise ValueError(f"window must be a positive integer, got {window!r}")
    if y.size == 0:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, y.size + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def _check_runs(runs):
    runs = list(runs)
    if not runs:
        raise ValueError("need at least one training run")
    for r in runs:
        if not all(k in r for k in ("history", "eig", "test", "lr", "diverged")):
            raise TypeError("runs must be TrainResult objects from fpnotes.train or train_bptt")
    return runs


def _mark_end(ax, x, y, color):
    if len(x):
        ax.plot(x[-1], y[-1], "x", color=color, ms=9, mew=2.5)


def plot_classification_runs(runs, *, title=None, window=10, stability_line=True):
    """Training loss, test accuracy and max Re lambda(W) over training, one line per run.

    Parameters
    ----------
    runs : sequence of TrainResult
        Typically one rule at several learning rates (colored light to dark by rate).
        Runs with ``eig_every`` and ``eval_every`` set show all three panels.
    title : str, optional
        Figure title (default: the rule's label).
    window : int
        Running-mean window for the minibatch training loss.
    stability_line : bool
        Draw max Re lambda = 1, where the fixed point loses stability.

    Returns
    -------
    matplotlib.figure.Figure
        Three panels; a cross marks where a diverged run stopped.
    """
    runs = _check_runs(runs)
    fig, axes = new_figure(3, 1, width=3.8, height=3.0)
    colors = lr_colors([r.lr for r in runs])
    for run, color in zip(runs, colors, strict=True):
        label = f"η = {run.lr:g}" + (" (diverged)" if run.diverged else "")
        h = run.history
        loss = smooth_curve(h.loss, window)
        axes[0].plot(h.iteration, loss, color=color, label=label)
        if run.test and len(run.test.iteration):
            ok = np.isfinite(run.test.accuracy)
            axes[1].plot(run.test.iteration[ok], run.test.accuracy[ok], "o-", ms=3, color=color)
        if run.eig and len(run.eig.iteration):
            axes[2].plot(run.eig.iteration, run.eig.max_real, color=color)
        if run.diverged:
            _mark_end(axes[0], h.iteration, loss, color)
            if run.eig and len(run.eig.iteration):
                _mark_end(axes[2], run.eig.iteration, run.eig.max_real, color)
    axes[0].set(xlabel="iteration", ylabel="training loss (running mean)", yscale="log")
    axes[1].set(xlabel="iteration", ylabel="test accuracy", ylim=(0, 1))
    axes[2].set(xlabel="iteration", ylabel=r"max Re $\lambda(W)$")
    if stability_line:
        axes[2].axhline(1.0, color="k", ls="--", lw=1)
    axes[0].legend(fontsize=7)
    rule = runs[0].get("rule", "")
    fig.suptitle(title if title is not None else RULE_LABELS.get(rule, rule), fontsize=10)
    return fig


def plot_best_runs(runs, *, window=10):
    """The runs of several rules side by side (e.g. each rule's best rate), colored by rule.

    Parameters
    ----------
    runs : sequence of TrainResult
        One run per rule (``run.rule`` picks the color: dW1, dW2, dW3 or BPTT).
    window : int
        Running-mean window for the training loss.

    Returns
    -------
    matplotlib.figure.Figure
        Training loss, test accuracy and max Re lambda(W) over iterations.
    """
    runs = _check_runs(runs)
    fig, axes = new_figure(3, 1, width=3.8, height=3.0)
    for run in runs:
        rule = run.get("rule", "")
        color = RULE_COLORS.get(rule, "gray")
        label = f"{rule}, η = {run.lr:g}"
        loss = smooth_curve(run.history.loss, window)
        axes[0].plot(run.history.iteration, loss, color=color, label=label)
        if run.test and len(run.test.iteration):
            axes[1].plot(run.test.iteration, run.test.accuracy, "o-", ms=3, color=color)
        if run.eig and len(run.eig.iteration):
            axes[2].plot(run.eig.iteration, run.eig.max_real, color=color)
        if run.diverged:
            _mark_end(axes[0], run.history.iteration, loss, color)
    axes[0].set(xlabel="iteration", ylabel="training loss (running mean)", yscale="log")
    axes[1].set(xlabel="iteration", ylabel="test accuracy", ylim=(0, 1))
    axes[2].set(xlabel="iteration", ylabel=r"max Re $\lambda(W)$")
    axes[2].axhline(1.0, color="k", ls="--", lw=1)
    axes[0].legend(fontsize=7)
    return fig


def plot_update_cost(costs, *, reference="dW1"):
    """Bar chart of the time per update of each rule relative to ``reference``.

    Parameters
    ----------
    costs : dict
        ``{rule name: seconds per update}``.
    reference : str
        The key the others are divided by.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(costs, dict) or not costs:
        raise TypeError("costs must be a non-empty dict {rule: seconds per update}")
    if reference not in costs:
        raise ValueError(f"reference {reference!r} is not one of {list(costs)}")
    names = list(costs)
    ratios = np.array([costs[k] / costs[reference] for k in names], dtype=np.float64)
    fig, ax = new_figure(1, 1, width=4.0, height=2.8)
    ax.bar(names, ratios, color=[RULE_COLORS.get(k.split()[0], "gray") for k in names])
    ax.set(ylabel=f"time per update / {reference}'s")
    for i, v in enumerate(ratios):
        ax.text(i, v, f"{v:.1g}", ha="center", va="bottom")
    return fig

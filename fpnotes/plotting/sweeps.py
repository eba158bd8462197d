"""A sweep's summary value against a configuration value, one line per group (e.g. rule)."""

from __future__ import annotations

import numpy as np

from .core import RULE_COLORS, RULE_LABELS, new_figure

__all__ = ["plot_sweep"]


def plot_sweep(records, *, x="lr", y="final_loss", by="rule", logx=True, logy=True, ax=None):
    """Plot a summary value against a configuration value, one line per group.

    Each run is a dot; the line joins the geometric means (arithmetic when
    ``logy`` is False) over the runs that share ``x`` and ``by`` (e.g. seeds).
    Runs whose ``y`` is None (no fixed point at the end) are left out.

    Parameters
    ----------
    records : list of dict
        Records ``{"config", "result"}`` from :func:`fpnotes.sweep.sweep` or
        :func:`fpnotes.sweep.load_results` (None entries, i.e. failed runs, are skipped).
    x : str
        Configuration key on the horizontal axis.
    y : str
        Result key on the vertical axis.
    by : str
        Configuration key that defines the lines (colors from
        ``fpnotes.plotting.core.RULE_COLORS`` when it is ``"rule"``).
    logx, logy : bool
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    records = [r for r in records if r is not None]
    if not records:
        raise ValueError("plot_sweep needs at least one record")
    for r in records:
        if x not in r["config"] or by not in r["config"]:
            raise ValueError(f"every configuration needs the keys {x!r} and {by!r}")
        if y not in r["result"]:
            raise ValueError(f"result has no field {y!r}; fields: {sorted(r['result'])}")
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    groups = {}
    for r in records:
        groups.setdefault(r["config"][by], []).append(r)
    for g, (name, runs) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
        color = RULE_COLORS.get(name, f"C{g}") if by == "rule" else f"C{g}"
        label = RULE_LABELS.get(name, str(name)) if by == "rule" else f"{by} = {name}"
        pts = [(r["config"][x], r["result"][y]) for r in runs if r["result"][y] is not None]
        if not pts:
            continue
        xs, ys = np.array(pts, dtype=np.float64).T
        ax.plot(xs, ys, "o", color=color, alpha=0.45, ms=4)
        ux = np.unique(xs)
        mean = [np.exp(np.mean(np.log(ys[xs == u]))) if logy else np.mean(ys[xs == u])
                for u in ux]
        ax.plot(ux, mean, "-", color=color, label=label)
    if logx:
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        values = sorted({float(r["config"][x]) for r in records})
        if len(values) <= 8:  # label the swept values themselves
            ax.set_xticks(values, [f"{v:g}" for v in values])
            ax.xaxis.set_minor_formatter(NullFormatter())
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("learning rate $\\eta$" if x == "lr" else x)
    ax.set_ylabel(y.replace("_", " "))
    ax.legend(frameon=False)
    return fig

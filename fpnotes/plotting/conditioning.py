"""Figure of Chapter 3: the conditioning of A along a dW1 run (why dW1 stalls)."""

from __future__ import annotations

from .core import RULE_COLORS, new_figure

__all__ = ["plot_conditioning"]


def plot_conditioning(paths, lr):
    """kappa(A) and the Gauss-Newton curvature range of J along training runs.

    Parameters
    ----------
    paths : dict
        ``{rule: fpnotes.conditioning.curvature_along_rule(...)}``; the right panel draws
        the curvature range of the "dW1" path (in W) and the constant range in A.
    lr : float
        The learning rate of the runs; the right panel marks the stability bound 2 / lr.
    """
    fig, (ax0, ax1) = new_figure(2, width=4.4)
    for rule, c in paths.items():
        color = RULE_COLORS.get(rule, "k")
        ax0.semilogy(c.iteration, c.kappa_A, color=color, label=rf"$\kappa(A)$ along {rule}")
        ax0.semilogy(c.iteration, 1 / c.min_distance, color=color, ls="--",
                     label=rf"$1/\min|1-\lambda(W)|$ along {rule}")
    ax0.set_xlabel("iteration")
    ax0.set_ylabel(r"$\kappa(A)$ and $1/\min|1-\lambda(W)|$")
    ax0.set_title("conditioning of $A$ vs. distance to a pole")
    ax0.legend(fontsize=7)
    c = paths["dW1"]
    ax1.fill_between(c.iteration, c.W_min, c.W_max, color=RULE_COLORS["dW1"], alpha=0.3,
                     label="curvatures in W along dW1")
    ax1.semilogy(c.iteration, c.W_max, color=RULE_COLORS["dW1"])
    ax1.semilogy(c.iteration, c.W_min, color=RULE_COLORS["dW1"])
    ax1.fill_between(c.iteration, c.A_min, c.A_max, color=RULE_COLORS["dW2"], alpha=0.3,
                     label="curvatures in A (any W)")
    ax1.axhline(2 / lr, color="k", ls=":", lw=1, label=rf"$2/\eta$ ($\eta = {lr:g}$)")
    ax1.set_yscale("log")
    ax1.set_xlabel("iteration")
    ax1.set_ylabel("curvature")
    ax1.set_title("Gauss–Newton curvatures of $J$")
    ax1.legend(fontsize=7, loc="center right")
    return fig

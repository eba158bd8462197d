"""Shared plotting conventions and the thin widget wrapper of interactive figures.

Every interactive figure in the book is a plain plotting function (arguments
in, a matplotlib Figure out) plus :func:`interactive`, which wraps it with
ipywidgets sliders. The static book page shows the plain function's figure at
the default values; in Jupyter the sliders redraw it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["RULE_COLORS", "RULE_LABELS", "interactive", "new_figure", "lr_colors"]

RULE_COLORS = {"dW1": "#d62728", "dW2": "#1f77b4", "dW3": "#2ca02c", "BPTT": "#9467bd"}
RULE_LABELS = {"dW1": "dW1 (Euclidean gradient)", "dW2": "dW2 (exact step in A)",
               "dW3": "dW3 (metric gradient)", "BPTT": "BPTT"}


def new_figure(ncols=1, nrows=1, width=4.2, height=3.2, **kwargs):
    """A figure with a grid of axes sized per panel (inches); returns (fig, axes)."""
    kwargs.setdefault("constrained_layout", True)
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), **kwargs)


def lr_colors(lrs, cmap="viridis"):
    """One color per learning rate, ordered light (small) to dark (large)."""
    cm = plt.get_cmap(cmap)
    n = len(lrs)
    return [cm(0.85 - 0.7 * k / max(n - 1, 1)) for k in range(n)]


def interactive(plot_fn, **controls):
    """Wrap ``plot_fn`` with ipywidgets controls; returns the ``ipywidgets.interactive``.

    Parameters
    ----------
    plot_fn : callable
        Draws and returns a matplotlib Figure from keyword arguments.
    **controls
        ipywidgets controls (``FloatSlider(...)``, ...) or fixed values, by
        argument name, as for ``ipywidgets.interactive``.
    """
    import ipywidgets as widgets

    # The figure goes into the output widget's state (its `outputs`), not through the
    # kernel's display messages: a front end without a widget manager (nbval, a plain
    # nbclient) would put those in the cell itself, and a stored notebook would no longer
    # match a fresh run.
    state = {}

    def draw(**kwargs):
        fig = plot_fn(**kwargs)
        try:
            state["output"] = {"output_type": "display_data", "metadata": {},
                               "data": {"image/png": png_base64(fig, bbox_inches="tight"),
                                        "text/plain": repr(fig)}}
        finally:
            plt.close(fig)
        if "widget" in state:
            state["widget"].out.outputs = (state["output"],)

    widget = widgets.interactive(draw, clear_output=False, **controls)
    state["widget"] = widget
    widget.out.outputs = (state["output"],)  # the first draw ran inside the constructor
    widget.plot_fn = plot_fn  # for fpnotes.plotting.slider (frames for the static page)
    return widget


def png_base64(fig, dpi="figure", **savefig_kwargs):
    """The figure as a base64 PNG, without metadata (the same figure, the same bytes)."""
    import base64
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, **savefig_kwargs)
    return base64.b64encode(buf.getvalue()).decode("ascii")

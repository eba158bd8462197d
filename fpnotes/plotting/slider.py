"""Interactive figures that work without a kernel: a slider over precomputed frames.

An interactive figure of the book is a plain plotting function wrapped with ipywidgets
sliders (:func:`fpnotes.plotting.interactive`). Those sliders need a running kernel, so the
static HTML book would show a frozen image. :func:`with_precomputed_slider` draws the same
plotting function at a grid of values of one slider's parameter and attaches the frames, as
a small self-contained HTML slider (an ``<input type="range">`` that swaps PNG frames, no
external JavaScript), to the widget's output:

* Jupyter, JupyterLab, Binder and Voila render the live ipywidgets version (the widget
  view is the richest representation of the output);
* the HTML book renders the precomputed slider (``_config.yml`` ranks ``text/html``
  above the widget view for the html builder).

The frames are base64 PNGs, which change with matplotlib and font versions; the nbval
sanitizer (``tests/nbval_sanitize.cfg``) replaces embedded image data before comparing.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

import matplotlib.pyplot as plt
from threadpoolctl import threadpool_limits

from .core import png_base64

__all__ = ["PrecomputedSlider", "precomputed_slider", "with_precomputed_slider"]

# Swaps the frame, its alt text and the printed value when the range input moves. The
# script finds its own slider through document.currentScript, so the HTML needs no id
# (and the stored notebook output stays the same from one run to the next).
_SCRIPT = """(function () {
  var root = document.currentScript.parentElement;
  var data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var img = root.querySelector("img"), input = root.querySelector("input"),
      out = root.querySelector("output");
  function show() {
    var k = Number(input.value);
    img.src = data.frames[k];
    img.alt = data.alts[k];
    out.textContent = data.labels[k];
    input.setAttribute("aria-valuetext", data.labels[k]);
  }
  input.addEventListener("input", show);
})();"""


class PrecomputedSlider:
    """Frames of a figure at a grid of one parameter's values, shown with an HTML slider.

    Attributes
    ----------
    name : str
        The parameter the slider moves.
    values : list of float
    frames : list of str
        ``data:image/png;base64,...`` URLs, one per value.
    alts : list of str
        Alt text of each frame.
    index : int
        The frame shown first.
    """

    def __init__(self, name, values, frames, alts, index=0, label=None, fmt="{:g}"):
        if not (len(values) == len(frames) == len(alts)) or not values:
            raise ValueError("values, frames and alts must be non-empty and of equal length")
        if not 0 <= index < len(values):
            raise ValueError(f"index {index} out of range for {len(values)} frames")
        self.name, self.values, self.frames, self.alts = name, list(values), frames, alts
        self.index, self.label, self.fmt = index, label or name, fmt

    def _repr_html_(self):
        labels = [self.fmt.format(v) for v in self.values]
        data = json.dumps({"frames": self.frames, "alts": self.alts, "labels": labels})
        k = self.index
        return (
            '<div class="fpnotes-slider">'
            f'<img src="{self.frames[k]}" alt="{html.escape(self.alts[k])}">'
            '<label class="fpnotes-slider-control">'
            f'<span>{html.escape(self.label)}</span> '
            f'<input type="range" min="0" max="{len(self.values) - 1}" step="1" value="{k}" '
            f'aria-valuetext="{html.escape(labels[k])}"> '
            f"<output>{html.escape(labels[k])}</output></label>"
            # "</" cannot occur in the JSON (base64 and formatted numbers), so it cannot end
            # the script element early
            f'<script type="application/json">{data}</script>'
            f"<script>{_SCRIPT}</script></div>")


def _png_data_url(fig, dpi):
    return "data:image/png;base64," + png_base64(fig, dpi=dpi)


def precomputed_slider(plot_fn, name, values: Sequence[float], *, alt, value=None,
                       label=None, fmt="{:g}", dpi="figure", **kwargs):
    """Draw ``plot_fn(name=v, **kwargs)`` for every ``v`` in ``values``.

    Parameters
    ----------
    plot_fn : callable
        Returns a matplotlib Figure; each one is closed once saved.
    name : str
        The keyword argument of ``plot_fn`` the slider moves.
    values : sequence of float
        The slider's positions, in order.
    alt : str
        Alt text of a frame; ``{value}`` is replaced by the formatted value.
    value : float, optional
        The value shown first (the nearest grid value; default the first).
    label : str, optional
        The slider's label (default ``name``).
    fmt : str
        Format of the printed value.
    dpi : float or "figure"
    **kwargs
        Further arguments of ``plot_fn``, the same for every frame.

    Returns
    -------
    PrecomputedSlider
    """
    values = [float(v) for v in values]
    frames, alts = [], []
    # The frames' matrices are small: BLAS threads gain nothing there, and on a machine whose
    # cores are busy they cost a lot (a 200 x 200 eigvals measured 1.1 s with two OpenBLAS
    # threads on two shared cores, 0.01 s with one).
    with threadpool_limits(1):
        for v in values:
            fig = plot_fn(**{name: v}, **kwargs)
            try:
                frames.append(_png_data_url(fig, dpi))
            finally:
                plt.close(fig)
            alts.append(alt.format(value=fmt.format(v)))
    index = 0 if value is None else min(range(len(values)), key=lambda k: abs(values[k] - value))
    return PrecomputedSlider(name, values, frames, alts, index=index, label=label, fmt=fmt)


class _LiveAndStatic:
    """Displays as the widget where a widget manager runs, else as the precomputed slider."""

    def __init__(self, widget, static):
        self.widget, self.static = widget, static

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.static._repr_html_()
        return bundle


def with_precomputed_slider(widget, name, values, *, alt, label=None, fmt="{:g}",
                            dpi="figure"):
    """An interactive figure that also works on a static page.

    Parameters
    ----------
    widget : ipywidgets.interactive
        From :func:`fpnotes.plotting.interactive` (or an ``interactive_*`` function).
    name : str
        The slider whose values are precomputed; the other controls stay at their
        current values.
    values : sequence of float
    alt, label, fmt, dpi
        As for :func:`precomputed_slider`; ``label`` defaults to the widget's description.

    Returns
    -------
    object
        Display it (last expression of a cell): the live widget in Jupyter, the
        precomputed slider in the HTML book. ``.widget`` and ``.static`` hold the two.
    """
    plot_fn = getattr(widget, "plot_fn", None)
    if plot_fn is None:
        raise TypeError("widget must come from fpnotes.plotting.interactive")
    current = dict(widget.kwargs)
    if name not in current:
        raise ValueError(f"the widget has no control {name!r}; it has {sorted(current)}")
    value = current.pop(name)
    if label is None:
        control = next((w for w in widget.kwargs_widgets if getattr(w, "_kwarg", None) == name),
                       None)
        label = getattr(control, "description", None) or name
    static = precomputed_slider(plot_fn, name, values, alt=alt, value=value, label=label,
                                fmt=fmt, dpi=dpi, **current)
    return _LiveAndStatic(widget, static)

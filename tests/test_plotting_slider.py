"""Interactive figures on the static page: sliders over precomputed frames."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from fpnotes.plotting import interactive, new_figure, precomputed_slider, with_precomputed_slider

ipywidgets = pytest.importorskip("ipywidgets")
SANITIZE = Path(__file__).resolve().parent / "nbval_sanitize.cfg"


def line(slope=1.0, offset=0.0):
    fig, ax = new_figure()
    ax.plot([0, 1], [offset, offset + slope])
    ax.set_ylim(-3, 3)
    return fig


def slider_data(html):
    return json.loads(re.search(r'<script type="application/json">(.*?)</script>', html).group(1))


def test_one_frame_per_value_starting_at_the_nearest():
    s = precomputed_slider(line, "slope", [-1, 0, 1, 2], value=0.9, alt="slope {value}",
                           offset=0.5)
    assert len(s.frames) == 4 and len(set(s.frames)) == 4
    assert all(f.startswith("data:image/png;base64,") for f in s.frames)
    assert s.index == 2 and s.alts[2] == "slope 1"
    html = s._repr_html_()
    assert 'type="range" min="0" max="3" step="1" value="2"' in html
    assert html.count("<img ") == 1 and 'alt="slope 1"' in html
    data = slider_data(html)
    assert data["frames"] == s.frames and data["labels"] == ["-1", "0", "1", "2"]
    assert not plt.get_fignums()  # every frame's figure is closed


def test_bad_grids_are_refused():
    with pytest.raises(ValueError):
        precomputed_slider(line, "slope", [], alt="x")
    w = interactive(line, slope=ipywidgets.FloatSlider(value=1.0, min=-2, max=2))
    with pytest.raises(ValueError, match="no control 'offset'"):
        with_precomputed_slider(w, "offset", [0, 1], alt="x")
    with pytest.raises(TypeError):
        with_precomputed_slider(ipywidgets.interactive(lambda a: None, a=1), "a", [1], alt="x")
    plt.close("all")


def test_live_and_static_in_one_output():
    w = interactive(line, slope=ipywidgets.FloatSlider(value=1.0, min=-2, max=2,
                                                       description="slope"),
                    offset=ipywidgets.fixed(0.5))
    both = with_precomputed_slider(w, "slope", [-2, 0, 2], alt="slope {value}")
    bundle = both._repr_mimebundle_()
    assert {"application/vnd.jupyter.widget-view+json", "text/plain", "text/html"} <= set(bundle)
    assert both.static.label == "slope" and both.static.index == 1  # 1.0 -> nearest is 0
    # the other controls keep their values in every frame
    ref = precomputed_slider(line, "slope", [-2, 0, 2], alt="slope {value}", offset=0.5)
    assert both.static.frames == ref.frames


def test_the_widget_keeps_its_figure_in_its_state():
    """No display message leaves the widget: a client without a widget manager (nbval) sees
    the same cell output as the stored notebook."""
    w = interactive(line, slope=ipywidgets.FloatSlider(value=1.0, min=-2, max=2))
    first = w.out.outputs[0]["data"]["image/png"]
    w.children[0].value = -1.0
    (out,) = w.out.outputs
    assert out["output_type"] == "display_data" and out["data"]["image/png"] != first
    assert not plt.get_fignums()


def sanitize(text):
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(SANITIZE)
    for section in cfg.sections():
        text = re.sub(cfg[section]["regex"], cfg[section]["replace"], text)
    return text


def test_nbval_sanitizer_leaves_only_the_html_around_the_frames():
    a = precomputed_slider(line, "slope", [0, 1], alt="slope {value}")._repr_html_()
    b = precomputed_slider(line, "slope", [0, 1], alt="slope {value}", offset=1)._repr_html_()
    assert a != b and sanitize(a) == sanitize(b)
    assert "IMAGE-DATA" in sanitize(a) and "base64,iVBOR" not in sanitize(a)

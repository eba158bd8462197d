"""Plotting helpers of the book's figures, one module per topic.

All functions take arrays or fpnotes results and return a matplotlib Figure;
``interactive_*`` functions wrap one of them with ipywidgets sliders. The public
names of every topic module are gathered here (``fpnotes.plotting.<name>``).
"""

from .._autoload import collect
from .core import RULE_COLORS, RULE_LABELS, interactive, lr_colors, new_figure

__all__ = ["RULE_COLORS", "RULE_LABELS", "interactive", "lr_colors", "new_figure"]
__all__ += collect(__name__, __path__, globals())

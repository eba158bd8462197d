"""Plotting helpers of the book's figures (one module per topic).

All functions take arrays or fpnotes results and return a matplotlib Figure.
"""

from .core import RULE_COLORS, RULE_LABELS, interactive, lr_colors, new_figure

__all__ = ["RULE_COLORS", "RULE_LABELS", "interactive", "lr_colors", "new_figure"]

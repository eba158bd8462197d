"""Check functions for the book's exercises: ``fpnotes.checks.<name>(answer)``.

Each prints whether the answer is right and, if not, what is wrong (shape, sign,
scale), without giving the answer away; each returns True or False.
"""

from ._core import compare_array, compare_scalar, report

__all__ = ["compare_array", "compare_scalar", "report"]

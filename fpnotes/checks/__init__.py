"""Check functions for the book's exercises: ``fpnotes.checks.<name>(answer)``.

Each prints whether the answer is right and, if not, what is wrong (shape, sign,
scale), without giving the answer away; each returns True or False and never
raises on a wrong answer (a placeholder ``...`` is just "not yet"). One module
per chapter (``ch1.py``, ...); their public names are gathered here.
"""

from .._autoload import collect
from ._core import Verdict, call_student, compare_array, compare_scalar, function_exercise, report

__all__ = ["Verdict", "call_student", "compare_array", "compare_scalar", "function_exercise",
           "report"]
__all__ += collect(__name__, __path__, globals())

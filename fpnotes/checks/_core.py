"""What every check function shares: compare, explain, never reveal the answer."""

from __future__ import annotations

import numpy as np

__all__ = ["Verdict", "report", "compare_array", "compare_scalar"]


class Verdict:
    """The value a check returns: true when the answer is right.

    It behaves like a bool (``if check(...)``, ``check(...) == True``) but shows
    nothing when it ends a notebook cell, because the printed message already
    says everything; a bare ``True`` under "Correct!" would only add noise.
    """

    __slots__ = ("ok",)

    def __init__(self, ok):
        self.ok = bool(ok)

    def __bool__(self):
        return self.ok

    def __eq__(self, other):
        return self.ok == bool(other)

    def __hash__(self):
        return hash(self.ok)

    def __and__(self, other):  # ok &= check(...) combines several checks
        return Verdict(self.ok and bool(other))

    __rand__ = __and__

    def __or__(self, other):
        return Verdict(self.ok or bool(other))

    __ror__ = __or__

    def __repr__(self):
        return repr(self.ok)

    def _ipython_display_(self):
        pass


def report(ok, message, success="Correct!"):
    """Print a verdict and return it as a :class:`Verdict` (true when the answer is right)."""
    print(success if ok else f"Not yet: {message}")
    return Verdict(ok)


def compare_array(answer, expected, name="your answer", rtol=1e-6, atol=1e-10):
    """Check an array answer: type, shape, finiteness, sign, then values.

    Returns (ok, message); the message says what is wrong without the expected values.
    """
    try:
        a = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return False, f"{name} should be a numeric array, got {type(answer).__name__}"
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return False, f"{name} has shape {a.shape}, expected shape {e.shape}"
    if not np.all(np.isfinite(a)):
        return False, f"{name} contains NaN or inf"
    if np.allclose(a, e, rtol=rtol, atol=atol):
        return True, ""
    if np.allclose(a, -e, rtol=rtol, atol=atol):
        return False, f"{name} has the wrong sign"
    if a.ndim == 2 and a.shape[0] == a.shape[1] and np.allclose(a.T, e, rtol=rtol, atol=atol):
        return False, f"{name} is transposed"
    scale = np.vdot(a, e) / max(np.vdot(a, a), 1e-300)
    if np.allclose(scale * a, e, rtol=1e-4, atol=atol):
        return False, (f"{name} has the right direction but the wrong scale: it is "
                       f"{1 / scale:.3g} times the reference")
    rel = np.linalg.norm(a - e) / max(np.linalg.norm(e), 1e-300)
    return False, f"{name} differs from the reference (relative error {rel:.2g})"


def compare_scalar(answer, expected, name="your answer", rtol=1e-6, atol=1e-10):
    """Check a scalar answer; returns (ok, message)."""
    try:
        a = float(answer)
    except (TypeError, ValueError):
        return False, f"{name} should be a number, got {type(answer).__name__}"
    if not np.isfinite(a):
        return False, f"{name} is not finite"
    if np.isclose(a, expected, rtol=rtol, atol=atol):
        return True, ""
    if np.isclose(a, -expected, rtol=rtol, atol=atol):
        return False, f"{name} has the wrong sign"
    return False, f"{name} is too {'large' if a > expected else 'small'}"

"""What every check function shares: compare, explain, never reveal the answer."""

from __future__ import annotations

import numpy as np

__all__ = ["Verdict", "report", "compare_array", "compare_scalar", "as_answer_array",
           "as_answer_number", "check_given", "function_exercise", "call_student",
           "changed_in_place"]


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
    a, msg = as_answer_array(answer, name)
    if a is None:
        return False, msg
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
    rel = np.linalg.norm(a - e) / max(np.linalg.norm(e), 1e-300)
    if np.allclose(scale * a, e, rtol=1e-4, atol=atol):
        if scale < 0:
            return False, (f"{name} points the opposite way (wrong sign) and its size is "
                           f"{abs(1 / scale):.3g} times the reference's")
        if abs(scale - 1) > 1e-3:
            return False, (f"{name} has the right direction but the wrong scale: it is "
                           f"{1 / scale:.3g} times the reference")
    if rel < 1e-3:
        return False, (f"{name} is close but not accurate enough (relative error {rel:.1e}; "
                       f"the check needs about {rtol:g}): solve to round-off in float64 "
                       "rather than iterate")
    return False, f"{name} differs from the reference (relative error {rel:.2g})"


def compare_scalar(answer, expected, name="your answer", rtol=1e-6, atol=1e-10):
    """Check a scalar answer; returns (ok, message)."""
    a, msg = as_answer_number(answer, name)
    if a is None:
        return False, msg
    if not np.isfinite(a):
        return False, f"{name} is not finite"
    if np.isclose(a, expected, rtol=rtol, atol=atol):
        return True, ""
    if np.isclose(a, -expected, rtol=rtol, atol=atol):
        return False, f"{name} has the wrong sign"
    return False, f"{name} is too {'large' if a > expected else 'small'}"


def _placeholder(answer, name):
    if answer is Ellipsis or answer is None:
        return f"{name} is still a placeholder: replace the ... with your answer"
    return None


def as_answer_array(answer, name="your answer"):
    """A real float array from an answer, or ``(None, message)`` saying why not.

    A placeholder (``...``), a non-numeric object and a complex array are all refused: a
    complex answer would otherwise lose its imaginary part silently in the conversion.
    """
    msg = _placeholder(answer, name)
    if msg:
        return None, msg
    try:
        raw = np.asarray(answer)
    except Exception:  # noqa: BLE001 -- any object a student returns gets a message, not a crash
        raw = None
    if raw is not None and np.iscomplexobj(raw):
        return None, (f"{name} is complex; the answer is real (if the imaginary parts are "
                      "round-off, take .real)")
    if raw is None or raw.dtype == object or not (
            np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
        got = (f"an array of dtype {raw.dtype}" if isinstance(answer, np.ndarray)
               else type(answer).__name__)
        return None, f"{name} should be a numeric array, got {got}"
    return raw.astype(np.float64), ""


def as_answer_number(answer, name="your answer"):
    """A real float from an answer, or ``(None, message)`` saying why not."""
    a, msg = as_answer_array(answer, name)
    if a is None:
        return None, msg.replace("a numeric array", "a number")
    if a.size != 1:
        return None, f"{name} should be a single number, got an array of shape {a.shape}"
    return float(a.reshape(())), ""


def check_given(given, expected, name, what="the exercise asks for"):
    """Compare problem data the student built (``given``) with the exercise's own.

    Returns None when they agree, else a message for :func:`report`. ``None`` as
    ``given`` means "not passed" and is accepted (the check then uses its own data).
    """
    if given is None:
        return None
    msg = _placeholder(given, name)
    if msg:
        return f"{name} is still a placeholder: build it as the exercise says"
    try:
        g = np.asarray(given, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{name} should be a numeric array, got {type(given).__name__}"
    e = np.asarray(expected, dtype=np.float64)
    if g.shape != e.shape:
        return f"{name} has shape {g.shape}, but {what} shape {e.shape}"
    if not np.allclose(g, e, rtol=1e-10, atol=1e-12):
        return (f"{name} is not the one {what} (check the seed, the size and the scale); "
                "an answer for other data cannot be checked here")
    return None


def function_exercise(hidden_seeds=(1, 2)):
    """Mark a check that judges a student's *function* on problem data built from a seed.

    Such a check has the signature ``check(func, *, seed=0)``: it builds the problem
    from ``seed`` (the exercise's own seed is 0), calls ``func`` on it through
    :func:`call_student` and judges the result. The notebook's check cell calls it with
    the default seed; the Otter autograder's hidden tests call it again with each of
    ``hidden_seeds``, so a function that only reproduces seed 0's numbers fails there.
    """
    seeds = tuple(int(s) for s in hidden_seeds)
    if not seeds or 0 in seeds:
        raise ValueError(f"hidden_seeds must be non-empty and exclude the public seed 0, "
                         f"got {hidden_seeds!r}")

    def mark(check):
        check.hidden_seeds = seeds
        return check

    return mark


def call_student(func, args, name="your function"):
    """Call a student's function; returns ``(value, "")`` or ``(None, message)``.

    A placeholder, a non-callable, an untouched stub (``NotImplementedError``) and any
    exception raised inside the function become a "Not yet" message naming ``name``,
    never a traceback in the check cell.
    """
    msg = _placeholder(func, name)
    if msg:
        return None, msg
    if not callable(func):
        return None, f"{name} should be a function, got {type(func).__name__}"
    try:
        with np.errstate(all="ignore"):
            value = func(*args)
        if value is None:
            return None, f"{name} returns None: end it with a return statement"
        return value, ""
    except NotImplementedError:
        return None, f"{name} still raises NotImplementedError: write its body"
    except Exception as exc:  # noqa: BLE001 -- any bug in student code is reported, not raised
        return None, f"{name} raised {type(exc).__name__}: {exc}"


def changed_in_place(given, originals, names):
    """The name of the first argument a student's function changed in place, or None.

    ``given`` are the copies the function was called with (:func:`call_student`),
    ``originals`` the check's own arrays, ``names`` their names in the exercise.
    """
    for arg, original, name in zip(given, originals, names, strict=True):
        if not np.array_equal(arg, original):
            return name
    return None

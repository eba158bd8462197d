"""Input checks shared by the public functions.

Every public entry point runs its arrays through these helpers so that a wrong
shape or a NaN is reported where the user made the mistake, with a message that
says what was expected, instead of surfacing later as a numpy broadcasting error.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_weights", "as_patterns", "as_like", "as_real_array", "check_lr", "check_choice",
           "check_int", "check_positive", "check_number"]


def _as_float_array(a, name):
    if isinstance(a, (str, bytes)) or a is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(a).__name__}")
    try:
        raw = np.asarray(a) if not isinstance(a, np.ndarray) else a
    except (TypeError, ValueError) as exc:  # a ragged nested list, for one
        raise TypeError(f"{name} must be an array of real numbers ({exc})") from None
    # Converting a complex array to float64 drops the imaginary part with only a
    # ComplexWarning; strings such as "1" would convert silently. Refuse both.
    if raw.dtype.kind not in "biufO":
        kind = "complex" if raw.dtype.kind == "c" else str(raw.dtype)
        raise TypeError(f"{name} must be an array of real numbers, got dtype {kind}")
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers ({exc})") from None
    return arr


def as_real_array(a, name):
    """Return ``a`` as a finite float64 array of any shape (complex and strings refused)."""
    arr = _as_float_array(a, name)
    _check_finite(arr, name)
    return arr


def _check_finite(arr, name):
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf)")


def as_weights(W, name="W"):
    """Return W as a finite float64 square matrix of shape (N, N)."""
    arr = _as_float_array(W, name)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix of shape (N, N), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one neuron, got shape {arr.shape}")
    _check_finite(arr, name)
    return arr


def as_patterns(X, N, name="X"):
    """Return X as a finite float64 (N, m) array; an (N,) vector becomes (N, 1).

    Returns the array and a flag telling whether the input was a single vector,
    so that callers can hand back results with the shape they were given.
    """
    arr = _as_float_array(X, name)
    vector = arr.ndim == 1
    if vector:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != N:
        raise ValueError(
            f"{name} must have shape (N,) or (N, m) with N = {N} (one column per pattern), "
            f"got shape {np.shape(X)}"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must hold at least one pattern, got shape {np.shape(X)}")
    _check_finite(arr, name)
    return arr, vector


def as_like(A, shape, name):
    """Return A as a finite float64 array of exactly ``shape``.

    An (N,) vector stands for the (N, 1) array of a single pattern, so that the
    results of a vector input (e.g. ``fixed_point(W, x).r``) are accepted back.
    """
    arr = _as_float_array(A, name)
    shape = tuple(shape)
    if arr.ndim == 1 and len(shape) == 2 and shape[1] == 1 and arr.shape[0] == shape[0]:
        arr = arr[:, None]
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {tuple(shape)}, got shape {arr.shape}")
    _check_finite(arr, name)
    return arr


def check_number(value, name, *, low=None, high=None, low_open=True):
    """Return ``value`` as a finite real float, in (low, high] (``[low, high]`` with
    ``low_open=False``) when the bounds are given; TypeError/ValueError name ``name``."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()  # a 0-d array, e.g. from a numpy reduction
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                    np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r} "
                        f"({type(value).__name__})")
    value = float(value)
    below = low is not None and (value <= low if low_open else value < low)
    if not np.isfinite(value) or below or (high is not None and value > high):
        where = "" if low is None else (f" in {'(' if low_open else '['}{low:g}, "
                                         f"{'inf)' if high is None else f'{high:g}]'}")
        raise ValueError(f"{name} must be a finite number{where}, got {value!r}")
    return value


def check_positive(value, name):
    """Return ``value`` as a positive finite float (tolerances, steps)."""
    return check_number(value, name, low=0.0)


def check_int(value, name, minimum=0, optional=False):
    """Return ``value`` as an int >= ``minimum`` (None passes through when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}"
                        f"{' or None' if optional else ''}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_lr(lr):
    """Return the learning rate as a positive finite float."""
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (int, float, np.integer,
                                                                np.floating)):
        raise TypeError(f"lr must be a positive number, got {lr!r}")
    lr = float(lr)
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    return lr


def check_choice(value, choices, name):
    """Raise a ValueError naming the allowed values when ``value`` is not one of them."""
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value

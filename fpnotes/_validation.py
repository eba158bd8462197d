"""Input checks shared by the public functions.

Every public entry point runs its arrays through these helpers so that a wrong
shape or a NaN is reported where the user made the mistake, with a message that
says what was expected, instead of surfacing later as a numpy broadcasting error.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_weights", "as_patterns", "as_like", "check_lr", "check_choice"]


def _as_float_array(a, name):
    if isinstance(a, (str, bytes)) or a is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(a).__name__}")
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers ({exc})") from None
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
    """Return A as a finite float64 array of exactly ``shape``."""
    arr = _as_float_array(A, name)
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got shape {arr.shape}")
    _check_finite(arr, name)
    return arr


def check_lr(lr):
    """Return the learning rate as a positive finite float."""
    if isinstance(lr, (bool, str, bytes)) or not np.isscalar(lr):
        raise TypeError(f"lr must be a positive number, got {lr!r}")
    lr = float(lr)
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    return lr


def check_choice(value, choices, name):
    """Raise a ValueError naming the allowed values when ``value`` is not one of them."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value

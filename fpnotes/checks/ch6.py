"""Checks of Chapter 6's exercises (classification at the fixed point, BPTT memory)."""

from __future__ import annotations

import numpy as np

from ..losses import softmax_cross_entropy
from ..solvers import fixed_point
from ._core import compare_array, compare_scalar, report

__all__ = ["ch6_accuracy", "ch6_cross_entropy_delta", "ch6_bptt_memory"]


def _labels_ok(W, X, readout, labels):
    R = fixed_point(W, X, "tanh", on_fail="raise").r
    C = np.asarray(readout, dtype=np.float64)
    y = np.asarray(labels)
    if R.ndim != 2 or C.ndim != 2 or C.shape[1] != R.shape[0] or y.shape != (R.shape[1],):
        raise ValueError("R must be (N, m), readout (K, N) and labels (m,)")
    return R, C, y.astype(np.int64)


def ch6_accuracy(answer, W, X, readout, labels):
    """Fraction of patterns whose largest readout C r* equals the label (a number in [0, 1]).

    r* are the fixed points r = tanh(W r + x) of the columns of X (N, m).
    """
    R, C, y = _labels_ok(W, X, readout, labels)
    expected = softmax_cross_entropy(R, y, C).accuracy
    if answer is not Ellipsis and np.ndim(answer) == 0:
        try:
            if 1 < float(answer) <= 100:
                return report(False, "the accuracy should be a fraction in [0, 1], not a percent")
        except (TypeError, ValueError):
            pass
    ok, msg = compare_scalar(answer, expected, "the accuracy", rtol=1e-9, atol=1e-12)
    return report(ok, msg)


def ch6_cross_entropy_delta(answer, W, X, readout, labels):
    """d(loss of each pattern)/dr at the fixed points of W: C^T (p - onehot), (N, m), not / m."""
    R, C, y = _labels_ok(W, X, readout, labels)
    expected = softmax_cross_entropy(R, y, C).delta
    ok, msg = compare_array(answer, expected, "delta", rtol=1e-7, atol=1e-12)
    if not ok and np.shape(answer) == expected.shape:
        try:
            if np.allclose(np.asarray(answer, dtype=np.float64) * R.shape[1], expected):
                msg = "delta is divided by m: give the derivative of each pattern's own loss"
        except (TypeError, ValueError):
            pass
    return report(ok, msg)


def ch6_bptt_memory(answer, T, N, m):
    """Bytes BPTT stores for the forward trajectory: (T + 1) states of N x m float64 values."""
    expected = 8.0 * (T + 1) * N * m
    ok, msg = compare_scalar(answer, expected, "the memory in bytes", rtol=1e-9, atol=0.5)
    if not ok and answer is not Ellipsis:
        try:
            a = float(answer)
            if np.isclose(a, expected / 8):
                msg = "that is the number of floats; each float64 takes 8 bytes"
            elif np.isclose(a, 8.0 * T * N * m):
                msg = "count the states again: the initial state r_0 is stored too"
        except (TypeError, ValueError):
            pass
    return report(ok, msg)

"""Losses evaluated on fixed points, with their derivative with respect to r.

Conventions
-----------
Every loss returns the *mean* over patterns, L = (1/m) sum_i l(r_i, y_i), and
``delta`` = dl/dr_i for each pattern, an (N, m) array *not* divided by m; the
gradient functions divide by m. ``readout`` is a fixed (K, N) matrix C so that
the network's output is y = C r; without it the output is r itself.
"""

from __future__ import annotations

import numpy as np

from ._result import Result
from ._validation import _as_float_array, _check_finite, as_like

__all__ = ["squared_error", "softmax_cross_entropy", "LOSSES", "get_loss"]


def _as_states(R):
    """R as a finite (N, m) array with m >= 1; an (N,) vector is one pattern."""
    arr = _as_float_array(R, "R")
    vector = arr.ndim == 1
    if vector:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"R must have shape (N,) or (N, m) with N, m >= 1, got {np.shape(R)}")
    _check_finite(arr, "R")
    return arr, vector


def _readout_matrix(R, readout):
    """The readout as a checked (K, N) array, or None."""
    if readout is None:
        return None
    C = _as_float_array(readout, "readout")
    if C.ndim != 2 or C.shape[1] != R.shape[0] or C.shape[0] == 0:
        raise ValueError(f"readout must have shape (K, N) with N = {R.shape[0]} and K >= 1, "
                         f"got {C.shape}")
    _check_finite(C, "readout")
    return C


def squared_error(R, Y, readout=None):
    """Squared error ``l = ||C r - y||^2`` (no factor 1/2, as in the paper).

    Parameters
    ----------
    R : array_like, shape (N, m) or (N,)
        Fixed points (a vector is one pattern, as ``fixed_point(W, x).r``).
    Y : array_like, shape (K, m) (or (K,) for a vector R)
        Targets (K = N without a readout); any other shape is refused, never
        broadcast.
    readout : array_like, shape (K, N), optional

    Returns
    -------
    Result with ``loss`` (float, mean over patterns) and ``delta`` (N, m), or
    (N,) for a vector R.
    """
    R, vector = _as_states(R)
    C = _readout_matrix(R, readout)
    Y = as_like(Y, (R.shape[0] if C is None else C.shape[0], R.shape[1]), "targets")
    out = _squared_error(R, Y, C)
    if vector:
        out.delta = out.delta[:, 0]
    return out


def _squared_error(R, Y, C=None):
    """:func:`squared_error` on checked arrays: R (N, m), Y (K, m), C (K, N) or None."""
    out = R if C is None else C @ R
    err = out - Y
    m = R.shape[1]
    grad_out = 2.0 * err
    delta = grad_out if C is None else C.T @ grad_out
    return Result(loss=float(np.sum(err**2) / m), delta=delta)


def softmax_cross_entropy(R, labels, readout):
    """Softmax cross-entropy of the readout C r against integer class labels.

    Parameters
    ----------
    R : array_like, shape (N, m) or (N,)
        Fixed points (a vector is one pattern).
    labels : array_like of int, shape (m,) (a single int for a vector R)
        Class indices in [0, K).
    readout : array_like, shape (K, N)

    Returns
    -------
    Result with ``loss`` (mean over patterns), ``delta`` (N, m) = C^T (p - onehot)
    ((N,) for a vector R), ``accuracy`` (fraction of argmax predictions equal to
    the label) and ``probabilities`` (K, m).
    """
    R, vector = _as_states(R)
    if readout is None:
        raise ValueError("softmax_cross_entropy needs a readout matrix of shape (K, N)")
    C = _readout_matrix(R, readout)
    labels = np.asarray(labels)
    m = R.shape[1]
    if vector and labels.ndim == 0:
        labels = labels[None]
    if labels.shape != (m,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be integers of shape ({m},), got {labels.dtype} {labels.shape}")
    K = C.shape[0]
    if labels.min() < 0 or labels.max() >= K:
        raise ValueError(f"labels must lie in [0, {K}) for a readout with {K} rows")
    out = _softmax_cross_entropy(R, labels, C)
    if vector:
        out.delta = out.delta[:, 0]
    return out


def _softmax_cross_entropy(R, labels, C):
    """:func:`softmax_cross_entropy` on checked arrays: R (N, m), int labels (m,), C (K, N)."""
    logits = C @ R
    m = R.shape[1]
    shifted = logits - logits.max(axis=0)  # stable log-sum-exp
    logp = shifted - np.log(np.exp(shifted).sum(axis=0))
    p = np.exp(logp)
    cols = np.arange(m)
    loss = -logp[labels, cols].mean()
    grad = p.copy()
    grad[labels, cols] -= 1.0
    delta = C.T @ grad
    return Result(loss=float(loss), delta=delta,
                  accuracy=float(np.mean(logits.argmax(axis=0) == labels)), probabilities=p)


LOSSES = {"squared_error": squared_error, "softmax_cross_entropy": softmax_cross_entropy}


def get_loss(loss):
    """Return a loss function by name (``"squared_error"``, ``"softmax_cross_entropy"``)."""
    if callable(loss):
        return loss
    try:
        return LOSSES[loss]
    except KeyError:
        raise ValueError(f"unknown loss {loss!r}; use one of {sorted(LOSSES)} or a callable "
                         "(R, targets, readout) -> Result(loss, delta)") from None




def _check_targets(loss_fn, shape, targets, readout, name="targets"):
    """Check ``targets`` (and ``readout``) for a loss once, before a loop calls it many times.

    The loss itself knows what its targets look like: it is tried once on zero states of
    ``shape`` (N, m) (a read-only broadcast view: no (N, m) array is allocated for a large
    data set). Its TypeError or ValueError is raised again as the same type, the message
    naming the argument ``name`` and the loss.
    """
    try:
        _call_loss(loss_fn, np.broadcast_to(0.0, shape), targets, readout)
    except (TypeError, ValueError) as exc:
        what = getattr(loss_fn, "__name__", "the loss")
        raise type(exc)(f"{name} do not fit {what}: {exc}") from None


def _call_loss(loss_fn, R, targets, readout):
    """``loss_fn(R, targets, readout)``, or ``loss_fn(R, targets)`` without a readout."""
    return loss_fn(R, targets, readout) if readout is not None else loss_fn(R, targets)


def _prepare_loss(loss_fn, targets, readout):
    """The loss as a kernel ``(R, T) -> Result`` for a loop, and the targets it takes.

    Call it after :func:`_check_targets`. For the built-in losses the kernel skips their
    checks (the readout is converted once, the targets once: float (K, n) for squared
    error, an integer array for cross-entropy); a loop then passes it the columns of the
    returned targets of each batch. Another callable is called as it is.
    """
    if loss_fn is squared_error:
        C = None if readout is None else _as_float_array(readout, "readout")
        Y = np.asarray(targets, dtype=np.float64)
        return (lambda R, T: _squared_error(R, T, C)), (Y[:, None] if Y.ndim == 1 else Y)
    if loss_fn is softmax_cross_entropy:
        C = _as_float_array(readout, "readout")
        return (lambda R, T: _softmax_cross_entropy(R, T, C)), np.asarray(targets)
    return (lambda R, T: _call_loss(loss_fn, R, T, readout)), targets

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
from ._validation import as_like

__all__ = ["squared_error", "softmax_cross_entropy", "LOSSES", "get_loss"]


def _readout(R, readout):
    if readout is None:
        return R, None
    C = np.asarray(readout, dtype=np.float64)
    if C.ndim != 2 or C.shape[1] != R.shape[0]:
        raise ValueError(f"readout must have shape (K, N) with N = {R.shape[0]}, got {C.shape}")
    return C @ R, C


def squared_error(R, Y, readout=None):
    """Squared error ``l = ||C r - y||^2`` (no factor 1/2, as in the paper).

    Parameters
    ----------
    R : array_like, shape (N, m)
        Fixed points.
    Y : array_like, shape (K, m)
        Targets (K = N without a readout).
    readout : array_like, shape (K, N), optional

    Returns
    -------
    Result with ``loss`` (float, mean over patterns) and ``delta`` (N, m).
    """
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 2:
        raise ValueError(f"R must have shape (N, m), got {R.shape}")
    out, C = _readout(R, readout)
    Y = as_like(Y, out.shape, "targets")
    err = out - Y
    m = R.shape[1]
    grad_out = 2.0 * err
    delta = grad_out if C is None else C.T @ grad_out
    return Result(loss=float(np.sum(err**2) / m), delta=delta)


def softmax_cross_entropy(R, labels, readout):
    """Softmax cross-entropy of the readout C r against integer class labels.

    Parameters
    ----------
    R : array_like, shape (N, m)
    labels : array_like of int, shape (m,)
        Class indices in [0, K).
    readout : array_like, shape (K, N)

    Returns
    -------
    Result with ``loss`` (mean over patterns), ``delta`` (N, m) = C^T (p - onehot),
    ``accuracy`` (fraction of argmax predictions equal to the label) and
    ``probabilities`` (K, m).
    """
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 2:
        raise ValueError(f"R must have shape (N, m), got {R.shape}")
    if readout is None:
        raise ValueError("softmax_cross_entropy needs a readout matrix of shape (K, N)")
    logits, C = _readout(R, readout)
    labels = np.asarray(labels)
    m = R.shape[1]
    if labels.shape != (m,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be integers of shape ({m},), got {labels.dtype} {labels.shape}")
    K = logits.shape[0]
    if labels.min() < 0 or labels.max() >= K:
        raise ValueError(f"labels must lie in [0, {K}) for a readout with {K} rows")
    shifted = logits - logits.max(axis=0)  # stable log-sum-exp
    logp = shifted - np.log(np.exp(shifted).sum(axis=0))
    p = np.exp(logp)
    cols = np.arange(m)
    loss = -logp[labels, cols].mean()
    grad = p.copy()
    grad[labels, cols] -= 1.0
    return Result(loss=float(loss), delta=C.T @ grad,
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



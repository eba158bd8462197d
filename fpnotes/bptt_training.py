"""Training through the simulated dynamics: backpropagation through time (BPTT).

:func:`fpnotes.train` updates W with rules built on the fixed point (dW1, dW2,
dW3). The alternative most machine-learning code would use is to run the
dynamics for a fixed number of Euler steps and backpropagate through them:
:class:`BPTTUpdate` is that update (the gradient of :func:`fpnotes.bptt_gradient`),
run by the same loop, ``fpnotes.train(..., update=BPTTUpdate(steps, h))``, so the runs
record the same things and plot the same way. :func:`train_bptt` is the shorthand.
"""

from __future__ import annotations

import numpy as np

from ._result import Result
from ._validation import as_patterns, as_weights, check_int, check_number
from .activations import as_activation
from .gradients import _bptt_gradient
from .solvers import _euler_steps
from .stability import _max_real_eig
from .training import Update, UpdateDiverged, train

__all__ = ["BPTTUpdate", "train_bptt", "train_task_bptt", "simulate_euler"]


def simulate_euler(W, X, f="tanh", *, steps, h=0.1):
    """r after ``steps`` forward-Euler steps r <- (1 - h) r + h f(W r + x) from r = 0.

    Parameters
    ----------
    W : array_like, shape (N, N)
    X : array_like, shape (N, m)
        Inputs, one column per pattern.
    f : str or Activation
    steps : int
        Number of Euler steps T.
    h : float
        Euler step dt/tau, in (0, 1].

    Returns
    -------
    ndarray, shape (N, m)
        The state r_T (the forward pass of :func:`fpnotes.bptt_gradient`).
    """
    W = as_weights(W)
    X, _ = as_patterns(X, W.shape[0])
    act = as_activation(f, W.shape[0])
    steps, h = _check_steps_h(steps, h)
    return _euler_steps(W, X, act, steps, h, trajectory=False, convex=True)


class BPTTUpdate(Update):
    """Gradient descent on the loss at r_T, the state after ``steps`` Euler steps.

    Each update is W <- W - lr * grad, with grad the exact gradient of the loss after
    T = ``steps`` Euler steps of size ``h`` from r = 0 (:func:`fpnotes.bptt_gradient`).
    As T grows and the fixed point is stable this approaches rule dW1; its cost grows
    linearly in T (T forward and T backward steps, T x N x m floats of memory).

    In :func:`fpnotes.train` it records the loss and accuracy at r_T, the test set at
    r_T, and every ``eig_every`` updates max Re lambda(W) (``eig.max_real``; there is no
    fixed point, so no unstable fraction and no ``lost_at``). A run diverges when the
    loss or the gradient is not finite.

    Parameters
    ----------
    steps : int
        Number of Euler steps T of the forward pass.
    h : float
        Euler step dt/tau, in (0, 1].
    """

    name = "BPTT"

    def __init__(self, steps, h=0.1):
        self.steps, self.h = _check_steps_h(steps, h)

    def step(self, W, Xb, Tb, *, batch, it, check):
        run = self.run
        record = {"max_real": _max_real_eig(W)} if check else None
        with np.errstate(over="ignore", invalid="ignore"):
            grad, out = _bptt_gradient(W, Xb, Tb, run.act, self.steps, self.h, run.loss)
            dW = -run.lr * grad.gradient
        if out is None or not np.isfinite(grad.loss) or not np.all(np.isfinite(dW)):
            raise UpdateDiverged("loss or gradient not finite", record=record)
        return Result(outputs=out, dW=dW, extra={}, record=record, lost=None)

    def evaluate(self, W, X, T):
        r = _euler_steps(W, X, self.run.act, self.steps, self.h, trajectory=False, convex=True)
        return self.run.loss(r, T) if np.all(np.isfinite(r)) else Result(loss=np.nan)

    def result_fields(self):
        return {"steps": self.steps, "h": self.h}

    def __repr__(self):
        return f"BPTTUpdate(steps={self.steps}, h={self.h:g})"


def train_bptt(W0, X, targets, *, lr, n_iter, steps, h=0.1, f="tanh", loss="squared_error",
               readout=None, batch_size=None, seed=0, eig_every=0, X_test=None,
               targets_test=None, eval_every=0, progress=False):
    """Gradient descent on the loss at r_T: ``fpnotes.train(..., update=BPTTUpdate(steps, h))``.

    Parameters
    ----------
    W0 : array_like, shape (N, N)
        Initial weights (not modified).
    X : array_like, shape (N, n)
        Inputs, one column per pattern.
    targets : array_like
        (K, n) targets for squared error or (n,) int labels for cross-entropy.
    lr : float
    n_iter : int
        Number of updates.
    steps : int
        Number of Euler steps T of the forward pass.
    h : float
        Euler step dt/tau, in (0, 1].
    f, loss, readout, batch_size, seed, eig_every, X_test, targets_test, eval_every, progress
        As for :func:`fpnotes.train`. Test loss and accuracy are evaluated at r_T,
        the state this network actually computes; ``eig_every`` records max Re lambda(W).

    Returns
    -------
    TrainResult
        Same fields as :func:`fpnotes.train`'s, with ``rule="BPTT"``, ``steps`` and ``h``
        (see :class:`BPTTUpdate` for what is recorded). A run stops
        with ``diverged=True`` and a message when the loss or the gradient is not
        finite, or an arithmetic error (overflow, a failed eigendecomposition) occurs.

    Raises
    ------
    TypeError
        For an argument of the wrong type, checked before the first iteration.
    ValueError
        For a wrong shape or value, likewise.
    KeyboardInterrupt
        On Ctrl-C, with the partial result attached as ``.result``
        (``interrupted=True``), as for :func:`fpnotes.train`.
    """
    return train(W0, X, targets, update=BPTTUpdate(steps, h), lr=lr, n_iter=n_iter, f=f,
                 loss=loss, readout=readout, batch_size=batch_size, seed=seed,
                 eig_every=eig_every, X_test=X_test, targets_test=targets_test,
                 eval_every=eval_every, progress=progress)


def train_task_bptt(task, lr, n_iter, *, steps, **kwargs):
    """:func:`train_bptt` on a task from :mod:`fpnotes.tasks` (its W0, X, targets, f, loss...)."""
    defaults = dict(f=task.f, loss=task.loss, readout=task.get("readout"),
                    X_test=task.get("X_test"), targets_test=task.get("targets_test"))
    defaults.update(kwargs)
    return train_bptt(task.W0, task.X, task.targets, lr=lr, n_iter=n_iter, steps=steps,
                      **defaults)


def _check_steps_h(steps, h):
    return check_int(steps, "steps", minimum=1), check_number(h, "h", low=0.0, high=1.0)

"""Training through the simulated dynamics: backpropagation through time (BPTT).

:func:`fpnotes.train` updates W with rules built on the fixed point (dW1, dW2,
dW3). The alternative most machine-learning code would use is to run the
dynamics for a fixed number of Euler steps and backpropagate through them;
:func:`train_bptt` does that with :func:`fpnotes.bptt_gradient` and records
the same things as :func:`fpnotes.train`, so the results plot the same way.
"""

from __future__ import annotations

import numpy as np

from ._result import Result
from ._validation import as_patterns, as_weights, check_int, check_lr, check_number
from .activations import as_activation
from .gradients import bptt_gradient
from .losses import get_loss
from .stability import max_real_eig
from .training import TrainResult, _check_targets, _keep_completed, _max_real_or_nan

__all__ = ["train_bptt", "train_task_bptt", "simulate_euler"]


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
    r = np.zeros_like(X)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            r = (1 - h) * r + h * act.f(W @ r + X)
    return r


def train_bptt(W0, X, targets, *, lr, n_iter, steps, h=0.1, f="tanh", loss="squared_error",
               readout=None, batch_size=None, seed=0, eig_every=0, X_test=None,
               targets_test=None, eval_every=0):
    """Gradient descent on the loss at r_T, the state after ``steps`` Euler steps.

    Each update is W <- W - lr * grad, with grad the exact gradient of the loss
    after T = ``steps`` Euler steps of size ``h`` from r = 0
    (:func:`fpnotes.bptt_gradient`). As T grows and the fixed point is stable this
    approaches rule dW1; its cost grows linearly in T (T forward and T backward
    steps, T x N x m floats of memory).

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
    f, loss, readout, batch_size, seed, eig_every, X_test, targets_test, eval_every
        As for :func:`fpnotes.train`. Test loss and accuracy are evaluated at r_T,
        the state this network actually computes.

    Returns
    -------
    TrainResult
        Same fields as :func:`fpnotes.train`'s, with ``rule="BPTT"``. A run stops
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
    W = as_weights(W0, "W0").copy()
    X, _ = as_patterns(X, W.shape[0])
    lr = check_lr(lr)
    if not (isinstance(n_iter, (int, np.integer)) and n_iter >= 0):
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}")
    steps, h = _check_steps_h(steps, h)
    as_activation(f, W.shape[0])
    loss_fn = get_loss(loss)
    eig_every = check_int(eig_every, "eig_every")
    eval_every = check_int(eval_every, "eval_every")
    _check_targets(loss_fn, X, targets, readout, "targets")
    if (X_test is None) != (targets_test is None):
        raise ValueError("X_test and targets_test go together: pass both or neither")
    if X_test is not None:
        X_test, _ = as_patterns(X_test, W.shape[0], "X_test")
        _check_targets(loss_fn, X_test, targets_test, readout, "targets_test")
    n = X.shape[1]
    if batch_size is not None and not (isinstance(batch_size, (int, np.integer))
                                       and batch_size > 0):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    rng = np.random.default_rng(seed)
    order, pos = rng.permutation(n), 0
    hist = {"loss": [], "accuracy": []}
    eig = {"iteration": [], "max_real": []}
    test = {"iteration": [], "loss": [], "accuracy": []}
    message, diverged, it = f"finished {n_iter} iterations", False, 0
    done, interrupt = 0, None
    try:
        for it in range(n_iter):
            if batch_size is None or batch_size >= n:
                idx = slice(None)
            else:
                if pos + batch_size > n:
                    order, pos = rng.permutation(n), 0
                idx, pos = order[pos:pos + batch_size], pos + batch_size
            Tb = np.asarray(targets)[..., idx]
            if eig_every and it % eig_every == 0:
                eig["iteration"].append(it), eig["max_real"].append(max_real_eig(W))
            if eval_every and X_test is not None and it % eval_every == 0:
                _evaluate(test, it, W, X_test, targets_test, f, loss_fn, readout, steps, h)
            with np.errstate(over="ignore", invalid="ignore"):
                out = bptt_gradient(W, X[:, idx], Tb, f, steps=steps, h=h, loss=loss,
                                    readout=readout) if np.all(np.isfinite(W)) else None
            if out is None or not np.isfinite(out.loss) or not np.all(np.isfinite(out.gradient)):
                message, diverged = f"diverged at iteration {it}: loss or gradient not finite", True
                break
            hist["loss"].append(out.loss)
            acc = _call(loss_fn, out.r, Tb, readout).get("accuracy", np.nan)
            hist["accuracy"].append(acc)
            W -= lr * out.gradient
            done = it + 1
        else:
            it = n_iter
    except KeyboardInterrupt as exc:  # keep what was recorded; re-raised below with it
        interrupt, it = exc, _keep_completed(hist, done)
        message = f"interrupted at iteration {done} (KeyboardInterrupt)"
    except (ArithmeticError, np.linalg.LinAlgError) as exc:
        it, diverged = _keep_completed(hist, done), True
        message = f"diverged at iteration {done}: {type(exc).__name__}: {exc}"
    if eig_every and interrupt is None:
        eig["iteration"].append(it), eig["max_real"].append(_max_real_or_nan(W))
    if X_test is not None and not diverged and interrupt is None:
        _evaluate(test, it, W, X_test, targets_test, f, loss_fn, readout, steps, h)
    history = Result(iteration=np.arange(len(hist["loss"])),
                     **{k: np.asarray(v, dtype=np.float64) for k, v in hist.items()})
    if np.all(np.isnan(history["accuracy"])):
        del history["accuracy"]
    arrays = [Result({k: np.asarray(v, dtype=np.float64) for k, v in d.items()})
              for d in (eig, test)]
    result = TrainResult(W=W, history=history, eig=arrays[0], test=arrays[1],
                         diverged=diverged, message=message, iterations=it, rule="BPTT", lr=lr,
                         steps=steps, h=h, interrupted=interrupt is not None)
    if interrupt is not None:
        interrupt.result = result
        raise interrupt
    return result


def train_task_bptt(task, lr, n_iter, *, steps, **kwargs):
    """:func:`train_bptt` on a task from :mod:`fpnotes.tasks` (its W0, X, targets, f, loss...)."""
    defaults = dict(f=task.f, loss=task.loss, readout=task.get("readout"),
                    X_test=task.get("X_test"), targets_test=task.get("targets_test"))
    defaults.update(kwargs)
    return train_bptt(task.W0, task.X, task.targets, lr=lr, n_iter=n_iter, steps=steps,
                      **defaults)


def _check_steps_h(steps, h):
    return check_int(steps, "steps", minimum=1), check_number(h, "h", low=0.0, high=1.0)


def _call(loss_fn, R, targets, readout):
    return loss_fn(R, targets, readout) if readout is not None else loss_fn(R, targets)


def _evaluate(store, it, W, X, targets, f, loss_fn, readout, steps, h):
    r = simulate_euler(W, X, f, steps=steps, h=h)
    out = _call(loss_fn, r, targets, readout) if np.all(np.isfinite(r)) else Result(loss=np.nan)
    store["iteration"].append(it)
    store["loss"].append(out.loss)
    store["accuracy"].append(out.get("accuracy", np.nan))

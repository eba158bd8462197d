"""Training loops: run a learning rule and record what happened.

A run stops cleanly on divergence -- a non-finite loss, a fixed point that
cannot be found, a singular reparameterized step -- and says at which iteration
and why, instead of raising from deep inside numpy.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._progress import progress_bar
from ._result import Result
from ._validation import as_patterns, as_weights, check_int, check_lr
from .activations import as_activation, is_linear
from .losses import get_loss
from .rules import RULES, angle, step
from .solvers import ConvergenceWarning, FixedPointError, check_solver_options, fixed_point
from .stability import max_real_eig, stability_criterion

__all__ = ["train", "train_task", "TrainResult"]


class TrainResult(Result):
    """Result of :func:`train`.

    Attributes
    ----------
    W : ndarray (N, N)
        Final weights (the last finite ones if the run diverged).
    history : Result of 1-D arrays, one entry per completed iteration
        ``loss`` (training loss of the batch *before* the update), and when
        asked: ``accuracy``, ``angle`` (degrees between this rule's step and
        the ``compare`` rule's), ``grad_norm``.
    eig : Result
        The stability criterion (:func:`fpnotes.stability.stability_criterion`)
        every ``eig_every`` iterations, at the batch's fixed points before that
        update, and at the end (on the next batch): ``iteration``, ``max_real``
        (max Re lambda(W)), ``unstable_fraction`` (fraction of the batch's patterns
        with Re lambda(G_i W) >= 1) and ``max_real_GW`` (the largest Re lambda(G_i W)
        over the batch when it is >= 1, else NaN). NaN where no fixed point was found.
    lost_at : int or None
        The first iteration at which the run *lost its fixed point*: a check found
        an unstable pattern, or a fixed-point solve failed. None if it never did.
    test : Result
        ``iteration``, ``loss``, ``accuracy`` on the test set every ``eval_every``.
    diverged : bool
    interrupted : bool
        True on the partial result attached to a ``KeyboardInterrupt``.
    message : str
    iterations : int
        Updates applied.
    """


def train(W0, X, targets, *, rule, lr, n_iter, f="tanh", loss="squared_error", readout=None,
          batch_size=None, seed=0, compare=None, eig_every=0, X_test=None, targets_test=None,
          eval_every=0, solver=None, require_stable=False, stability_sample=None,
          progress=False):
    """Train W with a learning rule on losses at fixed points.

    Parameters
    ----------
    W0 : array_like, shape (N, N)
        Initial weights (not modified).
    X : array_like, shape (N, n)
        Inputs, one column per pattern (already projected, x = W_in u).
    targets : array_like
        (K, n) targets for squared error or (n,) int labels for cross-entropy.
    rule : {"dW1", "dW2", "dW3"}
    lr : float
    n_iter : int
        Number of updates.
    f : str or Activation
    loss : {"squared_error", "softmax_cross_entropy"} or callable
    readout : array_like, shape (K, N), optional
    batch_size : int, optional
        Minibatch size (sampled without replacement, reshuffled each epoch with
        ``seed``); full batch when None. Every fixed-point solve starts from the
        pattern's last fixed point (warm start), zeros for a pattern not yet seen.
    compare : str, optional
        Another rule: record the angle between its step and this rule's (costs
        one more step computation per iteration).
    eig_every : int
        Record the stability criterion (max Re lambda(W), the fraction of the batch
        whose fixed point is unstable, see :attr:`TrainResult.eig`) every this many
        iterations (0: never). A run that loses its fixed point goes on (unless
        ``require_stable``); ``lost_at`` and the message say where it happened.
    X_test, targets_test : optional
        Evaluated every ``eval_every`` iterations and at the end.
    solver : dict, optional
        Keyword arguments for :func:`~fpnotes.solvers.fixed_point`: ``method``, ``tol``,
        ``max_iter``, ``options`` (the method's options, e.g. ``{"method": "anderson",
        "options": {"memory": 10}}``) or the shorthands ``damping``, ``h``, ``memory``;
        checked before the first iteration (an option the method does not have is a
        TypeError).
    require_stable : bool
        Stop where the run loses its fixed point: also when a fixed point is found
        but is unstable for the dynamics (some eigenvalue of G_i W with real part
        >= 1): such a state exists but the network never settles there, so it is no
        model of a response. Checked every ``eig_every`` iterations (every
        iteration when ``eig_every`` is 0); a certificate proves most patterns
        stable cheaply, the others need a dense eigendecomposition.
    stability_sample : int, optional
        Judge the stability of this many patterns of the batch at each check (a
        seeded sample, see :func:`fpnotes.stability.stability_criterion`); all of
        them when None. The exact test costs more than a training step at N = 300.
    progress : bool
        Show a progress bar while training: tqdm on stderr in a terminal, an HTML bar
        in Jupyter. Either is removed when the run ends, so no stale bar is left in a
        stored notebook.

    Returns
    -------
    TrainResult
        A run that meets an arithmetic failure (no fixed point, a singular or
        overflowing step) stops with ``diverged=True`` and says why; what it
        recorded so far is kept.

    Raises
    ------
    TypeError
        For an argument of the wrong type, checked before the first iteration;
        the message names the argument.
    ValueError
        For a wrong shape or value, the test set included, likewise.
    KeyboardInterrupt
        On Ctrl-C, re-raised with the partial :class:`TrainResult` attached as
        ``.result`` (``interrupted=True``, the history up to the last completed
        update): ``except KeyboardInterrupt as e: res = e.result``.
    """
    W = as_weights(W0, "W0").copy()
    X, _ = as_patterns(X, W.shape[0])
    if not isinstance(rule, str) or rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; use one of {', '.join(RULES)}")
    if compare is not None and (not isinstance(compare, str) or compare not in RULES):
        raise ValueError(f"unknown compare rule {compare!r}; use one of {', '.join(RULES)}")
    lr = check_lr(lr)
    if not (isinstance(n_iter, (int, np.integer)) and n_iter >= 0):
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}")
    loss_fn = get_loss(loss)
    solver = {"tol": 1e-10, **check_solver_options(solver)}
    eig_every = check_int(eig_every, "eig_every")
    eval_every = check_int(eval_every, "eval_every")
    stability_sample = check_int(stability_sample, "stability_sample", minimum=1, optional=True)
    _check_inputs(W.shape[0], X, targets, f, rule, compare, loss_fn, readout)
    if (X_test is None) != (targets_test is None):
        raise ValueError("X_test and targets_test go together: pass both or neither")
    if X_test is not None:
        X_test, _ = as_patterns(X_test, W.shape[0], "X_test")
        _check_targets(loss_fn, X_test, targets_test, readout, "targets_test")
    n = X.shape[1]
    valid_batch = isinstance(batch_size, (int, np.integer)) and batch_size > 0
    if batch_size is not None and not valid_batch:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    try:
        np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"seed must be an integer or None, got {seed!r} ({exc})") from None
    batches = _batches(n, batch_size, seed)
    warm = _WarmStarts(X.shape)  # each pattern's last fixed point starts its next solve
    warm_test = _WarmStarts(None if X_test is None else X_test.shape)
    hist = {"loss": [], "accuracy": [], "angle": []}
    eig = {"iteration": [], "max_real": [], "unstable_fraction": [], "max_real_GW": []}
    lost_at = None
    test = {"iteration": [], "loss": [], "accuracy": []}
    R_prev, message, diverged = None, f"finished {n_iter} iterations", False
    bar = progress_bar(n_iter, f"{rule} lr={lr:g}", show=progress)
    it = done = 0
    interrupt = None
    try:
        for it in range(n_iter):
            idx = next(batches)
            Xb = X if idx is None else X[:, idx]
            Tb = targets if idx is None else _take(targets, idx)
            check = bool(eig_every) and it % eig_every == 0
            if eval_every and X_test is not None and it % eval_every == 0:
                _evaluate(test, it, W, X_test, targets_test, f, loss_fn, readout, solver,
                          warm_test)
            fp = _solve(W, Xb, f, solver, R_prev if idx is None else warm.start(idx))
            if not fp.converged:
                message = (f"diverged at iteration {it}: no fixed point found for "
                           f"{fp.failed.size} of {Xb.shape[1]} patterns (residual "
                           f"{fp.residual:.2e}); "
                           f"max Re lambda(W) = {max_real_eig(W):.3f}")
                diverged, lost_at = True, it if lost_at is None else lost_at
                if check:
                    _record(eig, it, W, None)
                break
            if check or (require_stable and not eig_every):
                crit = stability_criterion(W, fp.gains, sample=stability_sample,
                                           seed=_check_seed(seed, it))
                if check:
                    _record(eig, it, W, crit)
                if crit.unstable.size and lost_at is None:
                    lost_at = it
                    lost = (f"the fixed point of {crit.unstable.size} of "
                            f"{crit.patterns.size} patterns checked is unstable (the "
                            f"dynamics do not settle there); "
                            f"max Re lambda(W) = {crit.max_real_W:.3f}")
                if crit.unstable.size and require_stable:
                    message = f"diverged at iteration {it}: {lost}"
                    diverged = True
                    break
            out = _call_loss(loss_fn, fp.r, Tb, readout)
            if not np.isfinite(out.loss):
                message, diverged = f"diverged at iteration {it}: loss is {out.loss}", True
                break
            hist["loss"].append(out.loss)
            hist["accuracy"].append(out.get("accuracy", np.nan))
            try:
                with np.errstate(over="raise", invalid="raise", divide="raise"), \
                        warnings.catch_warnings():
                    warnings.simplefilter("error", ConvergenceWarning)
                    dW = step(rule, W, Xb, fp.r, out.delta, f, lr)
                    if compare is not None:
                        other = step(compare, W, Xb, fp.r, out.delta, f, lr)
                        hist["angle"].append(angle(dW, other))
            except (FloatingPointError, np.linalg.LinAlgError, ConvergenceWarning,
                    ValueError) as exc:
                message = f"diverged at iteration {it}: the {rule} step failed ({exc})"
                diverged = True
                hist["loss"].pop(), hist["accuracy"].pop()
                break
            if not np.all(np.isfinite(dW)):
                message = f"diverged at iteration {it}: the {rule} step is not finite"
                diverged = True
                break
            W += dW
            done = it + 1
            if idx is None:
                R_prev = fp.r
            else:
                warm.keep(idx, fp.r)
            bar.update(1)
        else:
            it = n_iter
    except KeyboardInterrupt as exc:  # keep what was recorded; re-raised below with it
        interrupt, it = exc, _keep_completed(hist, done)
        message = f"interrupted at iteration {done} (KeyboardInterrupt)"
    except (ArithmeticError, np.linalg.LinAlgError, FixedPointError) as exc:
        # OverflowError, a singular solve, a failed eigendecomposition: the run diverged
        it, diverged = _keep_completed(hist, done), True
        message = f"diverged at iteration {done}: {type(exc).__name__}: {exc}"
    bar.close()
    if eig_every and interrupt is None and not (eig["iteration"] and eig["iteration"][-1] == it):
        final = None if diverged else _final_check(W, X, f, solver, batches, stability_sample,
                                                   _check_seed(seed, it))
        _record(eig, it, W, final)
    if lost_at is not None and not diverged:
        message += f"; lost its fixed point at iteration {lost_at}: {lost}"
    if X_test is not None and not diverged and interrupt is None:
        _evaluate(test, it, W, X_test, targets_test, f, loss_fn, readout, solver, warm_test)
    history = Result(iteration=np.arange(len(hist["loss"])),
                     **{k: np.asarray(v, dtype=np.float64) for k, v in hist.items()})
    if compare is None:
        del history["angle"]
    if np.all(np.isnan(history["accuracy"])):
        del history["accuracy"]
    result = TrainResult(W=W, history=history, eig=_arrays(eig), test=_arrays(test),
                         diverged=diverged, message=message, iterations=it, rule=rule, lr=lr,
                         interrupted=interrupt is not None, lost_at=lost_at)
    if interrupt is not None:
        interrupt.result = result
        raise interrupt
    return result


def _check_inputs(N, X, targets, f, rule, compare, loss_fn, readout):
    """The checks a first iteration would make, made before it."""
    act = as_activation(f, N)
    for key in (rule, compare):
        if key is not None and RULES[key].linear_only and not is_linear(act):
            raise ValueError(f"rule {key!r} ({RULES[key].name}) is defined for linear networks "
                             f"only; got activation {getattr(act, 'name', act)!r}")
    _check_targets(loss_fn, X, targets, readout, "targets")


def _check_targets(loss_fn, X, targets, readout, name):
    # The loss itself knows what its targets look like: try it once on zero states
    # (a read-only broadcast view: no (N, n) array is allocated for a large data set).
    try:
        _call_loss(loss_fn, np.broadcast_to(0.0, X.shape), targets, readout)
    except (TypeError, ValueError) as exc:
        text = str(exc)
        raise type(exc)(text if text.startswith(name) else f"{name}: {text}") from None


def _keep_completed(hist, done):
    """Drop what an iteration recorded before it was cut short (its update never came)."""
    for values in hist.values():
        del values[done:]
    return done


def _record(eig, it, W, crit):
    """Append one stability check (NaN for the batch's part when no fixed point was found)."""
    eig["iteration"].append(it)
    eig["max_real"].append(_max_real_or_nan(W) if crit is None else crit.max_real_W)
    eig["unstable_fraction"].append(np.nan if crit is None else crit.unstable_fraction)
    eig["max_real_GW"].append(np.nan if crit is None else crit.max_real_GW)


def _check_seed(seed, it):
    """The seed of the stability check's sample at iteration ``it`` of a run."""
    return None if seed is None else [int(seed), int(it)]


def _final_check(W, X, f, solver, batches, sample, seed):
    """The stability criterion at the final W, on the batch the next update would use."""
    idx = next(batches)
    fp = _solve(W, X if idx is None else X[:, idx], f, solver, None)
    try:
        return stability_criterion(W, fp.gains, sample=sample, seed=seed) if fp.converged \
            else None
    except (ArithmeticError, np.linalg.LinAlgError):
        return None


def _max_real_or_nan(W):
    try:
        return max_real_eig(W)
    except (ArithmeticError, np.linalg.LinAlgError):
        return np.nan


def train_task(task, rule, lr, n_iter, **kwargs):
    """:func:`train` on a task from :mod:`fpnotes.tasks` (its W0, X, targets, f, loss, ...)."""
    defaults = dict(f=task.f, loss=task.loss, readout=task.get("readout"),
                    X_test=task.get("X_test"), targets_test=task.get("targets_test"))
    defaults.update(kwargs)
    return train(task.W0, task.X, task.targets, rule=rule, lr=lr, n_iter=n_iter, **defaults)


def _solve(W, X, f, solver, R_prev):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fixed_point(W, X, f, r0=R_prev, on_fail="ignore", **solver)


def _call_loss(loss_fn, R, targets, readout):
    return loss_fn(R, targets, readout) if readout is not None else loss_fn(R, targets)


def _evaluate(store, it, W, X, targets, f, loss_fn, readout, solver, warm):
    everything = slice(None)
    fp = _solve(W, X, f, solver, warm.start(everything))
    if fp.converged:
        warm.keep(everything, fp.r)
    out = _call_loss(loss_fn, fp.r, targets, readout) if fp.converged else Result(loss=np.nan)
    store["iteration"].append(it)
    store["loss"].append(out.loss)
    store["accuracy"].append(out.get("accuracy", np.nan))


class _WarmStarts:
    """The last fixed point found for each pattern, to start its next solve from.

    A minibatch revisits a pattern a few updates later, when W has moved a little, so
    its old fixed point is a far better start than zeros (measured on the MNIST task:
    about half the iterations). Only converged solves are kept; a pattern never solved
    starts from zeros. The cache (N, n) is allocated at the first solve kept.
    """

    def __init__(self, shape):
        self.shape, self.R = shape, None

    def start(self, idx):
        return None if self.R is None else self.R[:, idx]

    def keep(self, idx, R):
        if self.R is None:
            self.R = np.zeros(self.shape)
        self.R[:, idx] = R


def _take(targets, idx):
    t = np.asarray(targets)
    return t[idx] if t.ndim == 1 else t[:, idx]


def _batches(n, batch_size, seed):
    if batch_size is None or batch_size >= n:
        while True:
            yield None
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


def _arrays(d):
    return Result({k: np.asarray(v, dtype=np.float64) for k, v in d.items()})

"""Training: one loop, and the updates it applies.

:func:`train` runs the loop -- minibatches, the test set every ``eval_every`` updates,
the stability record every ``eig_every``, the progress bar, divergence and Ctrl-C --
and records the run in a :class:`TrainResult`. What one update is comes from an
update object:

* :class:`FixedPointUpdate` -- a learning rule (dW1, dW2, dW3) at the batch's fixed
  points, with the solver's settings, the rule to ``compare`` with and the stability
  criterion (``require_stable``, ``stability_sample``);
* :class:`fpnotes.bptt_training.BPTTUpdate` -- gradient descent on the loss after
  ``steps`` Euler steps (backpropagation through time).

``train(..., rule="dW1", ...)`` is the shorthand for ``update=FixedPointUpdate("dW1")``.
Both kinds run in the same loop, so a comparison between them is fair by construction.

A run stops cleanly on divergence -- a non-finite loss, a fixed point that cannot be
found, a singular reparameterized step -- and says at which iteration and why, instead
of raising from deep inside numpy. An update says so by raising
:class:`UpdateDiverged`.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._progress import progress_bar
from ._result import Result
from ._validation import _check_finite, as_like, as_patterns, as_weights, check_int, check_lr
from .activations import as_activation, is_linear
from .losses import LOSSES, _check_targets, _prepare_loss, get_loss
from .rules import RULES, _angle, _checked_step
from .solvers import (
    ConvergenceWarning,
    FixedPointError,
    _checked_options,
    _fixed_point,
    check_solver_options,
)
from .stability import _max_real_eig, _stability_criterion

__all__ = ["train", "train_task", "TrainResult", "Update", "FixedPointUpdate",
           "UpdateDiverged"]


class TrainResult(Result):
    """Result of :func:`train`.

    Attributes
    ----------
    W : ndarray (N, N)
        Final weights (the last finite ones if the run diverged).
    history : Result of 1-D arrays, one entry per completed iteration
        ``loss`` (training loss of the batch *before* the update), and when
        asked: ``accuracy``, ``angle`` (degrees between this rule's step and
        the ``compare`` rule's).
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
    rule : str
        The rule (``"dW1"``, ...), or ``"BPTT"``.
    lr : float

    Notes
    -----
    A BPTT run (:class:`fpnotes.bptt_training.BPTTUpdate`, ``rule="BPTT"``) records what
    makes sense without a fixed point: ``history.loss`` and ``accuracy`` at r_T, the
    state after ``steps`` Euler steps, of the batch before each update; ``test`` at r_T of
    the test set; ``eig`` has ``iteration`` and ``max_real`` (max Re lambda(W)) only;
    there is no ``lost_at``, and the result also holds ``steps`` and ``h``.
    """


class UpdateDiverged(Exception):
    """Raised by an update's ``step`` when there is no update at this W (the run diverged).

    :func:`train` ends the run with ``diverged=True`` and the message
    ``"diverged at iteration k: <this message>"``; nothing else raises it.

    Parameters
    ----------
    message : str
        Why, e.g. ``"no fixed point found for 3 of 64 patterns (...)"``.
    record : dict, optional
        The stability check made at this iteration before the failure (recorded in
        ``TrainResult.eig``), or None.
    lost : str, optional
        Why the run lost its fixed point at this iteration (sets ``lost_at``), or None.
    """

    def __init__(self, message, *, record=None, lost=None):
        super().__init__(message)
        self.record, self.lost = record, lost


class Update:
    """What one update of :func:`train` is; :class:`FixedPointUpdate` and
    :class:`fpnotes.bptt_training.BPTTUpdate` implement it.

    An update is configured when it is made (its arguments are checked there), and
    :func:`train` calls, in this order:

    * ``prepare(run)`` once, before the first iteration: check what depends on the
      network and the data (e.g. dW2 refuses a nonlinear network) and reset the state
      kept across iterations (warm starts). ``run`` has ``N``, ``act`` (the
      activation), ``loss`` (a kernel ``(R, T) -> Result`` with ``loss``, ``delta`` and
      maybe ``accuracy``), ``builtin_loss`` (whether it is one of ``fpnotes.LOSSES``,
      whose ``delta`` has the right shape by construction), ``lr``, ``seed``,
      ``eig_every``, ``shape`` and ``test_shape`` (of X and X_test; None without a test
      set).
    * ``step(W, Xb, Tb, *, batch, it, check)`` once per iteration, on the batch
      (``batch`` is the index array of its patterns, None for the full batch): a
      :class:`~fpnotes._result.Result` with ``outputs`` (the loss's result on the
      batch before the update), ``dW`` (finite), ``extra`` (the values of
      ``extra_history``), ``record`` (the stability check when ``check`` is true, else
      None: a dict of the ``eig_fields``) and ``lost`` (None, or why the network lost its
      fixed point here); or raise :class:`UpdateDiverged`. The arrays are checked once
      by :func:`train`; ``step`` does not check them again.
    * ``evaluate(W, X, T)``: the loss's result on a test set (``loss`` NaN when the
      network has no response to it).
    * ``final_record(W, Xb, it)``: the stability record at the end of the run, on the
      batch ``Xb`` the next update would use (None after a divergence: then only what W
      alone gives). By default max Re lambda(W).

    Class attributes: ``eig_fields`` (the fields of ``TrainResult.eig`` besides
    ``iteration``), ``extra_history`` (more fields of ``TrainResult.history``),
    ``records_lost_at`` (whether the result has ``lost_at``). ``name`` labels the run
    (``TrainResult.rule``), ``result_fields()`` adds fields to the result.
    """

    name = "update"
    eig_fields = ("max_real",)
    extra_history = ()
    records_lost_at = False

    def prepare(self, run):
        self.run = run

    def step(self, W, Xb, Tb, *, batch, it, check):
        raise NotImplementedError

    def evaluate(self, W, X, T):
        raise NotImplementedError

    def final_record(self, W, Xb, it):
        return {"max_real": _max_real_or_nan(W)}

    def result_fields(self):
        return {}

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


class FixedPointUpdate(Update):
    """A learning rule applied at the batch's fixed points: the update of ``train(rule=...)``.

    Parameters
    ----------
    rule : {"dW1", "dW2", "dW3"}
        ``"dW2"`` is defined for linear networks only: :func:`train` refuses a nonlinear
        one before the first iteration.
    solver : dict, optional
        Keyword arguments for :func:`~fpnotes.solvers.fixed_point` (e.g. ``method``,
        ``tol``; ``tol`` defaults to 1e-10). Every solve starts from the pattern's last
        fixed point (warm start), zeros for a pattern not yet seen.
    compare : str, optional
        Another rule: record the angle between its step and this rule's
        (``history.angle``; costs one more step computation per iteration).
    require_stable : bool
        Stop where the run loses its fixed point, also when a fixed point is found but
        is unstable for the dynamics (see :func:`train`).
    stability_sample : int, optional
        Judge the stability of this many patterns of the batch at each check (a seeded
        sample); all of them when None.
    """

    eig_fields = ("max_real", "unstable_fraction", "max_real_GW")
    records_lost_at = True

    def __init__(self, rule, solver=None, compare=None, *, require_stable=False,
                 stability_sample=None):
        if not isinstance(rule, str) or rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}; use one of {', '.join(RULES)}")
        if compare is not None and (not isinstance(compare, str) or compare not in RULES):
            raise ValueError(f"unknown compare rule {compare!r}; use one of {', '.join(RULES)}")
        self.rule, self.compare, self.name = rule, compare, rule
        self.solver = {"tol": 1e-10, **check_solver_options(solver)}
        self.require_stable = bool(require_stable)
        self.stability_sample = check_int(stability_sample, "stability_sample", minimum=1,
                                          optional=True)
        self.extra_history = () if compare is None else ("angle",)

    def prepare(self, run):
        for key in (self.rule, self.compare):
            if key is not None and RULES[key].linear_only and not is_linear(run.act):
                raise ValueError(f"rule {key!r} ({RULES[key].name}) is defined for linear "
                                 f"networks only; got activation "
                                 f"{getattr(run.act, 'name', run.act)!r}")
        self.options = _checked_options(run.act, **self.solver)
        self.run = run
        self.warm = _WarmStarts(run.shape)  # each pattern's last fixed point starts its next solve
        self.warm_test = _WarmStarts(run.test_shape)
        self.R_prev = None  # the full batch's last fixed points

    def step(self, W, Xb, Tb, *, batch, it, check):
        run = self.run
        fp = _solve(W, Xb, run.act, self.options,
                    self.R_prev if batch is None else self.warm.start(batch))
        record = lost = None
        if not fp.converged:
            why = (f"no fixed point found for {fp.failed.size} of {Xb.shape[1]} patterns "
                   f"(residual {fp.residual:.2e}); max Re lambda(W) = {_max_real_eig(W):.3f}")
            raise UpdateDiverged(why, record=self._record(W, None) if check else None, lost=why)
        if check or (self.require_stable and not run.eig_every):
            crit = _stability_criterion(W, fp.gains, sample=self.stability_sample,
                                        seed=_check_seed(run.seed, it))
            if check:
                record = self._record(W, crit)
            if crit.unstable.size:
                lost = (f"the fixed point of {crit.unstable.size} of {crit.patterns.size} "
                        f"patterns checked is unstable (the dynamics do not settle there); "
                        f"max Re lambda(W) = {crit.max_real_W:.3f}")
                if self.require_stable:
                    raise UpdateDiverged(lost, record=record, lost=lost)
        out = run.loss(fp.r, Tb)
        if not np.isfinite(out.loss):
            raise UpdateDiverged(f"loss is {out.loss}", record=record, lost=lost)
        extra = {}
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"), \
                    warnings.catch_warnings():
                warnings.simplefilter("error", ConvergenceWarning)
                D = _checked_delta(out.delta, Xb.shape, run.builtin_loss)
                dW = _checked_step(RULES[self.rule], W, Xb, fp.r, D, run.act, run.lr)
                if self.compare is not None:
                    other = _checked_step(RULES[self.compare], W, Xb, fp.r, D, run.act, run.lr)
                    extra["angle"] = _angle(dW, other)  # ValueError for a zero step
        except (FloatingPointError, np.linalg.LinAlgError, ConvergenceWarning,
                ValueError) as exc:
            raise UpdateDiverged(f"the {self.rule} step failed ({exc})", record=record,
                                 lost=lost) from None
        if batch is None:
            self.R_prev = fp.r
        else:
            self.warm.keep(batch, fp.r)
        return Result(outputs=out, dW=dW, extra=extra, record=record, lost=lost)

    def evaluate(self, W, X, T):
        everything = slice(None)
        fp = _solve(W, X, self.run.act, self.options, self.warm_test.start(everything))
        if not fp.converged:
            return Result(loss=np.nan)
        self.warm_test.keep(everything, fp.r)
        return self.run.loss(fp.r, T)

    def final_record(self, W, Xb, it):
        """The stability criterion at the final W on the batch ``Xb`` (solved from zeros)."""
        crit = None
        if Xb is not None:
            fp = _solve(W, Xb, self.run.act, self.options, None)
            try:
                crit = _stability_criterion(W, fp.gains, sample=self.stability_sample,
                                            seed=_check_seed(self.run.seed, it)) \
                    if fp.converged else None
            except (ArithmeticError, np.linalg.LinAlgError):
                crit = None
        return self._record(W, crit)

    @staticmethod
    def _record(W, crit):
        """One stability check (NaN for the batch's part when no fixed point was found)."""
        return {"max_real": _max_real_or_nan(W) if crit is None else crit.max_real_W,
                "unstable_fraction": np.nan if crit is None else crit.unstable_fraction,
                "max_real_GW": np.nan if crit is None else crit.max_real_GW}

    def __repr__(self):
        compare = "" if self.compare is None else f", compare={self.compare!r}"
        return f"FixedPointUpdate({self.rule!r}{compare})"


def train(W0, X, targets, *, lr, n_iter, update=None, rule=None, f="tanh",
          loss="squared_error", readout=None, batch_size=None, seed=0, compare=None,
          eig_every=0, X_test=None, targets_test=None, eval_every=0, solver=None,
          require_stable=False, stability_sample=None, progress=False):
    """Train W: the one training loop, with a learning rule on fixed points or BPTT.

    Parameters
    ----------
    W0 : array_like, shape (N, N)
        Initial weights (not modified).
    X : array_like, shape (N, n)
        Inputs, one column per pattern (already projected, x = W_in u).
    targets : array_like
        (K, n) targets for squared error or (n,) int labels for cross-entropy.
    lr : float
    n_iter : int
        Number of updates.
    update : Update, optional
        What one update is: :class:`FixedPointUpdate` (a learning rule at the batch's
        fixed points) or :class:`fpnotes.bptt_training.BPTTUpdate` (backpropagation
        through ``steps`` Euler steps). Give either ``update`` or ``rule``.
    rule : {"dW1", "dW2", "dW3"}, optional
        Shorthand: ``rule``, ``compare``, ``solver``, ``require_stable`` and
        ``stability_sample`` make ``update=FixedPointUpdate(rule, solver, compare,
        require_stable=..., stability_sample=...)``; with ``update`` they must be left out.
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
        ``require_stable``); ``lost_at`` and the message say where it happened. A
        BPTT run records max Re lambda(W) only.
    X_test, targets_test : optional
        Evaluated every ``eval_every`` iterations and at the end (at the fixed points,
        or at r_T for BPTT).
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
    update = _the_update(update, rule, compare=compare, solver=solver,
                         require_stable=require_stable, stability_sample=stability_sample)
    lr = check_lr(lr)
    if not (isinstance(n_iter, (int, np.integer)) and n_iter >= 0):
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}")
    loss_fn = get_loss(loss)
    eig_every = check_int(eig_every, "eig_every")
    eval_every = check_int(eval_every, "eval_every")
    act = as_activation(f, W.shape[0])
    _check_targets(loss_fn, X.shape, targets, readout, "targets")
    if (X_test is None) != (targets_test is None):
        raise ValueError("X_test and targets_test go together: pass both or neither")
    if X_test is not None:
        X_test, _ = as_patterns(X_test, W.shape[0], "X_test")
        _check_targets(loss_fn, X_test.shape, targets_test, readout, "targets_test")
    valid_batch = isinstance(batch_size, (int, np.integer)) and batch_size > 0
    if batch_size is not None and not valid_batch:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    try:
        np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"seed must be an integer or None, got {seed!r} ({exc})") from None
    kernel, targets = _prepare_loss(loss_fn, targets, readout)
    test = None if X_test is None else (X_test, _prepare_loss(loss_fn, targets_test, readout)[1])
    update.prepare(Result(N=W.shape[0], act=act, loss=kernel, lr=lr, seed=seed,
                          builtin_loss=loss_fn in LOSSES.values(),
                          eig_every=eig_every, shape=X.shape,
                          test_shape=None if X_test is None else X_test.shape))
    return _loop(update, W, X, targets, lr=lr, n_iter=n_iter,
                 batches=_batches(X.shape[1], batch_size, seed), eig_every=eig_every,
                 test=test, eval_every=eval_every, progress=progress)


def _the_update(update, rule, *, compare, solver, require_stable, stability_sample):
    """The update object of a :func:`train` call (``rule=`` makes a FixedPointUpdate)."""
    if update is None:
        if rule is None:
            raise TypeError("train needs update= (a FixedPointUpdate or BPTTUpdate) or rule= "
                            f"(one of {', '.join(RULES)})")
        return FixedPointUpdate(rule, solver, compare, require_stable=require_stable,
                                stability_sample=stability_sample)
    if not isinstance(update, Update):
        raise TypeError("update must be an Update (FixedPointUpdate or BPTTUpdate), got "
                        f"{type(update).__name__}")
    given = [name for name, value in (("rule", rule), ("compare", compare), ("solver", solver),
                                      ("stability_sample", stability_sample))
             if value is not None] + (["require_stable"] if require_stable else [])
    if given:
        raise TypeError(f"{', '.join(given)}: options of the fixed-point update; with "
                        "update= give them to FixedPointUpdate(rule, solver, compare, ...)")
    return update


def _loop(update, W, X, targets, *, lr, n_iter, batches, eig_every, test, eval_every,
          progress):
    """The training loop, on checked arguments; ``update`` is prepared."""
    hist = {"loss": [], "accuracy": [], **{k: [] for k in update.extra_history}}
    eig = {"iteration": [], **{k: [] for k in update.eig_fields}}
    tests = {"iteration": [], "loss": [], "accuracy": []}
    lost_at = lost = None
    message, diverged = f"finished {n_iter} iterations", False
    bar = progress_bar(n_iter, f"{update.name} lr={lr:g}", show=progress)
    it = done = 0
    interrupt = None
    try:
        for it in range(n_iter):
            idx = next(batches)
            Xb = X if idx is None else X[:, idx]
            Tb = targets if idx is None else _take(targets, idx)
            check = bool(eig_every) and it % eig_every == 0
            if eval_every and test is not None and it % eval_every == 0:
                _append(tests, it, update.evaluate(W, *test))
            try:
                out = update.step(W, Xb, Tb, batch=idx, it=it, check=check)
            except UpdateDiverged as exc:
                out, message, diverged = exc, f"diverged at iteration {it}: {exc}", True
            if out.record is not None:
                _append_record(eig, it, out.record)
            if out.lost is not None and lost_at is None:
                lost_at, lost = it, out.lost
            if diverged:
                break
            with np.errstate(over="ignore", invalid="ignore"):
                W_next = W + out.dW
            if not np.all(np.isfinite(W_next)):
                message = f"diverged at iteration {it}: the update overflows W"
                diverged = True
                break
            hist["loss"].append(out.outputs.loss)
            hist["accuracy"].append(out.outputs.get("accuracy", np.nan))
            for key in update.extra_history:
                hist[key].append(out.extra[key])
            W = W_next
            done = it + 1
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
        idx = None if diverged else next(batches)
        Xb = None if diverged else X if idx is None else X[:, idx]
        _append_record(eig, it, update.final_record(W, Xb, it))
    if lost_at is not None and not diverged:
        message += f"; lost its fixed point at iteration {lost_at}: {lost}"
    if test is not None and not diverged and interrupt is None:
        _append(tests, it, update.evaluate(W, *test))
    history = Result(iteration=np.arange(len(hist["loss"])),
                     **{k: np.asarray(v, dtype=np.float64) for k, v in hist.items()})
    if np.all(np.isnan(history["accuracy"])):
        del history["accuracy"]
    result = TrainResult(W=W, history=history, eig=_arrays(eig), test=_arrays(tests),
                         diverged=diverged, message=message, iterations=it, rule=update.name,
                         lr=lr, **update.result_fields(), interrupted=interrupt is not None)
    if update.records_lost_at:
        result.lost_at = lost_at
    if interrupt is not None:
        interrupt.result = result
        raise interrupt
    return result


def _keep_completed(hist, done):
    """Drop what an iteration recorded before it was cut short (its update never came)."""
    for values in hist.values():
        del values[done:]
    return done


def _append_record(eig, it, record):
    eig["iteration"].append(it)
    for key, value in record.items():
        eig[key].append(value)


def _append(store, it, out):
    store["iteration"].append(it)
    store["loss"].append(out.loss)
    store["accuracy"].append(out.get("accuracy", np.nan))


def _check_seed(seed, it):
    """The seed of the stability check's sample at iteration ``it`` of a run."""
    return None if seed is None else [int(seed), int(it)]


def _max_real_or_nan(W):
    try:
        return _max_real_eig(W)
    except (ArithmeticError, np.linalg.LinAlgError):
        return np.nan


def train_task(task, rule, lr, n_iter, **kwargs):
    """:func:`train` on a task from :mod:`fpnotes.tasks` (its W0, X, targets, f, loss, ...)."""
    defaults = dict(f=task.f, loss=task.loss, readout=task.get("readout"),
                    X_test=task.get("X_test"), targets_test=task.get("targets_test"))
    defaults.update(kwargs)
    return train(task.W0, task.X, task.targets, rule=rule, lr=lr, n_iter=n_iter, **defaults)


def _checked_delta(delta, shape, builtin):
    """The loss's dl/dr of a batch, new at each iteration: finite (and, from a loss that is
    not built in, of the batch's shape), or ValueError naming ``delta``."""
    if not builtin:
        return as_like(delta, shape, "delta")
    _check_finite(delta, "delta")
    return delta


def _solve(W, X, act, options, R0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _fixed_point(W, X, act, R0, on_fail="ignore", **options)


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

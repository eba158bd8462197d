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

import concurrent.futures as cf
from pathlib import Path

from .._progress import progress_bar
from .._result import Result
from ..tasks import mnist_task  # noqa: F401 -- re-exported: it was defined here before
from .config import MNIST_RATES, MNIST_SEEDS, _canonical, _plain, config_key, grid, paper_configs
from .execute import (
    InlineExecutor,
    _as_executor,
    _check_main_guard,
    _is_dask_client,
    _run_on_own_pool,
    _salvage,
)
from .run import as_train_result, run_config
from .store import StoreWarning, _read, _verified, _write_atomic, load_results

__all__ = ["grid", "sweep", "run_config", "load_results", "config_key",
           "paper_configs", "as_train_result",
           "SweepResult", "InlineExecutor", "StoreWarning",
           "MNIST_RATES", "MNIST_SEEDS"]


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

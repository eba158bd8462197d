"""Where a sweep's runs execute: an inline executor, the default process pool and its
workers (one BLAS thread each, a watchdog on the driver), Dask clients, and the bookkeeping
that survives runs which kill their worker or an interrupt.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import itertools
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures.process import BrokenProcessPool

__all__ = ["InlineExecutor"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


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

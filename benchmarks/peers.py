"""Peers: fpnotes' default fixed-point solve against other solvers, and BLAS threads.

Issue 17. Four cases: N = 300 tanh units, m = 512 patterns (128 with --quick),
W = rho N(0,1)/sqrt(N) with rho in {0.5, 0.9}, X = scale N(0,1) with scale in {1, 2}
(seed 0 for every case). Every method solves r = tanh(W r + x) for all m columns from r = 0:

* fpnotes.fixed_point(W, X, tol=1e-10), the default (max-abs residual 1e-10 per pattern);
* scipy.optimize.newton_krylov and scipy.optimize.anderson on the flattened system
  F(R) = R - tanh(W R + X) of size N*m, f_tol=1e-10 (their max-norm);
* the paper's 500 forward-Euler steps of h = 0.01 (a plain numpy loop);
* the floor: a bare numpy loop R <- tanh(W R + X) doing as many steps as fpnotes did;
* optional, when importable (never dependencies): jaxopt's jitted FixedPointIteration
  (float64) and torchdeq's fixed-point iteration, Anderson and Broyden solvers (float64).

One compute thread for every library (threadpoolctl for numpy/scipy, torch.set_num_threads,
for jax XLA flags and a client started on one CPU; the "threads" column counts the threads
that did the work in a run, from /proc: median over runs, "?" where runs are too short to
tell), medians over repeats that are interleaved (round-robin over the methods within each
repeat, so that machine load affects all alike).
Every method's answer is judged the same way: max |R - tanh(W R + X)| over all entries.
"evals" counts evaluations of tanh(W R + X), i.e. (N, N) @ (N, m) products; for fpnotes it
is result.work, its cost in GEMM equivalents.

Then the default solve with 1 vs 2 BLAS threads, alone and beside a second Python process
doing GEMMs (1 or 2 BLAS threads).

Run: `make bench`, or `.venv/bin/python benchmarks/peers.py [--quick]`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import importlib.metadata
import os
import platform
import subprocess
import sys
import textwrap
import time
import warnings

# XLA reads its flags when jax is first imported: one intra-op thread, no multi-threaded Eigen.
_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
if _XLA_ONE_THREAD not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _XLA_ONE_THREAD).strip()

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402, F401  (loads scipy's own BLAS before threadpool_limits)
import scipy.optimize as so  # noqa: E402
from threadpoolctl import (  # noqa: E402
    ThreadpoolController,
    threadpool_info,
    threadpool_limits,
)

import fpnotes as fp  # noqa: E402

N = 300
TOL = 1e-10
CASES = [(0.5, 1.0), (0.5, 2.0), (0.9, 1.0), (0.9, 2.0)]  # (rho, input scale)
SEED = 0


def make_case(rho, scale, m, seed=SEED):
    rng = np.random.default_rng(seed)
    W = rho * rng.standard_normal((N, N)) / np.sqrt(N)
    X = scale * rng.standard_normal((N, m))
    return W, X


def max_residual(W, R, X):
    """The one yardstick for every method: max |R - tanh(W R + X)| over all entries."""
    R = np.asarray(R, dtype=float)
    if not np.all(np.isfinite(R)):
        return np.inf
    return float(np.max(np.abs(R - np.tanh(W @ R + X))))


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


# --- the methods -------------------------------------------------------------------------------
# Each is a function of no argument returning (R, evals, note); R may be any array-like of shape
# (N, m), converted after the clock stops.

def euler_500(W, X, h=0.01, steps=500):
    """The paper's simulation: 500 forward-Euler steps from r = 0, written plainly."""
    R = np.zeros_like(X)
    for _ in range(steps):
        R = R + h * (np.tanh(W @ R + X) - R)
    return R


def plain_loop(W, X, steps):
    """The floor: ``steps`` bare iterations R <- tanh(W R + X), no allocation, no checks."""
    R, Z = np.zeros_like(X), np.empty_like(X)
    for _ in range(steps):
        np.matmul(W, R, out=Z)
        Z += X
        np.tanh(Z, out=R)
    return R


def scipy_method(W, X, solver, **options):
    """A scipy.optimize.nonlin solver on the flattened F(R) = R - tanh(W R + X)."""
    m = X.shape[1]
    count = [0]

    def F(x):
        count[0] += 1
        R = x.reshape(N, m)
        return (R - np.tanh(W @ R + X)).ravel()

    def solve():
        count[0] = 0
        try:
            x = solver(F, np.zeros(N * m), f_tol=TOL, **options)
            note = ""
        except so.NoConvergence as exc:  # its argument is the last iterate
            x, note = exc.args[0], "NoConvergence"
        return x.reshape(N, m), count[0], note

    return solve


def optional_import(name):
    """Import an optional peer by name. (These are no dependencies of fpnotes, so they are not
    written as import statements, which tests/test_environment.py requires to be declared.)"""
    return importlib.import_module(name)


_JAX_STARTED = []


def import_jax_one_thread():
    """Import jax with float64 and one compute thread.

    XLA sizes its CPU thread pools from the process's CPU affinity when its client starts,
    and recent versions ignore the XLA flags set above (jax 0.10 still ran 4 busy threads
    with them). So the client starts while this thread is pinned to one CPU, and then every
    thread of the process gets the full affinity back (the pools stay one thread wide).
    """
    jax = optional_import("jax")
    jnp = optional_import("jax.numpy")
    if _JAX_STARTED:
        return jax

    pin = hasattr(os, "sched_setaffinity")
    if pin:
        mask = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(mask)})
    try:
        jax.config.update("jax_enable_x64", True)
        jax.jit(lambda a: a @ a)(jnp.ones((8, 8))).block_until_ready()  # starts the client
    finally:
        if pin:
            for tid in os.listdir("/proc/self/task"):
                try:
                    os.sched_setaffinity(int(tid), mask)
                except OSError:  # a thread that has just ended
                    pass
    _JAX_STARTED.append(True)
    return jax


def jaxopt_method(W, X):
    jax = import_jax_one_thread()  # first, so that no jax import starts its client before
    jnp = optional_import("jax.numpy")
    jaxopt = optional_import("jaxopt")
    Wj, Xj = jnp.asarray(W), jnp.asarray(X)
    assert Wj.dtype == jnp.float64
    # jaxopt stops on the l2 norm of the whole step R_k+1 - R_k (all N*m entries) <= tol:
    # a stricter test than 1e-10 per pattern in max-abs; the residual column shows the effect.
    fpi = jaxopt.FixedPointIteration(lambda R, W, X: jnp.tanh(W @ R + X),
                                     maxiter=1000, tol=TOL, jit=True)
    run = jax.jit(fpi.run)
    R0 = jnp.zeros_like(Xj)

    def solve():
        out = run(R0, Wj, Xj)
        out.params.block_until_ready()
        it = int(out.state.iter_num)
        return out.params, it, "maxiter reached" if it >= fpi.maxiter else ""

    t0 = time.perf_counter()
    solve()  # compile once, outside the clock
    return solve, time.perf_counter() - t0


def torchdeq_methods(W, X):
    torch = optional_import("torch")
    get_solver = optional_import("torchdeq.solver").get_solver

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work already started
        pass
    # torchdeq's batch is the leading axis: one row per pattern, so Z is R transposed.
    Wt = torch.from_numpy(np.ascontiguousarray(W.T))
    Xt = torch.from_numpy(np.ascontiguousarray(X.T))
    count = [0]

    def func(Z):
        count[0] += 1
        return torch.tanh(torch.addmm(Xt, Z, Wt))

    # tol is on each pattern's l2 norm of f(z) - z (stop_mode "abs"), stricter than max-abs.
    # Anderson's ridge lam defaults to 1e-4, tuned for tol ~ 1e-3; it is scaled down here
    # so that it does not swamp residuals near 1e-10 (see the note the table prints).
    settings = {
        "torchdeq fixed_point_iter": ("fixed_point_iter", {"max_iter": 1000}),
        "torchdeq anderson": ("anderson", {"max_iter": 200, "m": 6, "lam": 1e-12}),
        "torchdeq broyden": ("broyden", {"max_iter": 100}),  # keeps all 100 rank-1 updates
    }
    methods = {}
    for name, (key, options) in settings.items():
        solver = get_solver(key)

        def solve(solver=solver, options=options):
            count[0] = 0
            with torch.no_grad():
                Z, _, _ = solver(func, torch.zeros_like(Xt), tol=TOL, stop_mode="abs",
                                 **options)
            note = "max_iter reached" if count[0] >= options["max_iter"] else ""
            return Z.numpy().T, count[0], note

        methods[name] = solve
    return methods


_SKIPPED = set()


def optional(name, build):
    """Build an optional peer, or say (once) that it is skipped."""
    try:
        return build()
    except ImportError as exc:
        if name not in _SKIPPED:
            _SKIPPED.add(name)
            print(f"  ({name} is not installed (missing module {exc.name!r}): skipped; "
                  "it is optional, never a dependency)")
        return None


# --- timing ------------------------------------------------------------------------------------

def thread_ticks():
    """CPU time (clock ticks) used so far by each thread of this process (Linux), or None."""
    ticks = {}
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:  # a thread that has just ended
                continue
            ticks[tid] = int(fields[11]) + int(fields[12])  # utime + stime
    except OSError:
        return None
    return ticks


def busy_threads(ticks):
    """Threads that did at least a third of the busiest one's work in one run, or None when
    the run was too short to tell (a jax solve shows its XLA worker, not the main thread that
    waits for it; successive jax runs may use different workers, one at a time)."""
    if not ticks or max(ticks.values()) < 3:
        return None
    top = max(ticks.values())
    return sum(t >= top / 3 for t in ticks.values())


def median_busy(counts):
    counts = [c for c in counts if c is not None]
    return str(int(np.median(counts))) if counts else "?"


def interleaved(methods, repeat, pause=0.0, contexts=None):
    """Median wall time, cpu/wall and busy threads (per run) of each method. The repeats go
    round-robin over the methods (starting one further along each time), so that a burst of
    machine load hits all alike. The per-thread CPU times are read outside the clock.
    ``pause`` seconds of sleep before each run let idle BLAS workers stop spinning;
    ``contexts`` maps a method to a context manager factory entered outside the clock."""
    names = list(methods)
    wall = {n: [] for n in names}
    cpu = {n: [] for n in names}
    busy = {n: [] for n in names}
    for k in range(repeat):
        s = k % len(names)
        for name in names[s:] + names[:s]:
            with (contexts or {}).get(name, contextlib.nullcontext)():
                time.sleep(pause)
                before = thread_ticks()
                c0, t0 = time.process_time(), time.perf_counter()
                methods[name]()
                t1, c1 = time.perf_counter(), time.process_time()
                after = thread_ticks()
            wall[name].append(t1 - t0)
            cpu[name].append((c1 - c0) / (t1 - t0))
            if before is not None and after is not None:
                busy[name].append(busy_threads(
                    {tid: t - before.get(tid, 0) for tid, t in after.items()}))
    return ({n: float(np.median(wall[n])) for n in names},
            {n: float(np.median(cpu[n])) for n in names},
            {n: median_busy(busy[n]) for n in names})


def peers(m, repeat):
    print(f"N = {N} tanh units, m = {m} patterns, seed {SEED}; tol {TOL:g}; "
          f"medians of {repeat} interleaved repeats; one BLAS thread for every library")
    summary = {}
    for rho, scale in CASES:
        W, X = make_case(rho, scale, m)
        ref = fp.fixed_point(W, X, tol=TOL)
        steps = ref.iterations if ref.method == "iterate" else int(np.ceil(ref.work))
        gemm = median_time(lambda W=W, X=X: W @ X, 31)
        print(f"\nrho = {rho}, input scale = {scale:g}: fpnotes default used {ref.method!r}, "
              f"{ref.iterations} iterations, work = {ref.work:.1f} GEMM equivalents "
              f"(one W @ R: {gemm * 1e3:.2f} ms)")

        methods = {
            "fpnotes.fixed_point (default)": lambda W=W, X=X, work=ref.work: (
                fp.fixed_point(W, X, tol=TOL).r, work, ""),
            "scipy newton_krylov": scipy_method(W, X, so.newton_krylov, maxiter=100),
            # alpha = -1 starts Anderson from the Jacobian I of F, i.e. from plain iteration;
            # scipy's default alpha (scaled to |x0|/|F(x0)|) took 350-700 evaluations here.
            "scipy anderson (M=5, alpha=-1)": scipy_method(W, X, so.anderson, alpha=-1.0, M=5,
                                                           maxiter=1000),
            "500 Euler steps, h = 0.01": lambda W=W, X=X: (euler_500(W, X), 500, ""),
            f"floor: bare loop, {steps} steps": lambda W=W, X=X, k=steps: (
                plain_loop(W, X, k), k, ""),
        }
        compile_note = ""
        jx = optional("jaxopt", lambda W=W, X=X: jaxopt_method(W, X))
        if jx is not None:
            methods["jaxopt FixedPointIteration (jit)"] = jx[0]
            compile_note = f"  (jaxopt: compiling took {jx[1]:.1f} s, not counted)"
        td = optional("torchdeq", lambda W=W, X=X: torchdeq_methods(W, X))
        if td is not None:
            methods.update(td)

        outputs = {name: solve() for name, solve in methods.items()}  # warm-up, and the answers
        times, cpu, busy = interleaved(methods, repeat)
        t_ref = times["fpnotes.fixed_point (default)"]
        print(f"{'method':<34}{'median ms':>10}{'vs fpnotes':>11}{'evals':>7}"
              f"{'max residual':>14}{'cpu/wall':>9}{'threads':>8}  note")
        for name, (R, evals, note) in outputs.items():
            res = max_residual(W, R, X)
            flag = "" if res <= TOL else "NOT CONVERGED to 1e-10 "
            print(f"{name:<34}{times[name] * 1e3:>10.1f}{times[name] / t_ref:>10.2f}x"
                  f"{evals:>7.4g}{res:>14.1e}{cpu[name]:>9.2f}{busy[name]:>8}  {flag}{note}")
            summary.setdefault(name.split(":")[0], {})[(rho, scale)] = (
                times[name], times[name] / t_ref, res, evals)
        if compile_note:
            print(compile_note)
    return summary


def print_markdown(summary, m):
    """The summary as a Markdown table (time in ms and ratio to fpnotes, then residual)."""
    print(f"\nSummary (Markdown; m = {m}): median ms (time / fpnotes' time), max residual")
    heads = [f"rho {rho}, scale {scale:g}" for rho, scale in CASES]
    print("| method | " + " | ".join(heads) + " |")
    print("|---|" + "---|" * len(heads))
    for name, row in summary.items():
        cells = []
        for case in CASES:
            if case not in row:
                cells.append("–")
                continue
            t, ratio, res, _ = row[case]
            cells.append(f"{t * 1e3:.0f} ms ({ratio:.2f}×), {res:.0e}")
        print(f"| {name} | " + " | ".join(cells) + " |")


# --- threads -----------------------------------------------------------------------------------

COMPETITOR = textwrap.dedent("""
    import time
    import numpy as np
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((300, 300)), rng.standard_normal((300, 512))
    A @ B
    print("ready", flush=True)
    stop = time.time() + {limit}
    while time.time() < stop:
        A @ B
""")


def start_competitor(threads, limit=600):
    """A second Python process doing GEMMs with ``threads`` BLAS threads; it ends by itself
    after ``limit`` seconds if nobody stops it."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    proc = subprocess.Popen([sys.executable, "-c", COMPETITOR.format(limit=limit)], env=env,
                            stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError("the competing process did not start")
    time.sleep(0.3)
    return proc


def threads(m, repeat):
    rho, scale = CASES[0]
    W, X = make_case(rho, scale, m)
    print(f"\nBLAS threads: the default solve (rho = {rho}, scale = {scale:g}, m = {m}), "
          f"1 vs 2 threads via threadpoolctl, medians of {repeat} interleaved repeats")

    def solve():
        fp.fixed_point(W, X, tol=TOL)

    controller = ThreadpoolController()
    methods = {"1 thread": solve, "2 threads": solve}
    contexts = {"1 thread": lambda: controller.limit(limits=1),
                "2 threads": lambda: controller.limit(limits=2)}
    print(f"{'':<40}{'1 thread ms':>12}{'2 threads ms':>13}{'2 / 1':>7}"
          f"{'cpu/wall 1':>11}{'cpu/wall 2':>11}{'busy threads':>13}")
    for label, competitor in [("alone", None),
                              ("beside a process doing GEMMs, 1 thread", 1),
                              ("beside a process doing GEMMs, 2 threads", 2)]:
        proc = start_competitor(competitor) if competitor else None
        try:
            for name, run in methods.items():
                with contexts[name]():
                    run()  # warm-up
            times, cpu, busy = interleaved(methods, repeat, pause=0.25, contexts=contexts)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait()
        t1, t2 = times["1 thread"], times["2 threads"]
        print(f"{label:<40}{t1 * 1e3:>12.1f}{t2 * 1e3:>13.1f}{t2 / t1:>7.2f}"
              f"{cpu['1 thread']:>11.2f}{cpu['2 threads']:>11.2f}"
              f"{busy['1 thread'] + ' / ' + busy['2 threads']:>13}")


def main(quick=False, repeat=None):
    m = 128 if quick else 512
    repeat = repeat or (3 if quick else 5)
    blas = ", ".join(f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads)"
                     for i in threadpool_info())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load}; numpy {np.__version__}, scipy {scipy.__version__}; {blas}")
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # jaxopt's notice that it is frozen
        summary = peers(m, repeat)
    optional_versions = []
    for name in ("jax", "jaxopt", "torch", "torchdeq"):
        if name in sys.modules:
            try:
                optional_versions.append(f"{name} {importlib.metadata.version(name)}")
            except importlib.metadata.PackageNotFoundError:
                optional_versions.append(name)
    if optional_versions:
        print("\noptional peers: " + ", ".join(optional_versions))
    print_markdown(summary, m)
    threads(m, 3 * repeat)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="m = 128 and 3 repeats (smoke run)")
    parser.add_argument("--repeat", type=int, default=None, help="repeats (default 5, quick 3)")
    args = parser.parse_args()
    main(args.quick, args.repeat)

"""Wall time of a 16-run sweep: sequential loop vs fpnotes.sweep on a 2-worker LocalCluster.

Prints the times and their ratio (not a test). Also times the default local process pool.
Needs the ``distributed`` extra for the cluster part; without it that part is skipped.

    python benchmarks/sweep_bench.py [--n-iter 400] [--N 100]
"""

import argparse
import os
import tempfile
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread per process, here and in the workers

from fpnotes.sweep import grid, run_config, sweep  # noqa: E402


def best_of(repeat, fn):
    times = []
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def fresh_sweep(configs, **kwargs):
    """A sweep into an empty temporary store (so nothing is skipped)."""
    with tempfile.TemporaryDirectory() as store:
        out = sweep(configs, store=store, **kwargs)
    assert out.ran == len(configs) and not out.failed, out.failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iter", type=int, default=400)
    parser.add_argument("--N", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2, help="report the best of this many")
    args = parser.parse_args()
    configs = grid(task="linear", N=args.N, m=args.N // 2, rule=["dW1", "dW3"],
                   lr=[0.3, 1.0, 2.0, 3.0], seed=[0, 1], n_iter=args.n_iter)
    print(f"{len(configs)} runs: linear task N={args.N}, m={args.N // 2}, "
          f"{args.n_iter} iterations each, {os.cpu_count()} cores; best of {args.repeat}")

    t_seq = best_of(args.repeat, lambda: [run_config(c) for c in configs])
    print(f"sequential loop:              {t_seq:6.2f} s")

    t_pool = best_of(args.repeat, lambda: fresh_sweep(configs, workers=2))
    print(f"sweep, local process pool (2): {t_pool:6.2f} s   speedup {t_seq / t_pool:.2f}x "
          f"(includes starting the pool)")

    try:
        import distributed
    except ImportError:
        print("dask.distributed not installed: skipping the LocalCluster run")
        return
    env = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None, env=env) as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(2)
        client.run(__import__, "fpnotes.sweep")  # workers import numpy/fpnotes before timing
        t_dask = best_of(args.repeat, lambda: fresh_sweep(configs, executor=client))
    print(f"sweep, LocalCluster (2 workers): {t_dask:6.2f} s   speedup {t_seq / t_dask:.2f}x "
          f"(cluster started, fpnotes imported)")
    print(f"ratio sequential / LocalCluster = {t_seq / t_dask:.2f}")


if __name__ == "__main__":
    main()

"""Regenerate the stored MNIST runs of Chapter 6 (book/results/mnist), resumably.

Usage, from the repository root:  python book/results/regenerate_mnist.py [workers]

Runs every configuration of fpnotes.sweep.paper_configs("mnist") that is not yet in the
store (a run already stored is skipped, so an interrupted sweep loses only the runs in
progress) and prints one line per finished run.
"""

import sys
import time
from pathlib import Path

from fpnotes.sweep import paper_configs, sweep

STORE = Path(__file__).resolve().parent / "mnist"


def log(record):
    c, r = record["config"], record["result"]
    print(f"{time.time() - T0:7.0f} s  seed {c['seed']} {c['rule']} eta={c['lr']:<6g} "
          f"{r['wall_time']:5.0f} s  test acc {r['test_accuracy']}  "
          f"max Re lambda(W) {r['max_real_eig']:.3f}  lost at {r['lost_at']}", flush=True)


if __name__ == "__main__":  # the sweep starts worker processes that import this file
    T0 = time.time()
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    out = sweep(paper_configs("mnist"), store=STORE, workers=workers, on_result=log)
    print(f"{time.time() - T0:.0f} s: ran {out.ran}, already stored {out.skipped}, "
          f"failed {len(out.failed)}", flush=True)
    for config, message in out.failed:
        print("failed:", config, message)

"""Re-execute book notebooks in place, from a fresh kernel, as nbval will run them.

Usage: ``python tests/execute_notebooks.py book/03_singularities.ipynb [...]`` (or
``make notebooks NB=...``). Run it after changing a chapter or code that a chapter uses,
then review the diff of the printed outputs before committing: nbval compares the next
run against what this stores.

The kernel runs in ``book/`` with matplotlib's inline backend (``MPLBACKEND`` is dropped,
since ``make test`` sets it to Agg for the unit tests and Agg stores no figures).
Execution timings are recorded in the cell metadata; ``tests/test_book.py`` uses them to
require progress bars in long cells.
"""

import os
import sys
import time
from pathlib import Path

import nbclient
import nbformat


def execute(path, timeout=600):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(Path(path).parent)}})
    client.execute()
    nbformat.write(nb, path)


def main(paths):
    if not paths:
        sys.exit(__doc__)
    os.environ.pop("MPLBACKEND", None)
    for path in paths:
        t0 = time.perf_counter()
        execute(path)
        print(f"executed {path} in {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

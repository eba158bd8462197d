"""Run every benchmark in this folder, one after the other (`make bench`)."""

import runpy
import sys
from pathlib import Path

here = Path(__file__).parent
scripts = sorted(here.glob("bench_*.py")) + sorted(here.glob("*_bench.py")) + [here / "peers.py"]
for script in scripts:
    print(f"\n=== {script.name} ===", flush=True)
    sys.argv = [str(script)] + sys.argv[1:]
    runpy.run_path(str(script), run_name="__main__")

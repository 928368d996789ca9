"""Run every benchmark in this folder (bench_*.py) one after the other and print their ratios.

Usage: python benchmarks/run.py [name-filter]      (or: make bench)

Each bench_*.py measures a project path against a baseline in the same run (the machine is shared and
noisy, so only same-run ratios mean anything) and prints `RESULT <name>: <ratio> ...` lines; the latest
figures are copied by hand into benchmarks/README.md with the date.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    pattern = sys.argv[1] if len(sys.argv) > 1 else ""
    failed = 0
    for bench in sorted(HERE.glob("bench_*.py")):
        if pattern not in bench.stem:
            continue
        print(f"==> {bench.name}", flush=True)
        t = time.time()
        r = subprocess.run([sys.executable, str(bench)])
        print(f"    ({time.time() - t:.0f} s, exit {r.returncode})", flush=True)
        failed += r.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

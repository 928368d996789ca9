"""`make setup` from nothing: scripts/setup_env.sh against one resolving pip, both into new venvs in the same run.

Usage: python benchmarks/bench_setup.py [--keep]     (or: make bench; about 3 minutes on 2 cores, 5 GB of /tmp)

    baseline  what set-up did before: the local torch wheel, then one `pip install -c requirements/constraints.txt
              -e .[test]` that resolves and installs the ~200 pins one after another, then compileall of all of
              site-packages on every core.
    setup     scripts/setup_env.sh as `make setup` runs it: torch, two halves of the pins and the project in four
              --no-deps pip processes at once, `pip check`, then compileall without the code no step imports.
Both end with the same import of the stack. Prints the seconds of each and `RESULT setup: <ratio>`; the machine's
CPU is in the first line. Installs only from pip's configured indexes (offline: local ones), like make setup.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
IMPORTS = "import torch, transformers, trl, datatrove, lighteval, huggingface_hub, smolrecipe"


def run(argv: list[str], **kw) -> None:
    r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, **kw)
    if r.returncode:
        sys.exit(f"bench_setup: {' '.join(argv[:6])} ... failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")


def baseline(venv: Path) -> float:
    t = time.time()
    run([sys.executable, "-m", "venv", str(venv)])
    py = str(venv / "bin" / "python")
    pin = next(x for x in (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
               if x.startswith("torch==")).split("==")[1].split("+")[0]
    pip = [py, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-compile"]
    run([*pip, "--no-index", "--no-deps", f"torch=={pin}"])
    run([*pip, "-c", "requirements/constraints.txt", "-e", ".[test]"])
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True).stdout.strip()
    subprocess.run([py, "-m", "compileall", "-q", "-j", "0", site], capture_output=True)
    run([py, "-c", IMPORTS])
    return time.time() - t


def setup_script(venv: Path) -> float:
    t = time.time()
    run(["bash", "scripts/setup_env.sh"], env={**os.environ, "VENV": str(venv)})
    run([str(venv / "bin" / "python"), "-c", IMPORTS])
    return time.time() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the two venvs (printed) instead of deleting them")
    args = parser.parse_args()
    from smolrecipe import machine

    print(f"machine: {machine.short()}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-setup-"))
    try:
        # the script first: a warm page cache helps whichever runs second, so this order favours the baseline
        new = setup_script(tmp / "setup")
        print(f"  setup_env.sh (parallel --no-deps installs): {new:.1f} s", flush=True)
        old = baseline(tmp / "baseline")
        print(f"  baseline (one resolving pip, full compileall): {old:.1f} s", flush=True)
        print(f"RESULT setup: {old / new:.2f}x faster than the baseline ({old:.0f} s -> {new:.0f} s)")
    finally:
        if args.keep:
            print(f"venvs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

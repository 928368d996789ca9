"""Print the upstream versions: installed here, and pinned for the GPU environment.

Usage: python -m smolrecipe versions [--json] [--dry-run]

It only reads, so --dry-run (make DRY_RUN=1) prints the same.
"""
from __future__ import annotations

import argparse
import json

from smolrecipe import versions


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe versions", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--dry-run", action="store_true", help="the same: this command only reads")
    args = parser.parse_args(argv)
    installed = versions.runtime_versions()
    gpu = {"nanotron": f"{versions.NANOTRON_REPO}@{versions.NANOTRON_COMMIT}",
           "datatrove (GPU env)": f"{versions.DATATROVE_REPO}@{versions.DATATROVE_GPU_COMMIT}",
           "flash-attn": versions.FLASH_ATTN_VERSION}
    if args.json:
        print(json.dumps({"installed": installed, "gpu_pins": gpu}, indent=2))
        return 0
    print("installed (CPU environment, pinned in requirements/constraints.txt):")
    for k, v in installed.items():
        print(f"  {k:<16} {v or 'not installed'}")
    print("GPU environment pins (make setup-gpu):")
    for k, v in gpu.items():
        print(f"  {k:<20} {v}")
    return 0

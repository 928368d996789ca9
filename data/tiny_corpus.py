"""Build the tiny recipe's raw corpus offline: standard-library code and prose, generated math.

Usage:
    python data/tiny_corpus.py [--out outputs/data/tiny/raw] [--math-problems 6000]

Writes jsonl.gz folders prose/ code/ math/ textbooks/ long/ and benchmarks/tiny-math.jsonl (held-out
problems that decontamination keeps out of training). `make data RECIPE=tiny` runs this first.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from smolrecipe.data import local_corpus  # noqa: E402
from smolrecipe.data.executor import script_entry  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("outputs/data/tiny/raw"))
    p.add_argument("--math-problems", type=int, default=6000)
    a = p.parse_args()
    for name, n in local_corpus.build(a.out, math_problems=a.math_problems).items():
        print(f"{name}: {n} documents in {a.out / name}")
    return 0


if __name__ == "__main__":
    script_entry(main)

"""Step 3 of the edu-classifier method (FineWeb-Edu): score every document, keep int score >= 3.

Usage:
    python data/edu_filter.py --input outputs/data/tiny/dedup/prose --classifier outputs/data/tiny/classifiers/edu \
        --out outputs/data/web-edu
    python data/edu_filter.py --input dclm --classifier classifiers/edu --out s3://bucket/web-edu \
        --slurm --partition cpu --tasks 1000 --logging-dir logs/

Kept documents carry metadata edu_score (float) and edu_score_int; with --removed the dropped ones are
written there too, for inspection.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from smolrecipe.data import executor  # noqa: E402
from smolrecipe.data.classifier import EduClassifierFilter  # noqa: E402
from smolrecipe.data.readers import reader_for  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", required=True, help="local jsonl folder or Hub source name")
    p.add_argument("--classifier", required=True, help="folder written by data/train_classifier.py")
    p.add_argument("--out", required=True)
    p.add_argument("--threshold", type=float, default=None, help="default: the one the classifier was trained for")
    p.add_argument("--removed", default=None, help="also write dropped documents here")
    p.add_argument("--limit", type=int, default=-1)
    executor.add_executor_args(p)
    a = p.parse_args()
    dropped = JsonlWriter(a.removed, compression="gzip") if a.removed else None
    pipeline = [reader_for(a.input, limit=a.limit),
                EduClassifierFilter(a.classifier, threshold=a.threshold, exclusion_writer=dropped),
                JsonlWriter(a.out, compression="gzip")]
    stats = executor.run(pipeline, a, "edu-filter", reads=[a.input, a.classifier], writes=[a.out, a.removed],
                         config=executor.script_config(a))
    if stats:
        kept, total = executor.stat(stats, "Edu", "forwarded"), executor.stat(stats, "Edu", "total")
        print(f"kept {int(kept)} of {int(total)} documents -> {a.out}")
    return 0


if __name__ == "__main__":
    executor.script_entry(main)

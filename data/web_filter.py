"""Heuristic quality filtering of web-like text (the offline rules of FineWeb; DCLM starts from the same family).

Usage:
    python data/web_filter.py --input outputs/data/tiny/raw/prose --out outputs/data/web-filtered --tiny
    python data/web_filter.py --input dclm --out s3://bucket/web-filtered --with-model-filters \
        --slurm --partition cpu --tasks 1000

Gopher repetition and quality, C4 quality and FineWeb quality filters (smolrecipe.data.filters);
--with-model-filters adds the URL and fastText language filters, which download their models (cluster
only). Each dropped document is counted by reason; --removed writes them out with the reason.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from smolrecipe.data import executor  # noqa: E402
from smolrecipe.data.filters import cluster_filters, web_filters  # noqa: E402
from smolrecipe.data.readers import reader_for  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", required=True, help="local jsonl folder or Hub source name")
    p.add_argument("--out", required=True)
    p.add_argument("--tiny", action="store_true", help="the tiny corpus's relaxed length rules (short docstrings)")
    p.add_argument("--with-model-filters", action="store_true", help="add URL + language filters (downloads models)")
    p.add_argument("--removed", default=None, help="write dropped documents (with their reason) here")
    p.add_argument("--limit", type=int, default=-1)
    executor.add_executor_args(p)
    a = p.parse_args()
    removed = JsonlWriter(a.removed, compression="gzip") if a.removed else None
    filters = web_filters(tiny=a.tiny)
    if removed:
        for f in filters:
            f.exclusion_writer = removed
    steps = [reader_for(a.input, limit=a.limit), *(cluster_filters() if a.with_model_filters else []), *filters,
             JsonlWriter(a.out, compression="gzip")]
    stats = executor.run(steps, a, "web-filter", reads=[a.input], writes=[a.out, a.removed], config=executor.script_config(a))
    for name, values in stats.items():
        for key, v in sorted(values.items()):
            if key.startswith("dropped_"):
                print(f"{int(v):>8}  {name.strip()}: {key.removeprefix('dropped_')}")
    return 0


if __name__ == "__main__":
    executor.script_entry(main)

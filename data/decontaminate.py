"""Decontamination: build a 13-gram index of the evaluation sets, remove training documents that match.

Usage:
    # local benchmark files (one benchmark per file, question/answer fields), e.g. the tiny recipe's:
    python data/decontaminate.py --benchmark outputs/data/tiny/raw/benchmarks/tiny-math.jsonl \
        --input outputs/data/tiny/raw/math --out outputs/data/math-decont --index outputs/data/decont-index
    # the evaluation suites through lighteval (needs the Hub or its cache):
    python data/decontaminate.py --lighteval-tasks "gsm8k|5,arc:challenge|0,mmlu|0" --input fineweb-edu \
        --out s3://bucket/fineweb-edu-decont --index s3://bucket/decont-index --slurm --partition cpu --tasks 1000
    # index only (the other pipelines take --decont-index):
    python data/decontaminate.py --benchmark b.jsonl --index outputs/data/decont-index --index-only

Prints the documents removed per benchmark; the removed documents, with the matching n-gram and
benchmark in metadata, are written to <out>-removed.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from smolrecipe.data import executor  # noqa: E402
from smolrecipe.data.decont import NGramsDecontFilter, build_index, default_config, report  # noqa: E402
from smolrecipe.data.readers import reader_for  # noqa: E402
from smolrecipe.errors import RecipeError  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--benchmark", action="append", default=[], type=Path, help="benchmark jsonl file (repeatable)")
    p.add_argument("--lighteval-tasks", default=None, help='comma-separated lighteval task specs, e.g. "gsm8k|5"')
    p.add_argument("--custom-tasks", default=None, help="lighteval custom task file")
    p.add_argument("--index", required=True, help="folder of the n-gram index")
    p.add_argument("--index-only", action="store_true")
    p.add_argument("--input", help="local jsonl folder or Hub source name")
    p.add_argument("--out", help="where the kept documents go")
    p.add_argument("--n-grams", type=int, default=13)
    p.add_argument("--limit", type=int, default=-1)
    executor.add_executor_args(p)
    a = p.parse_args()
    cfg = default_config(n_grams=a.n_grams)
    tasks = a.lighteval_tasks.split(",") if a.lighteval_tasks else None
    sizes = build_index(Path(a.index), benchmark_files=a.benchmark, lighteval_tasks=tasks, custom_tasks=a.custom_tasks,
                        config=cfg)
    print("index: " + ", ".join(f"{k} {v} n-grams" for k, v in sizes.items()))
    if a.index_only:
        return 0
    if not (a.input and a.out):
        raise RecipeError("filtering needs --input and --out", field="--input/--out", fix="pass both, or --index-only")
    removed_dir = a.out.rstrip("/") + "-removed"
    steps = [reader_for(a.input, limit=a.limit),
             NGramsDecontFilter(a.index, config=cfg, exclusion_writer=JsonlWriter(removed_dir, compression="gzip")),
             JsonlWriter(a.out, compression="gzip")]
    stats = executor.run(steps, a, "decontaminate", reads=[a.input, a.index], writes=[a.out, removed_dir],
                         config=executor.script_config(a))
    if stats:
        removed = report(stats)
        print("removed per benchmark: " + ", ".join(f"{b} {removed.get(b, 0)}" for b in sizes))
    return 0


if __name__ == "__main__":
    executor.script_entry(main)

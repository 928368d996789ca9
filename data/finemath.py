"""FineMath-style math subsets: score math pages with the math classifier, write the 3+ and 4+ subsets.

Usage:
    python data/finemath.py --input outputs/data/tiny/raw/math --classifier outputs/data/tiny/classifiers/math \
        --out outputs/data/finemath --decont-index outputs/data/tiny/decont-index
    python data/finemath.py --input open-web-math --classifier classifiers/math5 --out s3://bucket/finemath \
        --decont-index s3://bucket/decont-index --slurm --partition cpu --tasks 500

The FineMath recipe (SmolLM2 paper, REFERENCE.md section 3): a 3-point LLM pass picks math pages, a
5-point pass scores reasoning quality, a classifier learns the 5-point scores; FineMath-3+ keeps score >= 3,
FineMath-4+ score >= 4; 13-gram decontamination against GSM8K, MATH, MMLU and ARC. Documents pass the
decontamination filter, then the classifier (threshold 3, score in metadata math_score), are written to
<out>/3plus, and those with math_score_int >= 4 also to <out>/4plus.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from datatrove.pipeline.filters import LambdaFilter  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from smolrecipe.data import executor  # noqa: E402
from smolrecipe.data.classifier import EduClassifierFilter  # noqa: E402
from smolrecipe.data.decont import NGramsDecontFilter, default_config  # noqa: E402
from smolrecipe.data.readers import reader_for  # noqa: E402


def score_at_least_4(doc) -> bool:
    return doc.metadata.get("math_score_int", 0) >= 4


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", required=True, help="local jsonl folder or Hub source name (open-web-math, infiwebmath)")
    p.add_argument("--classifier", required=True, help="math classifier trained on the 5-point scale")
    p.add_argument("--out", required=True)
    p.add_argument("--decont-index", default=None, help="n-gram index from data/decontaminate.py")
    p.add_argument("--limit", type=int, default=-1)
    executor.add_executor_args(p)
    a = p.parse_args()
    steps = [reader_for(a.input, limit=a.limit)]
    if a.decont_index:
        steps.append(NGramsDecontFilter(a.decont_index, config=default_config()))
    steps += [EduClassifierFilter(a.classifier, threshold=3, score_key="math_score"),
              JsonlWriter(f"{a.out}/3plus", compression="gzip"),
              LambdaFilter(score_at_least_4),
              JsonlWriter(f"{a.out}/4plus", compression="gzip")]
    stats = executor.run(steps, a, "finemath", reads=[a.input, a.classifier, a.decont_index], writes=[a.out],
                         config=executor.script_config(a))
    if stats:
        print(f"FineMath-3+: {int(executor.stat(stats, 'Edu', 'forwarded'))} documents, "
              f"FineMath-4+: {int(executor.stat(stats, 'Lambda', 'forwarded'))} documents -> {a.out}")
    return 0


if __name__ == "__main__":
    executor.script_entry(main)

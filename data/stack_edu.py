"""Stack-Edu-style code filtering: one classifier per language, threshold 3 (2 for Java).

Usage:
    python data/stack_edu.py --language Python --input outputs/data/tiny/raw/code \
        --classifier outputs/data/tiny/classifiers/code-python --out outputs/data/stack-edu/Python
    # StarCoderData from the Hub (the files are in the parquet), on Slurm:
    python data/stack_edu.py --language Java --input starcoderdata --classifier classifiers/code-java \
        --out s3://bucket/stack-edu/Java --slurm --partition cpu --tasks 200
    # Stack-Edu itself (blob ids on the Hub): each file fetched from Software Heritage's bucket first
    python data/stack_edu.py --language CSharp --input stack-edu --classifier classifiers/code-csharp \
        --out outputs/data/stack-edu/CSharp --contents s3://softwareheritage/content --slurm --partition cpu --tasks 100

Stack-Edu (SmolLM2 paper, REFERENCE.md section 3): the 15 largest languages of StarCoder2Data, a
StarEncoder-based classifier per language trained on LLM annotations of the code rubric (data/annotate.py
--scale code), threshold 3 except Java at 2 (Java scores lower across the board), ~125B tokens in total.
The score lands in metadata edu_score / edu_score_int. With --input stack-edu the files come from
s3://softwareheritage/content/<blob_id> (anonymous, gzip, decoded with each file's src_encoding; see
smolrecipe.data.stack_edu); blobs that cannot be fetched are counted and written to <out>-misses.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from smolrecipe.data import executor, stack_edu  # noqa: E402
from smolrecipe.data.classifier import EduClassifierFilter  # noqa: E402
from smolrecipe.data.readers import STACK_EDU_LANGUAGES, reader_for, stack_edu_language  # noqa: E402

THRESHOLDS = {lang: 3 for lang in STACK_EDU_LANGUAGES} | {"Java": 2}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--language", required=True, help=f"one of {', '.join(STACK_EDU_LANGUAGES)}")
    p.add_argument("--input", required=True,
                   help="local jsonl folder, starcoderdata, or stack-edu (blob ids; files fetched) for --language")
    p.add_argument("--hub-mirror", default=None, help="read Hub sources from a local folder laid out as <repo>/<path>")
    p.add_argument("--classifier", required=True, help="this language's classifier folder")
    p.add_argument("--out", required=True)
    p.add_argument("--limit", type=int, default=-1)
    stack_edu.add_contents_args(p)
    executor.add_executor_args(p)
    a = p.parse_args()
    a.language = stack_edu_language(a.language)
    threshold = THRESHOLDS[a.language]
    steps = [reader_for(a.input, limit=a.limit, language=a.language, hub_mirror=a.hub_mirror, blob_ids=True)]
    writes = [a.out]
    if a.input == "stack-edu":
        misses = a.out.rstrip("/") + "-misses"
        steps.append(stack_edu.fetch_step(a, misses_folder=misses))
        writes.append(misses)
    steps += [EduClassifierFilter(a.classifier, threshold=threshold, score_key="edu_score"),
              JsonlWriter(a.out, compression="gzip")]
    # --contents is keyed by name (in the config): hashing a local mirror of the bucket would cost more than the run
    stats = executor.run(steps, a, f"stack-edu-{a.language.lower()}", reads=[a.input, a.classifier], writes=writes,
                         config=executor.script_config(a))
    for line in stack_edu.fetch_summary(stats):
        print(line)
    if stats:
        print(f"Stack-Edu {a.language} (threshold {threshold}): kept {int(executor.stat(stats, 'Edu', 'forwarded'))} "
              f"of {int(executor.stat(stats, 'Edu', 'total'))} files -> {a.out}")
    return 0


if __name__ == "__main__":
    executor.script_entry(main)

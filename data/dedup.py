"""MinHash deduplication (datatrove's four stages: signatures, buckets, clusters, filter).

Usage:
    python data/dedup.py --input outputs/data/tiny/clean/prose --out outputs/data/prose-dedup \
        --work outputs/data/minhash-prose
    python data/dedup.py --input s3://bucket/web-filtered --out s3://bucket/web-dedup --work s3://bucket/minhash \
        --config single-band --slurm --partition cpu --tasks 1000

--config fineweb: 14 bands x 8 hashes on 5-grams (FineWeb); single-band: 1 band (FineMath, near-exact
duplicates). On Slurm each stage is a job that depends on the previous one.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from smolrecipe.data import executor  # noqa: E402
from smolrecipe.data.dedup import minhash_config, run_minhash  # noqa: E402
from smolrecipe.errors import RecipeError  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", required=True, help="jsonl folder (read twice: signatures, then the filter)")
    p.add_argument("--out", required=True)
    p.add_argument("--work", required=True, help="signatures, buckets and duplicate ids")
    p.add_argument("--config", choices=["fineweb", "single-band"], default="fineweb")
    executor.add_executor_args(p)
    a = p.parse_args()
    if "://" not in a.input and not Path(a.input).is_dir():
        raise RecipeError("input folder does not exist", file=a.input, field="--input", fix="run the filtering step first")
    stats = run_minhash(a.input, a.out, a.work, a, name="minhash", config=minhash_config(a.config))
    if stats:
        print(f"kept {int(executor.stat(stats, 'MinHash', 'forwarded'))}, removed "
              f"{int(executor.stat(stats, 'MinHash', 'dropped'))} near-duplicates -> {a.out}")
    return 0


if __name__ == "__main__":
    executor.script_entry(main)

"""Step 2 of the edu-classifier method: train an encoder + regression head on the annotations.

Usage:
    # tiny: a 2-layer BERT trained from scratch on the tiny tokenizer (seconds on CPU)
    python data/train_classifier.py --annotations a.jsonl --out outputs/classifiers/edu \
        --tokenizer outputs/tokenizers/tiny/tokenizer.json --threshold 3
    # full recipe: a frozen pretrained encoder (FineWeb-Edu: Snowflake/snowflake-arctic-embed-m,
    # Stack-Edu: bigcode/starencoder), only the head learns
    python data/train_classifier.py --annotations edu.jsonl --out classifiers/edu --backbone Snowflake/snowflake-arctic-embed-m

Prints precision, recall and F1 of the keep decision (int score >= threshold) on a held-out 10%.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from smolrecipe.data.annotate import SCALES  # noqa: E402
from smolrecipe.data.classifier import train  # noqa: E402
from smolrecipe.data.executor import script_entry  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--annotations", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--tokenizer", type=Path, help="tokenizer.json for the from-scratch tiny encoder")
    p.add_argument("--backbone", help="pretrained encoder (folder or Hub name); frozen, head only")
    p.add_argument("--threshold", type=float, default=3, help="keep int score >= this (3; 2 for Java) [%(default)s]")
    p.add_argument("--scale", choices=sorted(SCALES), default="edu")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--max-length", type=int, default=128)
    a = p.parse_args()
    info = train(a.annotations, a.out, tokenizer_file=a.tokenizer, backbone=a.backbone, threshold=a.threshold,
                 scale=a.scale, epochs=a.epochs, max_length=a.max_length)
    v = info["val"]
    print(f"classifier -> {a.out}: F1 {v['f1']:.3f} (precision {v['precision']:.3f}, recall {v['recall']:.3f}) "
          f"at threshold {a.threshold:g} on {v['n']} held-out documents; MSE {v['mse']:.3f}")
    return 0


if __name__ == "__main__":
    script_entry(main)

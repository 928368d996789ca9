"""Build the tokenized data folders a recipe's configs point to (datatrove pipelines).

Usage:
    python -m smolrecipe data --recipe tiny                 # or: make data RECIPE=tiny
    python -m smolrecipe data --recipe tiny --force         # rebuild from scratch
    python -m smolrecipe data --recipe tiny --benchmark evaluation/data/x.jsonl   # extra decontamination set
    python -m smolrecipe data --recipe smollm2-1.7B         # prints the cluster pipelines to run (data/README.md)

The tiny recipe builds everything offline in outputs/data/tiny/ (see smolrecipe.data.tiny); a rerun
skips the steps and datatrove tasks that already completed. The SmolLM2 recipes read Hub data sets
and run on Slurm through the scripts in data/, one per data set and step.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from smolrecipe.config import RECIPES, load_recipe
from smolrecipe.paths import outputs_dir, resolve


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe data", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="tiny", help=f"one of {', '.join(RECIPES)}")
    parser.add_argument("--force", action="store_true", help="delete outputs/data/<recipe> first and rebuild")
    parser.add_argument("--benchmark", action="append", default=[], type=Path,
                        help="extra benchmark jsonl file to decontaminate against (repeatable)")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes [%(default)s]")
    args = parser.parse_args(argv)
    recipe = load_recipe(args.recipe, check_tokenizer=False)
    if args.recipe != "tiny":
        from smolrecipe.data.mixture import format_report, mixture_report

        from smolrecipe.data import smollm2

        print(f"recipe {args.recipe} reads Hub data sets on a cluster: run the pipelines in data/ with --slurm "
              f"(order and commands in data/README.md), writing to outputs/data/smollm2/:")
        print("  python data/decontaminate.py --lighteval-tasks <suite> --index <index> --index-only")
        wanted = {r["folder"] for r in mixture_report(recipe)}
        for name in smollm2.names():
            if smollm2.output_folder(name) in wanted:
                print(f"  python data/tokenize_folder.py --smollm2 {name} --decont-index <index> "
                      f"--slurm --partition <p> --tasks <n> --logging-dir <logs>")
        print(format_report(mixture_report(recipe)))
        return 0

    from smolrecipe.data import tiny
    from smolrecipe.data.mixture import format_report, mixture_report

    root = outputs_dir() / "data" / "tiny"
    tok = resolve(recipe.stages[0].tokenizer.tokenizer_name_or_path)
    if tok.resolve().is_relative_to(Path.cwd().resolve()):
        # recorded in every .ds.metadata: a path relative to the checkout stays valid on another machine
        tok = tok.resolve().relative_to(Path.cwd().resolve())
    tiny.preflight(root, str(tok), args.benchmark)  # before deleting or computing anything
    if args.force:
        tiny.clean(root)
    ex_args = argparse.Namespace(tasks=2, workers=args.workers, logging_dir=None, slurm=False, overwrite=True)
    t = time.time()
    report = tiny.build(root, str(tok), args=ex_args, benchmarks=args.benchmark)
    tiny.print_report(report)
    print()
    print(format_report(mixture_report(recipe)))
    print(f"\ndata for recipe tiny ready in {time.time() - t:.0f} s: {root / 'tokenized'} (report: {root / 'REPORT.json'})")
    return 0

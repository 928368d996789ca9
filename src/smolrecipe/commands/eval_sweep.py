"""Evaluate every checkpoint of a pretraining run and plot each metric against tokens seen, stages marked.

Usage:
    python -m smolrecipe eval-sweep --run outputs/checkpoints/tiny --suite tiny
    python -m smolrecipe eval-sweep --run <checkpoints folder> [--suite ...] [--every K] [--max-samples N]
    (make eval-sweep RUN=outputs/checkpoints/tiny SUITE=tiny [DRY_RUN=1])

Each checkpoint (<run>/<step>/ with a transformers folder in model/) is evaluated into
outputs/eval/sweeps/<run>/<suite>/<step>/; a checkpoint already evaluated with the same weights and settings is
skipped, so an interrupted sweep resumes. The x axis is consumed_tokens_total from each checkpoint's
metadata.json and the stage boundaries come from its data_stages. Writes sweep.md (one row per checkpoint) and
sweep.png beside the per-checkpoint folders.
"""
from __future__ import annotations

import argparse

from smolrecipe.commands.eval import add_common, check_numbers
from smolrecipe.errors import RecipeError
from smolrecipe.evaluation.suites import SUITES
from smolrecipe.paths import outputs_dir, shown, user_path


def main(argv: list[str]) -> int:
    from smolrecipe.evaluation.sweep import sweep

    parser = argparse.ArgumentParser(prog="smolrecipe eval-sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a run's checkpoints folder, e.g. outputs/checkpoints/tiny (RUN=)")
    parser.add_argument("--every", type=int, default=1, help="evaluate every K-th checkpoint (the last one always)")
    parser.add_argument("--out", default=None, help="output folder (default outputs/eval/sweeps/<run>/<suite>)")
    add_common(parser)
    args = parser.parse_args(argv)
    if not args.run.strip():
        raise RecipeError("no run given", field="RUN", fix="make eval-sweep RUN=outputs/checkpoints/tiny SUITE=tiny")
    check_numbers(args)
    if args.every < 1:
        raise RecipeError(f"--every {args.every} is not a positive number", field="--every", fix="use --every 1")
    run = user_path(args.run)
    out = user_path(args.out) if args.out else outputs_dir() / "eval" / "sweeps" / run.name / args.suite
    if args.dry_run:
        from smolrecipe.evaluation.sweep import run_checkpoints

        steps = [c.name for c in run_checkpoints(run, args.every)]
        print(f"dry run: would evaluate {len(steps)} checkpoints of {shown(run)} (steps {', '.join(steps)}) on the "
              f"{args.suite} suite -> {shown(out)}")
        return 0
    sweep(run, SUITES[args.suite], out, tokenizer=args.tokenizer, batch_size=args.batch_size,
          max_samples=args.max_samples, every=args.every, force=args.force)
    return 0

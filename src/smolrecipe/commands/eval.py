"""Evaluate a transformers model folder with lighteval: the SmolLM2 base or instruct suite, or the tiny suite.

Usage:
    python -m smolrecipe eval --model outputs/checkpoints/tiny-long-context/400 --suite tiny
    python -m smolrecipe eval --model <folder> --suite base [--tokenizer DIR] [--out DIR] [--max-samples N] [--force]
    (make eval MODEL=<folder> SUITE=base|instruct|tiny [TOKENIZER=<folder>] [DRY_RUN=1])

Writes <out>/results.json, <out>/results.md (the table, with the published SmolLM2 numbers beside the measured
ones for the base suite) and lighteval's own JSON and details in <out>/lighteval/. Default out:
outputs/eval/<model>/<suite>. The same model and settings evaluated again are skipped (the run is keyed on the
weights); --force reruns. A task whose data set does not load is reported by name; the others still run.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from smolrecipe.errors import RecipeError
from smolrecipe.evaluation.suites import SUITES
from smolrecipe.paths import outputs_dir, shown, user_path


def model_label(model_dir: Path) -> str:
    """outputs/checkpoints/tiny-long-context/400/model -> tiny-long-context-400."""
    parts = [p for p in model_dir.resolve().parts if p not in ("model", "checkpoints", "outputs", "/")]
    return "-".join(parts[-2:]) if parts and parts[-1].isdigit() else (parts[-1] if parts else "model")


def results_dir(model_dir: Path, suite: str) -> Path:
    """Where `make eval` writes a model's evaluation by default: outputs/eval/<model label>/<suite>/."""
    return outputs_dir() / "eval" / model_label(model_dir) / suite


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", choices=sorted(SUITES), default="tiny", help="task suite (SUITE=)")
    parser.add_argument("--tokenizer", default=None, help="tokenizer folder, when the model folder has none (TOKENIZER=)")
    parser.add_argument("--batch-size", type=int, default=64, help="sequences per forward pass")
    parser.add_argument("--max-samples", type=int, default=None, help="at most N items per task (partial, marked so)")
    parser.add_argument("--force", action="store_true", help="rerun even when the same evaluation is already done")
    parser.add_argument("--dry-run", action="store_true", help="check the model and list the tasks; evaluate nothing")


def check_numbers(args) -> None:
    if args.batch_size < 1:
        raise RecipeError(f"--batch-size {args.batch_size} is not a positive number", field="--batch-size",
                          fix="use e.g. --batch-size 64")
    if args.max_samples is not None and args.max_samples < 1:
        raise RecipeError(f"--max-samples {args.max_samples} would evaluate nothing", field="--max-samples",
                          fix="drop it for the full suite, or give a positive number")


def main(argv: list[str]) -> int:
    from smolrecipe.evaluation.run import check_model, evaluate

    parser = argparse.ArgumentParser(prog="smolrecipe eval", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="transformers folder or local-engine checkpoint (MODEL=)")
    parser.add_argument("--out", default=None, help="output folder (default outputs/eval/<model>/<suite>)")
    add_common(parser)
    args = parser.parse_args(argv)
    if not args.model.strip():
        raise RecipeError("no model given", field="MODEL",
                          fix="make eval MODEL=outputs/checkpoints/tiny-long-context/400 SUITE=tiny")
    check_numbers(args)
    model_dir = check_model(user_path(args.model))
    out = user_path(args.out) if args.out else results_dir(model_dir, args.suite)
    if args.dry_run:
        from smolrecipe.evaluation.run import find_tokenizer

        tok = find_tokenizer(model_dir, args.tokenizer)
        print(f"dry run: would evaluate {shown(model_dir)} (tokenizer {shown(tok)}) on the {args.suite} suite "
              f"({len(SUITES[args.suite].tasks())} tasks) -> {shown(out)}")
        return 0
    summary = evaluate(model_dir, SUITES[args.suite], out, tokenizer=args.tokenizer, batch_size=args.batch_size,
                       max_samples=args.max_samples, force=args.force)
    print((out / "results.md").read_text() if (out / "results.md").exists() else "")
    if summary.get("failed_tasks"):
        print(f"{len(summary['failed_tasks'])} task(s) not run: {', '.join(summary['failed_tasks'])} "
              f"(see {shown(out / 'results.md')})")
    return 0

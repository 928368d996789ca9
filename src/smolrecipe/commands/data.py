"""Build the tokenized data folders a recipe's configs point to (datatrove pipelines).

Usage:
    python -m smolrecipe data --recipe tiny                 # or: make data RECIPE=tiny
    python -m smolrecipe data --recipe tiny --force         # rebuild from scratch
    python -m smolrecipe data --recipe tiny --benchmark evaluation/data/x.jsonl   # extra decontamination set
    python -m smolrecipe data --recipe smollm2-1.7B         # prints the cluster pipelines to run (data/README.md)
    python -m smolrecipe data --recipe smollm2-1.7B --submit --partition cpu [--tasks 500] [--logs D] [--venv V]
                                                            # runs them: make data RECIPE=smollm2-1.7B SLURM=1 PARTITION=cpu
    python -m smolrecipe data --recipe tiny --dry-run       # checks the inputs, lists the folders; builds nothing

The tiny recipe builds everything offline in outputs/data/tiny/ (see smolrecipe.data.tiny); a rerun
skips the steps and datatrove tasks that already completed. The SmolLM2 recipes read Hub data sets
and run on Slurm through the scripts in data/, one per data set and step: printing them is the default,
--submit (SLURM=1) runs them in order (the index here, then one sbatch array per folder). Every step is a
keyed datatrove run, so submitting again resumes: completed tasks are skipped.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from smolrecipe.config import RECIPES, load_recipe
from smolrecipe.errors import RecipeError
from smolrecipe.paths import outputs_dir, repo_root, resolve


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe data", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="tiny", help=f"one of {', '.join(RECIPES)}")
    parser.add_argument("--force", action="store_true", help="delete outputs/data/<recipe> first and rebuild")
    parser.add_argument("--benchmark", action="append", default=[], type=Path,
                        help="extra benchmark jsonl file to decontaminate against (repeatable)")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes [%(default)s]")
    parser.add_argument("--dry-run", action="store_true", help="check the inputs and list the folders (with --submit: the jobs); build and submit nothing")
    g = parser.add_argument_group("full-size recipes (Slurm)")
    g.add_argument("--submit", action="store_true", help="run the cluster commands (make: SLURM=1) instead of printing them")
    g.add_argument("--partition", default=None, help="Slurm partition (make: PARTITION)")
    g.add_argument("--tasks", type=int, default=500, help="Slurm array size per folder (make: TASKS) [%(default)s]")
    g.add_argument("--logs", default="outputs/data/logs", help="datatrove logging root, shared by the nodes (make: LOGS)")
    g.add_argument("--venv", default=None, help="virtualenv the nodes activate (make: SLURM_VENV)")
    args = parser.parse_args(argv)
    recipe = load_recipe(args.recipe, check_tokenizer=False)
    if args.recipe != "tiny":
        return cluster(args, recipe)
    if args.submit:
        raise RecipeError("the tiny recipe builds its data here, offline; SLURM=1 is for the full-size recipes",
                          field="SLURM", fix="make data RECIPE=tiny (without SLURM=1)")

    from smolrecipe.data import tiny
    from smolrecipe.data.mixture import format_report, mixture_report

    root = outputs_dir() / "data" / "tiny"
    tok = resolve(recipe.stages[0].tokenizer.tokenizer_name_or_path)
    if tok.resolve().is_relative_to(Path.cwd().resolve()):
        # recorded in every .ds.metadata: a path relative to the checkout stays valid on another machine
        tok = tok.resolve().relative_to(Path.cwd().resolve())
    tiny.preflight(root, str(tok), args.benchmark)  # before deleting or computing anything
    if args.dry_run:
        rows = mixture_report(recipe)
        built = sum(1 for r in rows if r["available"])
        print(f"dry run: would build {len(rows)} tokenized folders under {root / 'tokenized'} with datatrove "
              f"({built} already built; a rerun resumes, --force starts over): "
              + ", ".join(Path(r["folder"]).name for r in rows))
        return 0
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


def cluster(args: argparse.Namespace, recipe) -> int:
    """Print the full-size data commands, or (--submit) run them one after the other."""
    from smolrecipe.data import smollm2
    from smolrecipe.data.mixture import format_report, mixture_report

    wanted = {r["folder"] for r in mixture_report(recipe)}
    if args.submit:
        if shutil.which("sbatch") is None and not args.dry_run:
            raise RecipeError("SLURM=1 submits with sbatch, and sbatch is not on this machine", field="SLURM",
                              fix="run it on the cluster's login node, or leave SLURM unset to print the commands")
        if not args.partition:
            raise RecipeError("SLURM=1 needs the partition to submit to", field="PARTITION",
                              fix=f"make data RECIPE={args.recipe} SLURM=1 PARTITION=<partition>")
    plan = smollm2.cluster_plan(wanted, partition=args.partition or "${PARTITION}", tasks=str(args.tasks),
                                logs=args.logs, venv=args.venv)
    if not args.submit or args.dry_run:
        print(f"recipe {args.recipe} reads Hub data sets and builds its folders on a Slurm cluster. Printed only: "
              f"`make data RECIPE={args.recipe} SLURM=1 PARTITION=<p>` runs these (TASKS={args.tasks}, "
              f"LOGS={args.logs}, SLURM_VENV optional; data/README.md explains each step):")
        for k, (what, argv) in enumerate(plan, 1):
            print(f"\n# {k}. {what}\n{smollm2.shell_line(argv)}")
        print()
        print(format_report(mixture_report(recipe)))
        return 0
    for k, (what, argv) in enumerate(plan, 1):
        print(f"==> {k}/{len(plan)} {what}\n    {smollm2.shell_line(argv)}", flush=True)
        code = subprocess.run([sys.executable, *argv], cwd=repo_root()).returncode
        if code:
            raise RecipeError(f"step {k} ({argv[0]}) exited with code {code}", field="SLURM",
                              fix="read its output above; `make data ... SLURM=1` again resumes (completed work is skipped)")
    print(f"submitted: {len(plan) - 1} Slurm job(s); `squeue --me` shows them, {args.logs} holds their logs")
    return 0

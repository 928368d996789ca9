"""Print what a recipe will run, per stage, and plot its LR schedule.

Usage: python -m smolrecipe plan [--recipe tiny] [--out outputs/plots/<recipe>-schedule.png] [--dry-run]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from smolrecipe.config import RECIPES, load_recipe
from smolrecipe.paths import plots_dir
from smolrecipe.plan import plot_schedule, print_plan


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe plan", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="tiny", help=f"one of {', '.join(RECIPES)}")
    parser.add_argument("--out", type=Path, default=None, help="where to write the schedule plot (PNG)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, write no plot")
    args = parser.parse_args(argv)
    recipe = load_recipe(args.recipe)
    print_plan(recipe, extra_columns=_availability_columns())
    from smolrecipe.engine.reach import folder_reach, reach_summary

    for line in reach_summary(folder_reach(recipe)):  # a stage that would crash nanotron's reader is flagged here
        print(line)
    if args.dry_run:
        print("dry run: schedule plot not written")
        return 0
    out = plot_schedule(recipe, args.out or plots_dir() / f"{args.recipe}-schedule.png")
    print(f"schedule plot: {out}")
    return 0


def _availability_columns():
    """Tokens available and epochs per source, once the data step (smolrecipe.data) exists."""
    try:
        from smolrecipe.data.mixture import availability_column
    except ImportError:
        return None
    return availability_column

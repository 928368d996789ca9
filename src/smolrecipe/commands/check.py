"""Validate a recipe's nanotron YAML files one by one and together (the global WSD schedule).

Usage: python -m smolrecipe check [--recipe tiny | --all] [FILE.yaml ...]

With files, each is loaded with the strict loader and checked on its own. Errors name the file,
the field path and a fix; the exit code is 2 on the first error.
"""
from __future__ import annotations

import argparse

from smolrecipe.config import RECIPES, check_config, load_nanotron_yaml, load_recipe


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe check", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=None, help=f"one of {', '.join(RECIPES)}")
    parser.add_argument("--all", action="store_true", help="check every recipe")
    parser.add_argument("files", nargs="*", help="single nanotron YAML files to check")
    args = parser.parse_args(argv)
    for f in args.files:
        check_config(load_nanotron_yaml(f))
        print(f"ok  {f}")
    names = RECIPES if args.all else ([args.recipe] if args.recipe else ([] if args.files else ["tiny"]))
    for name in names:
        recipe = load_recipe(name)
        files = [c.source_file for c in recipe.stages] + ([recipe.long_context.source_file] if recipe.long_context else [])
        print(f"ok  {name}: {len(files)} files, one schedule, decay ends at step {recipe.final_step:,}")
    return 0

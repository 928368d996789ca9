"""Validate a recipe's nanotron YAML files one by one and together (the global WSD schedule), and its data.

Usage: python -m smolrecipe check [--recipe tiny | --all] [FILE.yaml ...] [--dry-run]

With files, each is loaded with the strict loader and checked on its own. Errors name the file,
the field path and a fix; the exit code is 2 on the first error. For a recipe, the built data folders are
checked too, as nanotron will read them: no stage may read a folder past its end under the reader the config
selects (engine/reach.py), and the tokenizer the folders' metadata names must load with AutoTokenizer.
"""
from __future__ import annotations

import argparse

from smolrecipe.config import RECIPES, check_config, load_nanotron_yaml, load_recipe


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe check", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=None, help=f"one of {', '.join(RECIPES)}")
    parser.add_argument("--all", action="store_true", help="check every recipe")
    parser.add_argument("files", nargs="*", help="single nanotron YAML files to check")
    parser.add_argument("--dry-run", action="store_true", help="the same: a check writes nothing")
    args = parser.parse_args(argv)
    for f in args.files:
        check_config(load_nanotron_yaml(f))
        print(f"ok  {f}")
    names = RECIPES if args.all else ([args.recipe] if args.recipe else ([] if args.files else ["tiny"]))
    for name in names:
        recipe = load_recipe(name)
        files = [c.source_file for c in recipe.stages] + ([recipe.long_context.source_file] if recipe.long_context else [])
        print(f"ok  {name}: {len(files)} files, one schedule, decay ends at step {recipe.final_step:,}")
        check_data(recipe)
    return 0


def check_data(recipe) -> None:
    from smolrecipe.engine.reach import folder_reach, metadata_problems, reach_summary
    from smolrecipe.errors import ConfigError

    rows = folder_reach(recipe)
    lines = reach_summary(rows)
    problems = list(dict.fromkeys([line for line in lines if line.startswith("!!")] + metadata_problems(recipe)))
    if problems:
        raise ConfigError(f"recipe {recipe.name}: {len(problems)} data problem(s) nanotron would stop on:\n  "
                          + "\n  ".join(p.removeprefix("!! ") for p in problems),
                          field="data_stages", fix="see each line (the fix is at its end)")
    print(f"    {lines[0]}")

"""Extend a recipe's context length from a late stage-4 checkpoint with its long-context.yaml.

Usage:
    python -m smolrecipe long-context --recipe tiny [--engine auto|local|nanotron] [--dry-run]
    (make long-context RECIPE=tiny)

The YAML resumes `<pretraining checkpoints>/<branch step>` (tiny: 380 of 400), trains with the longer
sequence length and the larger RoPE theta on its own mixture until the end of pretraining, and writes
to its own checkpoints_path, so the pretraining checkpoints stay untouched.
"""
from __future__ import annotations

import argparse

from smolrecipe.commands.pretrain import run_config
from smolrecipe.config import RECIPES, load_recipe
from smolrecipe.engine.options import add_engine_args
from smolrecipe.errors import ConfigError


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe long-context", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="tiny", help=f"one of {', '.join(RECIPES)}")
    add_engine_args(parser)
    args = parser.parse_args(argv)
    recipe = load_recipe(args.recipe)
    if recipe.long_context is None:
        raise ConfigError(f"recipe {args.recipe} has no long-context.yaml", file=str(recipe.folder),
                          fix="add long-context.yaml (see pretraining/configs/tiny/long-context.yaml)")
    return run_config(recipe.long_context, args, label=f"{args.recipe} long-context", recipe=recipe)

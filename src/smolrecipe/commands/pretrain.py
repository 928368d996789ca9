"""Train one pretraining stage of a recipe: nanotron on a GPU node, the local engine anywhere else.

Usage:
    python -m smolrecipe pretrain --recipe tiny --stage 1 [--engine auto|local|nanotron] [--dry-run]
    python -m smolrecipe pretrain --recipe tiny --stage 2 --on-spike rewind --swa-interval 5 --swa-window 20
    python -m smolrecipe pretrain --config my-debug-run.yaml         # any nanotron YAML, checked like a stage file
    (make pretrain RECIPE=tiny STAGE=1 [ENGINE=local] [DRY_RUN=1])

The stage file pretraining/configs/<recipe>/stage<N>.yaml is the whole recipe of the launch: it resumes
the previous stage's last checkpoint, trains up to its global train_steps on its data stage, and saves
checkpoints to its checkpoints_path. Re-running an interrupted stage continues from its newest checkpoint.
"""
from __future__ import annotations

import argparse

from smolrecipe.config import RECIPES, check_config, load_nanotron_yaml, load_recipe
from smolrecipe.engine.options import add_engine_args, options_from_args


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe pretrain", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="tiny", help=f"one of {', '.join(RECIPES)}")
    parser.add_argument("--stage", type=int, default=1, help="stage number (1-based)")
    parser.add_argument("--config", default=None, help="train this nanotron YAML instead of a recipe's stage file")
    add_engine_args(parser)
    args = parser.parse_args(argv)
    if args.config:
        cfg = load_nanotron_yaml(args.config)
        check_config(cfg)
        return run_config(cfg, args, label=f"{cfg.general.run} ({args.config})")
    recipe = load_recipe(args.recipe)
    cfg = recipe.stage(args.stage)
    return run_config(cfg, args, label=f"{args.recipe} stage {args.stage}", recipe=recipe)


def run_config(cfg, args, label: str, lineage: dict | None = None, recipe=None) -> int:
    """Shared by pretrain, long-context and cooldown: dispatch one config to the chosen engine."""
    from smolrecipe.engine.launch import nanotron_launch, pick_engine, run_nanotron

    opts = options_from_args(args, lineage)  # bad flags are refused whatever the engine
    engine = pick_engine(args.engine, cfg)
    if engine == "nanotron":
        return run_nanotron(nanotron_launch(cfg, recipe), dry_run=args.dry_run)
    if args.dry_run:
        from smolrecipe.config.loader import dump_nanotron_yaml

        print(f"# local engine would train {label} with this config ({getattr(cfg, 'source_file', '')}):")
        print(dump_nanotron_yaml(cfg))
        print(f"# local options: {opts}")
        return 0
    from smolrecipe.engine.trainer import summary, train

    result = train(cfg, opts)
    print(f"{label}: {summary(result)}")
    return 0

"""Branch a cooldown (LR decay) from a constant-LR checkpoint and train it.

Usage:
    python -m smolrecipe cooldown --from outputs/checkpoints/tiny/200 --shape 1-sqrt --fraction 0.2
    python -m smolrecipe cooldown --from outputs/checkpoints/tiny/200 --shape linear --steps 40 [--dry-run]
    (make cooldown FROM=outputs/checkpoints/tiny/200 SHAPE=1-sqrt FRACTION=0.2)

Writes the derived nanotron YAML to outputs/configs/cooldown/<run>.yaml (decay starting at the checkpoint's
step), then trains it with the chosen engine into <checkpoints_path>/../<run>/, recording the branch
(parent checkpoint, step, shape, length) in every checkpoint it writes.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from smolrecipe.commands.pretrain import run_config
from smolrecipe.engine.cooldown import derive_cooldown, write_cooldown_yaml
from smolrecipe.engine.options import add_engine_args
from smolrecipe.errors import RecipeError


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe cooldown", description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", required=True, help="checkpoint folder <checkpoints_path>/<step>")
    parser.add_argument("--shape", default="1-sqrt", choices=("linear", "cosine", "1-sqrt"))
    length = parser.add_mutually_exclusive_group(required=True)
    length.add_argument("--fraction", type=float, help="cooldown share of the branched run, e.g. 0.2")
    length.add_argument("--steps", type=int, help="cooldown length in steps")
    add_engine_args(parser)
    args = parser.parse_args(argv)
    if not args.source.strip():  # make passes FROM="" when it is not set
        raise RecipeError("no checkpoint given to branch from", field="FROM",
                          fix="make cooldown FROM=outputs/checkpoints/tiny/200 FRACTION=0.2 SHAPE=1-sqrt")
    cfg, branch = derive_cooldown(Path(args.source), args.shape, steps=args.steps, fraction=args.fraction)
    if args.dry_run:
        print(f"# branch: {json.dumps(branch)}")
    else:
        path = write_cooldown_yaml(cfg, branch)
        print(f"cooldown config: {path}")
    return run_config(cfg, args, label=f"cooldown {cfg.general.run}", lineage=branch)

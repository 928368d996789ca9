"""Average saved checkpoints (uniform, SWA-style) into a transformers model folder with lineage.

Usage:
    python -m smolrecipe average outputs/checkpoints/tiny                  # a run folder: its last 5 checkpoints
    python -m smolrecipe average outputs/checkpoints/tiny --last 3 --until 360
    python -m smolrecipe average outputs/checkpoints/tiny/320 outputs/checkpoints/tiny/340 --out outputs/models/avg
    (make average FROM="dir1 dir2 ..." or FROM=<run folder>)

Inputs are local-engine checkpoints (<run>/<step>/) or transformers folders (nanotron checkpoints after
`make convert`). The result goes to --out (default outputs/averages/<run>-avg-<first>-<last>) with a
lineage.json naming every parent. Averaging the stable phase approximates a cooldown at no training cost
(Hagele et al. 2024, section 4); it does not replace one.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from smolrecipe.engine.averaging import average_folders
from smolrecipe.engine.checkpoint import checkpoint_steps, verify_checkpoint
from smolrecipe.errors import RecipeError
from smolrecipe.model_folder import is_model_folder, weights_folder
from smolrecipe.paths import outputs_dir, user_path


def expand(paths: list[Path], last: int, until: int | None) -> list[Path]:
    """Checkpoint folders to average: explicit folders as given, a run folder -> its last `last` valid checkpoints."""
    out: list[Path] = []
    for p in map(user_path, paths):
        steps = checkpoint_steps(p)
        if steps and not (p / "config.json").exists():
            valid = []
            for s in steps:
                if until is not None and s > until:
                    continue
                try:
                    verify_checkpoint(p / str(s))
                except RecipeError as e:
                    print(f"warning: skipping {p / str(s)}: {e.problem}")
                    continue
                valid.append(p / str(s))
            out.extend(valid[-last:])
            continue
        if not p.is_dir():
            raise RecipeError("no such folder", file=str(p), field="FROM", fix="give checkpoint folders or a run folder")
        if (p / "metadata.json").exists():
            verify_checkpoint(p)
        if not is_model_folder(weights_folder(p)):
            raise RecipeError("not a checkpoint, a run folder with numbered checkpoints, nor a transformers model folder",
                              file=str(p), field="FROM",
                              fix="point FROM at <checkpoints_path>/<step> folders or at <checkpoints_path> itself")
        out.append(p)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe average", description=__doc__.splitlines()[0])
    parser.add_argument("paths", type=Path, nargs="+", help="checkpoint folders, or a run folder with numbered checkpoints")
    parser.add_argument("--last", type=int, default=5, help="for a run folder: how many of its newest checkpoints")
    parser.add_argument("--until", type=int, default=None, help="for a run folder: ignore checkpoints after this step")
    parser.add_argument("--out", type=Path, default=None, help="output transformers folder")
    parser.add_argument("--dry-run", action="store_true", help="list the checkpoints and the output folder; write nothing")
    args = parser.parse_args(argv)
    folders = expand(args.paths, args.last, args.until)
    if len(folders) < 2:
        raise RecipeError(f"found {len(folders)} checkpoint(s) to average", fix="give at least two checkpoints (or a run folder with two)")
    first, last = folders[0], folders[-1]
    out = args.out or outputs_dir() / "averages" / f"{first.parent.name}-avg-{first.name}-{last.name}"
    if args.dry_run:
        print(f"dry run: would average {len(folders)} checkpoints ({', '.join(f.name for f in folders)}) -> {out}")
        return 0
    path = average_folders(folders, out)
    print(f"averaged {len(folders)} checkpoints ({', '.join(f.name for f in folders)}) -> {path}")
    return 0

"""Write a recipe's report card from whatever its runs left in outputs/.

Usage:
    python -m smolrecipe report --recipe tiny        # (make report RECIPE=tiny)
    python -m smolrecipe report --recipe smollm2-1.7B --out outputs/report/1.7B
    python -m smolrecipe report --recipe tiny --dry-run  # which sections there is something for; writes nothing

Writes <out>/REPORT.md with its PNGs beside it and <out>/report.html, the same page with every image embedded
(it opens offline in any browser and can be sent alone). Sections with nothing to show are left out.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from smolrecipe.config import RECIPES
from smolrecipe.errors import RecipeError
from smolrecipe.paths import config_path, outputs_dir, user_path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe report", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="tiny", help=f"one of {', '.join(RECIPES)}")
    parser.add_argument("--out", type=Path, default=None, help="folder of the report [outputs/report/<recipe>]")
    parser.add_argument("--dry-run", action="store_true", help="say which runs would be reported and where; write nothing")
    args = parser.parse_args(argv)
    from smolrecipe.report.card import build

    out = user_path(args.out) if args.out else outputs_dir() / "report" / args.recipe
    with tempfile.TemporaryDirectory() as scratch:  # a dry run draws its plots where nothing is kept
        page = build(args.recipe, plots=Path(scratch) if args.dry_run else out / "plots")
    if not any(b[0] == "h2" and b[1] not in ("Schedule and stages", "Upstream versions") for b in page.blocks):
        raise RecipeError(f"nothing to report for recipe {args.recipe} yet: no run has written to {config_path(outputs_dir())}/",
                          field="RECIPE", fix=f"run some of the recipe first, e.g. make pretrain RECIPE={args.recipe} STAGE=1")
    if args.dry_run:
        sections = [b[1] for b in page.blocks if b[0] == "h2"]
        print(f"dry run: would write {config_path(out / 'REPORT.md')} and report.html with {', '.join(sections)}")
        return 0
    md, html = page.write(out)
    print(f"report: {config_path(md)} and {config_path(html)} (self-contained)")
    return 0

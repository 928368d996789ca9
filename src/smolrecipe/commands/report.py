"""Write a recipe's report card from whatever its runs left in outputs/.

Usage:
    python -m smolrecipe report --recipe tiny        # (make report RECIPE=tiny)
    python -m smolrecipe report --recipe smollm2-1.7B --out outputs/report/1.7B

Writes <out>/REPORT.md with its PNGs beside it and <out>/report.html, the same page with every image embedded
(it opens offline in any browser and can be sent alone). Sections with nothing to show are left out.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from smolrecipe.config import RECIPES
from smolrecipe.errors import RecipeError
from smolrecipe.paths import config_path, outputs_dir, user_path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe report", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="tiny", help=f"one of {', '.join(RECIPES)}")
    parser.add_argument("--out", type=Path, default=None, help="folder of the report [outputs/report/<recipe>]")
    args = parser.parse_args(argv)
    from smolrecipe.report.card import build

    out = user_path(args.out) if args.out else outputs_dir() / "report" / args.recipe
    page = build(args.recipe, plots=out / "plots")
    if not any(b[0] == "h2" and b[1] not in ("Schedule and stages", "Upstream versions") for b in page.blocks):
        raise RecipeError(f"nothing to report for recipe {args.recipe} yet: no run has written to {config_path(outputs_dir())}",
                          field="RECIPE", fix=f"run some of the recipe first, e.g. make pretrain RECIPE={args.recipe} STAGE=1")
    md, html = page.write(out)
    print(f"report: {config_path(md)} and {config_path(html)} (self-contained)")
    return 0

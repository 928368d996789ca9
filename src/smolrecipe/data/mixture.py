"""Tokens available per source versus tokens a recipe draws: the epochs each source is repeated.

SmolLM2 rule (REFERENCE.md section 2, from the paper's discussion of the 11T run): keep each source under
about 4-5 epochs over the whole run. `availability_column` is the hook `make plan` calls per stage and
source (it also keeps a running total per source over the plan's stages, so the last stage that draws a
source shows the whole-run figure); `mixture_report` computes the whole-run table directly. Both add the
long-context run's draws on top of stage 4's although it replaces stage 4's last steps: the whole-run
epochs are an upper bound (by 20 of 400 steps in the tiny recipe).
"""
from __future__ import annotations

from pathlib import Path

from smolrecipe.data.tokenize import folder_tokens
from smolrecipe.paths import resolve

EPOCH_WARNING = 4.0
_drawn_so_far: dict[str, float] = {}


def _human(n: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}"
    return f"{n:.0f}"


def available_tokens(folder: str) -> int | None:
    """Tokens in a tokenized folder (relative paths are relative to the repository root); None if not built."""
    p = resolve(folder)
    tokens, _, files = folder_tokens(p)
    return tokens if files else None


def reset() -> None:
    _drawn_so_far.clear()


def availability_column(folder: str, tokens_drawn: float) -> str:
    """'| 412k available, 1.3 epochs (run so far 2.1)' with a warning marker above 4 epochs."""
    if folder.startswith("s3://") or folder.startswith("hf://"):
        return "  | remote folder: availability not checked"
    avail = available_tokens(folder)
    if avail is None:
        return "  | not built yet (make data)"
    if avail == 0:
        return "  | EMPTY folder (every document was filtered out): rebuild with make data"
    total = _drawn_so_far[folder] = _drawn_so_far.get(folder, 0.0) + tokens_drawn
    here, run = tokens_drawn / max(avail, 1), total / max(avail, 1)
    warn = "  !! over 4 epochs: add data or lower its weight (SmolLM2 keeps sources under ~4-5)" \
        if max(here, run) > EPOCH_WARNING else ""
    return f"  | {_human(avail)} available, {here:.2f} epochs here, {run:.2f} over the run so far{warn}"


def mixture_report(recipe) -> list[dict]:
    """Per source over the whole run (stages + long-context): tokens drawn, available, epochs, warning."""
    from smolrecipe.plan import stage_rows

    drawn: dict[str, float] = {}
    for row in stage_rows(recipe):
        for folder, _w, tokens in row["mixture"]:
            drawn[folder] = drawn.get(folder, 0.0) + tokens
    out = []
    for folder, tokens in drawn.items():
        avail = available_tokens(folder)
        epochs = tokens / avail if avail else None
        out.append({"folder": folder, "drawn": tokens, "available": avail, "epochs": epochs,
                    "warning": avail == 0 or (epochs is not None and epochs > EPOCH_WARNING)})
    return out


def format_report(rows: list[dict]) -> str:
    lines = ["mixture over the whole run (drawn / available = epochs):"]
    for r in rows:
        if r["available"] is None:
            lines.append(f"  {r['folder']}: {_human(r['drawn'])} drawn, folder not built")
            continue
        if not r["available"]:
            lines.append(f"  {r['folder']}: {_human(r['drawn'])} drawn from an EMPTY folder: every document was filtered out")
            continue
        flag = "  !! over 4 epochs" if r["warning"] else ""
        lines.append(f"  {r['folder']}: {_human(r['drawn'])} drawn / {_human(r['available'])} = {r['epochs']:.2f} epochs{flag}")
    return "\n".join(lines)

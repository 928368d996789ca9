"""Evaluation over the checkpoints of a pretraining run, plotted against tokens seen with the stages marked.

    points = sweep(Path("outputs/checkpoints/tiny"), SUITES["tiny"], out_dir)   # writes sweep.md, sweep.png

SmolLM2 tracked its benchmarks along training and across its data stages; this is the same view for any run of
the local engine. Every checkpoint is one `evaluate` call into out_dir/<step>/, keyed on its weights, so a rerun
skips what is done and an interrupted sweep resumes where it stopped.
"""
from __future__ import annotations

import json
from pathlib import Path

from smolrecipe.engine.checkpoint import checkpoint_steps
from smolrecipe.errors import RecipeError
from smolrecipe.evaluation.run import evaluate
from smolrecipe.evaluation.suites import Suite
from smolrecipe.evaluation.table import row_scores
from smolrecipe.paths import shown
from smolrecipe.publish import atomic_write_text


def run_checkpoints(run: Path, every: int = 1) -> list[Path]:
    if not run.is_dir():
        raise RecipeError("no such run folder", file=str(run), field="RUN",
                          fix="point RUN at a checkpoints folder, e.g. outputs/checkpoints/tiny")
    steps = [s for s in checkpoint_steps(run) if (run / str(s) / "model" / "config.json").is_file()]
    if not steps:
        raise RecipeError("no checkpoints here (numbered folders with a model/ inside)", file=str(run), field="RUN",
                          fix="point RUN at <checkpoints_path> of a pretraining config, e.g. outputs/checkpoints/tiny")
    chosen = steps[::every]
    if chosen[-1] != steps[-1]:
        chosen.append(steps[-1])
    return [run / str(s) for s in chosen]


def _metadata(ckpt: Path) -> dict:
    meta = ckpt / "metadata.json"
    return json.loads(meta.read_text()) if meta.is_file() else {}


def stage_starts(metadata: dict) -> list[tuple[str, int]]:
    """(stage name, tokens seen when it started) for the stages a checkpoint's metadata lists."""
    starts, tokens = [], 0
    for stage in metadata.get("data_stages", []):
        starts.append((stage["name"], tokens))
        tokens += int(stage.get("consumed_samples", 0)) * int(stage.get("sequence_length", 0))
    return starts


def sweep(run: Path, suite: Suite, out_dir: Path, *, tokenizer: str | None = None, batch_size: int = 64,
          max_samples: int | None = None, every: int = 1, force: bool = False, log=print) -> list[dict]:
    checkpoints = run_checkpoints(run, every)
    log(f"sweep of {shown(run)}: {len(checkpoints)} checkpoints on the {suite.name} suite -> {shown(out_dir)}")
    points = []
    for i, ckpt in enumerate(checkpoints, 1):
        log(f"[{i}/{len(checkpoints)}] step {ckpt.name}")
        summary = evaluate(ckpt, suite, out_dir / ckpt.name, tokenizer=tokenizer, batch_size=batch_size,
                           max_samples=max_samples, force=force, log=log)
        meta = _metadata(ckpt)
        points.append({"step": int(ckpt.name), "tokens": meta.get("consumed_tokens_total"),
                       "stage": (meta.get("data_stages") or [{}])[-1].get("name"),
                       "scores": {k: v[0] for k, v in row_scores(summary["results"], suite).items()}})
    stages = stage_starts(_metadata(checkpoints[-1]))
    atomic_write_text(out_dir / "sweep.json", json.dumps({"run": shown(run), "suite": suite.name, "points": points,
                                                          "stages": stages}, indent=1))
    atomic_write_text(out_dir / "sweep.md", sweep_table(points, suite, run))
    plot_sweep(points, stages, suite, out_dir / "sweep.png", title=f"{run.name}: {suite.name} suite")
    log(f"wrote {shown(out_dir / 'sweep.md')} and {shown(out_dir / 'sweep.png')}")
    return points


def sweep_table(points: list[dict], suite: Suite, run: Path) -> str:
    labels = [r.label for r in suite.rows]
    lines = [f"# {run.name}: {suite.name} suite over {len(points)} checkpoints", "",
             "| step | tokens | stage | " + " | ".join(labels) + " |", "|---|---|---|" + "---|" * len(labels)]
    for p in points:
        cells = [(f"{p['scores'][r.label]:.1f}" if r.percent else f"{p['scores'][r.label]:.3f}")
                 if r.label in p["scores"] else "-" for r in suite.rows]
        lines.append(f"| {p['step']} | {p['tokens']} | {p['stage']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_sweep(points: list[dict], stages: list[tuple[str, int]], suite: Suite, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in suite.rows if any(r.label in p["scores"] for p in points)]
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 2.6 * len(rows)), sharex=True, squeeze=False)
    x_of = [(p["tokens"] if p["tokens"] is not None else p["step"]) for p in points]
    for ax, row in zip(axes[:, 0], rows):
        xs = [x for x, p in zip(x_of, points) if row.label in p["scores"]]
        ys = [p["scores"][row.label] for p in points if row.label in p["scores"]]
        ax.plot(xs, ys, marker="o", ms=3)
        ax.set_ylabel("%" if row.percent else row.metric.replace("_", " "))
        ax.set_title(row.label, fontsize=9, loc="left")
        ax.grid(alpha=0.3)
        if row.chance is not None:
            ax.axhline(row.chance, color="tab:red", ls=":", lw=0.8, label="chance")
            ax.legend(loc="lower left", fontsize=7, frameon=False)
        for name, start in stages[1:]:
            ax.axvline(start, color="grey", ls="--", lw=0.8)
        for name, start in stages:  # a stage that began before the first checkpoint is labelled at the left edge
            ax.text(max(start, min(x_of)), 1.0, f" {name}", transform=ax.get_xaxis_transform(), fontsize=7, va="top",
                    color="grey")
    axes[-1, 0].set_xlabel("tokens seen" if points[0]["tokens"] is not None else "step")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)

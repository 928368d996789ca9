"""The report card of a recipe: what ran, on what, how fast, with what data, and where each artifact came from.

    page = build("tiny")          # from whatever exists under outputs/ (a section without data is left out)

Sections: the machine and versions; the LR schedule with its stages; training loss per launch across the run
with tokens, wall time, throughput and MFU (against the matmul ceiling measured now on this machine, in each
run's precision); the data mixture and epochs per source, filters, decontamination and classifiers; the wall
clock of each demo step; the lineage of every checkpoint and average; the pinned and installed upstream versions.
"""
from __future__ import annotations

import json
import statistics
import time
from datetime import date
from pathlib import Path

from smolrecipe import machine
from smolrecipe.config import load_recipe
from smolrecipe.engine.metrics import read_metrics
from smolrecipe.paths import config_path, outputs_dir, resolve
from smolrecipe.publish import read_jsonl
from smolrecipe.report.page import Page


def human(n: float) -> str:
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n:.0f}"


def launches(recipe) -> list:
    return [*recipe.stages, *([recipe.long_context] if recipe.long_context else [])]


def build(name: str, plots: Path | None = None) -> Page:
    recipe = load_recipe(name, check_tokenizer=False)
    plots = plots or outputs_dir() / "report" / name / "plots"
    page = Page(f"{name}: report card")
    page.p(f"Generated {date.today().isoformat()} by `make report RECIPE={name}` on {machine.short()}, from "
           f"{config_path(outputs_dir())}/. Configs: pretraining/configs/{name}/.")
    schedule(page, recipe, plots)
    training(page, recipe, plots)
    data(page, recipe)
    evaluation(page)
    timings(page)
    lineage(page, recipe)
    versions(page)
    return page


def schedule(page: Page, recipe, plots: Path) -> None:
    from smolrecipe.plan import plot_schedule, stage_rows

    page.h2("Schedule and stages")
    rows = [[r["name"], f"{r['first']:,}..{r['last']:,}", human(r["tokens"]), f"{r['lr_first']:.2e} -> {r['lr_last']:.2e}",
             ", ".join(f"{Path(f).name} {w:.0%}" for f, w, _ in r["mixture"])] for r in stage_rows(recipe)]
    page.table(["stage", "iterations", "tokens", "LR (first -> last)", "mixture"], rows)
    page.image(plot_schedule(recipe, plots / "schedule.png"), "the LR of every iteration, with the stages")


def _run_metrics(cfg) -> tuple[dict, list[dict]]:
    folder = outputs_dir() / "runs" / cfg.general.run
    steps, _ = read_metrics(folder)
    launched, _ = read_jsonl(folder / "launches.jsonl")
    return steps, launched


def training(page: Page, recipe, plots: Path) -> None:
    from smolrecipe.engine.mfu import matmul_ceiling
    from smolrecipe.model import flops_per_token

    runs = [(cfg, *_run_metrics(cfg)) for cfg in launches(recipe)]
    runs = [r for r in runs if r[1]]
    if not runs:
        return
    page.h2("Training")
    ceilings: dict[str, float] = {}
    rows = []
    for cfg, steps, launched in runs:
        xs = sorted(steps)
        precision = next((x.get("precision") for x in reversed(launched) if x.get("precision")), "fp32")
        if precision not in ceilings:
            ceilings[precision] = matmul_ceiling(cfg, precision == "bf16")
        seconds = sum(steps[s].get("step_time", 0.0) for s in xs)
        tokens = sum(steps[s].get("tokens_per_s", 0.0) * steps[s].get("step_time", 0.0) for s in xs)  # as trained
        tps = tokens / seconds if seconds else 0.0
        tail = [steps[s]["loss"] for s in xs[-10:]]
        rows.append([cfg.general.run, f"{xs[0]:,}..{xs[-1]:,}", human(round(tokens)), f"{seconds:.0f} s",
                     f"{tps:,.0f}", f"{flops_per_token(cfg) * tps / ceilings[precision]:.0%}", precision,
                     f"{statistics.mean(tail):.3f}"])
    page.table(["run", "iterations", "tokens", "training time", "tokens/s", "MFU", "precision", "loss (last 10)"], rows)
    page.p("MFU: model FLOPs per second (6N + attention, PaLM appendix B) over the best matmul throughput measured "
           f"now on this machine in the run's precision ({', '.join(f'{k} {v / 1e9:.0f} GFLOP/s' for k, v in ceilings.items())}; "
           "src/smolrecipe/engine/mfu.py).")
    page.image(plot_losses(runs, recipe, plots / "loss.png"), "training loss of every launch, by global step")


def plot_losses(runs, recipe, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    for cfg, steps, _ in runs:
        xs = sorted(steps)
        ax.plot(xs, [steps[s]["loss"] for s in xs], lw=1, label=cfg.general.run)
    for st in recipe.stages[1:]:
        ax.axvline(st.data_stages[-1].start_training_step - 0.5, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("global step")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def data(page: Page, recipe) -> None:
    from smolrecipe.data.mixture import mixture_report
    from smolrecipe.engine.reach import folder_reach, reach_summary

    rows = mixture_report(recipe)
    if not any(r["available"] for r in rows):
        return
    page.h2("Data")
    page.table(["folder", "drawn", "available", "epochs"],
               [[config_path(resolve(r["folder"])), human(r["drawn"]), human(r["available"] or 0),
                 "-" if r["epochs"] is None else f"{r['epochs']:.2f}"] for r in rows])
    page.p(reach_summary(folder_reach(recipe))[0])
    report = outputs_dir() / "data" / recipe.name / "REPORT.json"
    if report.is_file():
        rep = json.loads(report.read_text())
        page.table(["source", "tokens", "documents", "removed (step: reason)", "decontamination"],
                   [[k, f"{v['tokens']:,}", f"{v['documents']:,}",
                     "; ".join(f"{n:,} {what.split(': ')[-1]}" for what, n in v["removed"].items()) or "-",
                     ", ".join(f"{b} {n}" for b, n in v["decontamination"].items()) or "-"]
                    for k, v in rep["sources"].items()])
        page.table(["classifier", "threshold", "F1", "precision", "recall", "held-out annotations"],
                   [[k, c["threshold"], f"{c['f1']:.3f}", f"{c['precision']:.3f}", f"{c['recall']:.3f}", c["n"]]
                    for k, c in rep.get("classifiers", {}).items()])


def evaluation(page: Page) -> None:
    """Every evaluation under outputs/eval (make eval): one table per suite, a row per model; the sweep's plot."""
    from smolrecipe.evaluation.suites import SUITES
    from smolrecipe.evaluation.table import row_scores

    found: dict[str, list[tuple[str, dict]]] = {}
    for f in sorted((outputs_dir() / "eval").glob("*/*/results.json")):
        if f.parts[-3] == "sweeps":
            continue
        summary = json.loads(f.read_text())
        suite = summary.get("suite")
        if suite in SUITES:
            found.setdefault(suite, []).append((f.parts[-3], row_scores(summary["results"], SUITES[suite])))
    sweeps = sorted((outputs_dir() / "eval" / "sweeps").glob("*/*/sweep.png"))
    if not found and not sweeps:
        return
    page.h2("Evaluation")
    for suite, rows in found.items():
        labels = sorted({label for _, scores in rows for label in scores})
        page.p(f"The {suite} suite (make eval SUITE={suite}; evaluation/README.md says how each task is scored):")
        page.table(["model", *labels], [[model, *[f"{scores[l][0]:.1f}" if l in scores else "-" for l in labels]]
                                       for model, scores in rows])
    for png in sweeps:
        page.image(png, f"every checkpoint of {png.parts[-3]} on the {png.parts[-2]} suite, against tokens seen")


def timings(page: Page) -> None:
    f = outputs_dir() / "demo" / "timings.json"
    if not f.is_file():
        return
    t = json.loads(f.read_text())
    page.h2("Wall clock of `make demo`")
    page.table(["step", "status", "seconds"], [[s["key"], s["status"], f"{s['seconds']:.0f}"] for s in t["steps"]])
    page.p(f"total {t['seconds']:.0f} s on {t.get('machine', '?')}, {t.get('date', '')}")


def lineage(page: Page, recipe) -> None:
    from smolrecipe.engine.checkpoint import checkpoint_steps

    rows = []
    for cfg in launches(recipe):
        folder = resolve(cfg.checkpoints.checkpoints_path)
        steps = [s for s in checkpoint_steps(folder) if (folder / str(s) / "metadata.json").exists()]
        if not steps:
            continue
        meta = json.loads((folder / str(max(steps)) / "metadata.json").read_text())
        chain = " <- ".join(f"{p.get('run')}@{p.get('step')}" for p in reversed(meta.get("lineage", []))) or "from scratch"
        rows.append([config_path(folder / str(max(steps))), meta.get("run"), chain])
    for lin in sorted((outputs_dir() / "averages").glob("*/lineage.json")):
        rec = json.loads(lin.read_text())
        rows.append([config_path(lin.parent), rec.get("kind"), ", ".join(Path(p).name for p in rec.get("parents", []))])
    if rows:
        page.h2("Lineage")
        page.table(["artifact", "run / kind", "made from"], rows)


def versions(page: Page) -> None:
    from smolrecipe.versions import DATATROVE_GPU_COMMIT, NANOTRON_COMMIT, runtime_versions

    page.h2("Upstream versions")
    v = runtime_versions()
    page.table(["package", "installed here"], [[k, v[k]] for k in v])
    page.p(f"GPU environment pins (make setup-gpu): nanotron {NANOTRON_COMMIT}, datatrove {DATATROVE_GPU_COMMIT}. "
           f"Report built in {time.process_time():.0f} CPU-s.")

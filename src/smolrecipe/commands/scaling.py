"""The schedules-and-scaling recipe: Hagele et al. (2024) at tiny size, and scaling-law fits from reusable runs.

Usage:
    python -m smolrecipe scaling                       # every experiment, resumable; outputs/scaling/REPORT.md + plots
    python -m smolrecipe scaling --steps 120 --seeds 0  # a quick pass (the budget T in steps, a multiple of 60)
    python -m smolrecipe scaling --data DIR            # another corpus: DIR/<web-edu|web|code|...> tokenized folders
    python -m smolrecipe scaling fit points.csv [RUN_DIR ...]   # fit L(N, D) to your own runs (columns n,d,loss[,flops])
    (make scaling [STEPS=600] [DATA=DIR] [DRY_RUN=1])

Runs the local engine on the tiny recipe's tokenized folders (make data RECIPE=tiny first). The experiments and
their configs are in src/smolrecipe/scaling/experiments.py, each derived from recipes/schedules/base.yaml; every
run writes outputs/scaling/results/<run>.json when finished, so a rerun skips what is done and says so.
"""
from __future__ import annotations

import argparse
import csv
import json
import time
from datetime import date
from pathlib import Path

from smolrecipe import machine
from smolrecipe.errors import RecipeError
from smolrecipe.paths import config_path, outputs_dir, repo_root, user_path

BASE = "recipes/schedules/base.yaml"


def main(argv: list[str]) -> int:
    if argv[:1] == ["fit"]:
        return fit_command(argv[1:])
    p = argparse.ArgumentParser(prog="smolrecipe scaling", description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600, help="the main budget T in steps (a multiple of 60) [%(default)s]")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="initialisation seeds [0 1]")
    p.add_argument("--data", default="outputs/data/tiny/tokenized", help="folder of tokenized source folders [%(default)s]")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    p.add_argument("--dry-run", action="store_true", help="check the data and list the runs; train nothing")
    a = p.parse_args(argv)
    if a.steps < 60 or a.steps % 60:
        raise RecipeError(f"--steps {a.steps} is not a positive multiple of 60", field="--steps",
                          fix="e.g. --steps 600 (budgets T/3 and 5% cooldowns must be whole steps)")
    if len(set(a.seeds)) != len(a.seeds):
        raise RecipeError(f"--seeds {a.seeds} repeats a seed", field="--seeds", fix="e.g. --seeds 0 1")
    from smolrecipe.config import check_config, load_nanotron_yaml
    from smolrecipe.engine.options import EngineOptions
    from smolrecipe.scaling import report
    from smolrecipe.scaling.experiments import plan
    from smolrecipe.scaling.runner import run_all

    base = load_nanotron_yaml(repo_root() / BASE)
    check_config(base)
    runs = plan(a.steps, tuple(a.seeds))
    out = outputs_dir() / "scaling"
    window = a.steps // 6

    def opts(run, max_steps):
        avg = dict(swa_interval=5, swa_window=window, ema_decay=0.99) if run.averages else {}
        return EngineOptions(max_steps=max_steps, threads=a.threads, progress=False, tensorboard=False, **avg).check()

    if a.dry_run:
        return dry_run(runs, base, a, out)
    t = time.time()
    print(f"scaling: {len(runs)} runs of the local engine (budget T = {a.steps} steps, seeds {a.seeds}) -> {config_path(out)}")
    results = run_all(runs, base, a.data, out, opts)
    write_report(results, out, a)
    print(f"scaling: done in {time.time() - t:.0f} s; report {config_path(out / 'REPORT.md')}")
    for claim, measured, verdict in report.findings(results):
        print(f"  {verdict:<22} {claim}: {measured}")
    return 0


def dry_run(runs, base, a, out: Path) -> int:
    from smolrecipe.scaling.runner import validation_windows

    validation_windows(a.data, base.tokens.sequence_length, base.model.model_config.vocab_size)  # the data reads
    steps = sum(r.end - (r.branch or 0) for r in runs)
    done = sum(1 for r in runs if (out / "results" / f"{r.name}.json").exists())
    print(f"dry run: would train {len(runs)} runs, {steps:,} steps in all ({steps / a.steps:.1f} budgets T of {a.steps} "
          f"steps; {done} have results already and are skipped if unchanged), on {a.data} -> {config_path(out)}")
    for r in runs:
        origin = f"branch of {r.parent} at {r.branch}" if r.parent else "from scratch"
        print(f"  {r.name:<28} {r.group:<10} {origin}, {r.shape} to step {r.end}")
    return 0


def write_report(results: dict, out: Path, args) -> None:
    from smolrecipe.publish import atomic_write_text
    from smolrecipe.scaling import report

    led = report.ledger(results)
    fit = report.scaling_fit(led) if led else None
    plots = {"schedules": report.plot_schedules(results, outputs_dir() / "runs", out / "plots" / "schedules.png"),
             "cooldown length": report.plot_cooldown_length(results, out / "plots" / "cooldown_length.png")}
    if led:
        plots["loss vs FLOPs"] = report.plot_scaling(led, fit, out / "plots" / "scaling.png")
        plots["FLOPs of reuse"] = report.plot_flops(led, out / "plots" / "flops.png")
    header = (f"# Schedules and scaling at tiny size: `make scaling` of {date.today().isoformat()}\n\n"
              f"{len(results)} runs, budget T = {args.steps} steps of 2,048 tokens, seeds {args.seeds}, on "
              f"{machine.short()}; data {args.data}. Configs: outputs/scaling/configs/; results: outputs/scaling/results/.")
    text = report.markdown(results, led, fit, {k: f"plots/{Path(v).name}" for k, v in plots.items()}, header)
    atomic_write_text(out / "REPORT.md", text)


def fit_command(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="smolrecipe scaling fit", description="fit L(N, D) = E + A/N^alpha + B/D^beta")
    p.add_argument("sources", nargs="+", help="CSV files with columns n,d,loss[,flops], or outputs/scaling/results folders")
    a = p.parse_args(argv)
    from smolrecipe.scaling.fit import fit_envelope, fit_law

    points, flops = [], []
    for src in map(user_path, a.sources):
        if src.is_dir():
            for f in sorted(src.glob("*.json")):
                r = json.loads(f.read_text())
                loss = r["val"][str(r["run"]["end"])]["mean"]
                points.append((r["n_params"], r["tokens"], loss))
                flops.append((r["flops_total"], loss))
        elif src.suffix == ".csv" and src.is_file():
            with open(src, newline="") as fh:
                for k, row in enumerate(csv.DictReader(fh), 2):
                    try:
                        n, d, loss = float(row["n"]), float(row["d"]), float(row["loss"])
                    except (KeyError, TypeError, ValueError):
                        raise RecipeError(f"line {k} lacks numeric n, d, loss columns", file=str(src),
                                          fix="a header n,d,loss[,flops]: parameters, tokens, loss") from None
                    points.append((n, d, loss))
                    if row.get("flops"):
                        flops.append((float(row["flops"]), loss))
        else:
            raise RecipeError("not a CSV file or a results folder", file=str(src),
                              fix="pass points.csv (n,d,loss[,flops]) or outputs/scaling/results")
    try:
        law = fit_law(points)
    except ValueError as e:
        raise RecipeError(str(e), field="sources", fix="give runs of at least two model sizes and two token counts") from None
    print(f"{len(points)} points: {law.describe()}")
    if len(flops) >= 2:
        env = fit_envelope(flops)
        print(f"envelope (approach 1): L = {env.a:.4g} * C^-{env.b:.4f}")
    return 0

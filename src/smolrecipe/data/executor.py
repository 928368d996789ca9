"""One set of flags for every pipeline script: local executor by default, datatrove's Slurm executor on request.

    parser = argparse.ArgumentParser(); add_executor_args(parser)
    run(pipeline, args, name="fineweb-edu-filter")          # local: tasks/workers on this machine
    ... --slurm --partition hopper-cpu --tasks 512 --time 10:00:00   # the same pipeline on a cluster

Each pipeline gets its own logging dir (<logging-dir>/<name>), where datatrove keeps per-task completion
markers: a rerun skips the tasks that already finished, so an interrupted build resumes where it stopped.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_executor_args(parser: argparse.ArgumentParser, *, tasks: int = 2, logging_dir: str | None = None) -> None:
    g = parser.add_argument_group("executor (local by default; --slurm for a cluster)")
    g.add_argument("--tasks", type=int, default=tasks, help="number of tasks (input shards) [%(default)s]")
    g.add_argument("--workers", type=int, default=-1, help="tasks running at once (-1 = all) [%(default)s]")
    g.add_argument("--logging-dir", default=logging_dir, help="datatrove logs, stats and completion markers")
    g.add_argument("--slurm", action="store_true", help="submit with datatrove's SlurmPipelineExecutor")
    g.add_argument("--partition", default=None, help="Slurm partition (with --slurm)")
    g.add_argument("--time", default="10:00:00", help="Slurm time limit per task [%(default)s]")
    g.add_argument("--cpus-per-task", type=int, default=1, help="Slurm CPUs per task [%(default)s]")
    g.add_argument("--mem-per-cpu-gb", type=int, default=2, help="Slurm memory per CPU [%(default)s]")
    g.add_argument("--venv", default=None, help="Slurm: virtualenv to activate on the nodes")


def make_executor(pipeline: list, args: argparse.Namespace, name: str, *, tasks: int | None = None, depends=None):
    """The executor for one pipeline; `tasks` overrides --tasks for steps that must run as one task."""
    from smolrecipe.errors import RecipeError

    n = tasks if tasks is not None else args.tasks
    logging_dir = str(Path(args.logging_dir or "outputs/data/logs") / name)
    if getattr(args, "slurm", False):
        from datatrove.executor import SlurmPipelineExecutor

        if not args.partition:
            raise RecipeError("--slurm needs a partition", field="--partition", fix="add --partition <name>")
        return SlurmPipelineExecutor(
            pipeline=pipeline, tasks=n, workers=args.workers, time=args.time, partition=args.partition,
            cpus_per_task=args.cpus_per_task, mem_per_cpu_gb=args.mem_per_cpu_gb, job_name=name,
            logging_dir=logging_dir, venv_path=args.venv, depends=depends,
        )
    from datatrove.executor import LocalPipelineExecutor

    workers = args.workers if args.workers != -1 else n
    return LocalPipelineExecutor(pipeline=pipeline, tasks=n, workers=min(workers, n), logging_dir=logging_dir,
                                 depends=depends)


def run(pipeline: list, args: argparse.Namespace, name: str, *, tasks: int | None = None, depends=None,
        report_bad_input: bool = True) -> dict:
    """Run (or submit) a pipeline; return its merged stats {step name: {stat: value}} (empty for Slurm).

    Prints one line per kind of skipped input line (readers.bad_input_summary) unless the caller reports
    them itself (report_bad_input=False, as the tiny build does in its end-of-build summary).
    """
    ex = make_executor(pipeline, args, name, tasks=tasks, depends=depends)
    ex.run()
    if getattr(args, "slurm", False):
        return {}
    return finished(Path(ex.logging_dir.path), report_bad_input)


def finished(logging_dir: Path, report_bad_input: bool = True) -> dict:
    """The merged stats of a finished local run, with the bad-input lines printed when asked."""
    from smolrecipe.data.readers import bad_input_summary

    stats = read_stats(logging_dir)
    if report_bad_input:
        for line in bad_input_summary(stats):
            print(line)
    return stats


def read_stats(logging_dir: Path) -> dict:
    """Merge the per-task stats files of a finished local run (they survive reruns that skip every task)."""
    merged: dict[str, dict[str, float]] = {}
    for f in sorted((logging_dir / "stats").glob("*.json")):
        for step in json.loads(f.read_text()):
            name = step.get("name", "?")
            out = merged.setdefault(name, {})
            for key, value in step.get("stats", {}).items():
                v = value.get("total", value.get("n", 0)) if isinstance(value, dict) else value
                if isinstance(v, (int, float)):
                    out[key] = out.get(key, 0) + v
    return merged


def stat(stats: dict, step_name_part: str, key: str) -> float:
    """Sum of one stat over the steps whose name contains `step_name_part`."""
    return sum(s.get(key, 0) for name, s in stats.items() if step_name_part in name)


def script_entry(main) -> None:
    """Run a data/ script's main(): a RecipeError prints as 'error: file: field: problem / fix' and exits 2."""
    import sys

    from smolrecipe.errors import RecipeError

    try:
        sys.exit(int(main() or 0))
    except RecipeError as e:
        print(f"error: {e.render()}", file=sys.stderr)
        sys.exit(2)

"""One set of flags for every pipeline script: local executor by default, datatrove's Slurm executor on request.

    parser = argparse.ArgumentParser(); add_executor_args(parser)
    run(pipeline, args, "decontaminate", reads=[a.input, a.index], writes=[a.out], config={"n_grams": 13})
    ... --slurm --partition hopper-cpu --tasks 512 --time 10:00:00   # the same pipeline on a cluster

datatrove keeps per-task completion markers in a pipeline's logging dir and skips completed tasks on a
rerun. The logging dir is therefore keyed to the run (`<logging-dir>/<name>-<run key>`, smolrecipe.runkey):
the same command again resumes where it stopped, while another input, output or setting starts fresh.
Every run says which of the two happened. A fresh run refuses to write into a non-empty local output
folder left by another run unless told to replace it (--overwrite), so nothing is lost silently.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from smolrecipe.errors import RecipeError
from smolrecipe.paths import resolve, shown
from smolrecipe.runkey import run_key

DEFAULT_LOGS = "outputs/data/logs"
# flags that change how a run is executed, not what it computes: left out of the run key
EXECUTION_FLAGS = ("workers", "logging_dir", "slurm", "partition", "time", "cpus_per_task", "mem_per_cpu_gb", "venv",
                   "overwrite", "gpus_per_task")


def add_executor_args(parser: argparse.ArgumentParser, *, tasks: int = 2, logging_dir: str | None = None) -> None:
    g = parser.add_argument_group("executor (local by default; --slurm for a cluster)")
    g.add_argument("--tasks", type=int, default=tasks, help="number of tasks (input shards) [%(default)s]")
    g.add_argument("--workers", type=int, default=-1, help="tasks running at once (-1 = all) [%(default)s]")
    g.add_argument("--logging-dir", default=logging_dir,
                   help=f"root of datatrove's logs, stats and completion markers [{DEFAULT_LOGS}]")
    g.add_argument("--overwrite", action="store_true", help="let a fresh run replace a non-empty output folder")
    g.add_argument("--slurm", action="store_true", help="submit with datatrove's SlurmPipelineExecutor")
    g.add_argument("--partition", default=None, help="Slurm partition (with --slurm)")
    g.add_argument("--time", default="10:00:00", help="Slurm time limit per task [%(default)s]")
    g.add_argument("--cpus-per-task", type=int, default=1, help="Slurm CPUs per task [%(default)s]")
    g.add_argument("--mem-per-cpu-gb", type=int, default=2, help="Slurm memory per CPU [%(default)s]")
    g.add_argument("--gpus-per-task", type=int, default=0, help="Slurm GPUs per task (LLM steps) [%(default)s]")
    g.add_argument("--venv", default=None, help="Slurm: virtualenv to activate on the nodes")


def script_config(args: argparse.Namespace, *, drop=()) -> dict:
    """A script's parsed flags minus those that only say how to execute it: the `config` part of its run key."""
    return {k: v for k, v in sorted(vars(args).items()) if k not in EXECUTION_FLAGS and k not in drop}


def check_executor_args(args: argparse.Namespace) -> None:
    if args.tasks < 1:
        raise RecipeError(f"--tasks {args.tasks} is not a positive number", field="--tasks", fix="e.g. --tasks 4")
    if args.workers == 0 or args.workers < -1:
        raise RecipeError(f"--workers {args.workers} is not a positive number or -1", field="--workers",
                          fix="e.g. --workers 2, or -1 for one worker per task")


def logging_root(args: argparse.Namespace) -> str:
    root = getattr(args, "logging_dir", None) or DEFAULT_LOGS
    return root if "://" in str(root) else str(resolve(root))


def make_executor(pipeline: list, args: argparse.Namespace, logging_name: str, *, tasks: int | None = None,
                  depends=None, workers: int | None = None):
    """The executor for one pipeline, logging to <logging root>/<logging_name>; `tasks` overrides --tasks and
    `workers` --workers (local runs only: 1 runs the tasks one after another in this process, which for a light
    pipeline is faster than starting worker processes that import datatrove and the pipeline's models again)."""
    n = tasks if tasks is not None else args.tasks
    logging_dir = f"{logging_root(args).rstrip('/')}/{logging_name}"
    if getattr(args, "slurm", False):
        from datatrove.executor import SlurmPipelineExecutor

        if not args.partition:
            raise RecipeError("--slurm needs a partition", field="--partition", fix="add --partition <name>")
        return SlurmPipelineExecutor(
            pipeline=pipeline, tasks=n, workers=args.workers, time=args.time, partition=args.partition,
            cpus_per_task=args.cpus_per_task, mem_per_cpu_gb=args.mem_per_cpu_gb, job_name=logging_name.split("/")[0],
            gpus_per_task=getattr(args, "gpus_per_task", 0),
            logging_dir=logging_dir, venv_path=args.venv, depends=depends,
        )
    from datatrove.executor import LocalPipelineExecutor

    workers = workers or (args.workers if args.workers != -1 else n)
    return LocalPipelineExecutor(pipeline=pipeline, tasks=n, workers=min(workers, n), logging_dir=logging_dir,
                                 depends=depends)


def keyed_name(name: str, args: argparse.Namespace, *, reads=(), writes=(), config: dict | None = None,
               tasks: int | None = None) -> tuple[str, str]:
    """(logging dir name, run key) of a run: `<name>-<key>`."""
    key = run_key(name, reads=reads, writes=writes, config={**(config or {}), "tasks": tasks or args.tasks})
    return f"{name}-{key}", key


def _done_tasks(logging_dir: Path) -> int:
    folder = logging_dir / "completions"
    return sum(1 for _ in folder.iterdir()) if folder.is_dir() else 0


def start_or_resume(name: str, key: str, logging_dir: str, tasks: int, writes=(), *, overwrite: bool, log=print,
                    last_stage_dir: str | None = None) -> str:
    """Say whether this run resumes an earlier one with the same key or starts fresh ("resumed"/"complete"/"fresh").

    A fresh run whose local output folder already holds files (another run's) stops here unless `overwrite`.
    For a chain of executors (MinHash), `logging_dir` is the chain's folder and `last_stage_dir` the last stage's."""
    local = "://" not in logging_dir
    if local and Path(logging_dir).is_dir():
        done = _done_tasks(Path(last_stage_dir or logging_dir))
        if done >= tasks:
            log(f"{name}: already complete (run {key}, {done}/{tasks} tasks); nothing to redo")
            return "complete"
        log(f"{name}: resuming run {key}: {done} of {tasks} tasks already done")
        return "resumed"
    for out in writes:
        out = str(out)
        if "://" in out or not Path(out).is_dir() or not any(Path(out).iterdir()):
            continue
        if not overwrite:
            raise RecipeError("the output folder holds files from another run (other input, output or settings)",
                              file=shown(out), fix="pass --overwrite to replace them, or choose another --out")
        shutil.rmtree(out)
        log(f"{name}: replacing the previous contents of {shown(out)} (written by another run)")
    log(f"{name}: starting fresh (run {key})" + ("" if local else f", logs in {logging_dir}"))
    return "fresh"


def run(pipeline: list, args: argparse.Namespace, name: str, *, reads=(), writes=(), config: dict | None = None,
        tasks: int | None = None, depends=None, report_bad_input: bool = True, overwrite: bool | None = None,
        workers: int | None = None, log=print) -> dict:
    """Run (or submit) one keyed pipeline; return its merged stats {step name: {stat: value}} (empty for Slurm).

    `reads`, `writes` and `config` make the run key (see the module doc); `workers` is make_executor's. Prints one
    line per kind of skipped input line (readers.bad_input_summary) unless the caller reports them itself
    (report_bad_input=False).
    """
    check_executor_args(args)
    n = tasks if tasks is not None else args.tasks
    logging_name, key = keyed_name(name, args, reads=reads, writes=writes, config=config, tasks=n)
    ex = make_executor(pipeline, args, logging_name, tasks=n, depends=depends, workers=workers)
    replace = getattr(args, "overwrite", False) if overwrite is None else overwrite
    start_or_resume(name, key, ex.logging_dir.path, n, writes, overwrite=replace, log=log)
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

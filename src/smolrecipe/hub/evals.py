"""Evaluation results for a model card: lighteval's results files, read with the protocol they record.

    runs = find_results(model_dir, explicit=[...])   # --eval files/folders, else results_*.json beside the model
                                                     # or under outputs/eval whose model_name is this model
    rows = runs[-1].rows                              # task, metric, value, stderr, data set, split, few-shot, ...

lighteval writes `results/<model>/results_<time>.json` with "results" (task -> metric -> value, and
`<metric>_stderr`), "config_tasks" (per task: hf_repo, hf_subset, hf_revision, evaluation_splits, num_fewshots,
and each metric's `sample_level_fn`, whose repr names the log-probability normalisation) and "config_general"
(model_name, lighteval_sha). The results file does not hold the lighteval version or the prompt formulation;
they come from a `protocol` mapping when the evaluation step wrote one (in the results file under "smolrecipe",
or in a protocol.json beside it: {"lighteval_version": ..., "tasks": {task: {"formulation": ..., "normalisation":
...}}}), and the formulation is otherwise read from the task name's suffix (_cf, _mcf, _hybrid) and marked so.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from smolrecipe.errors import RecipeError
from smolrecipe.paths import outputs_dir, repo_root, resolve

FORMULATIONS = {"cf": "cloze (CF)", "mcf": "multiple choice, letters (MCF)", "hybrid": "hybrid"}


@dataclass
class EvalRow:
    task: str                   # "hellaswag_cf|0" as lighteval names it
    metric: str
    value: float
    stderr: float | None
    dataset: str | None         # hf_repo
    subset: str | None
    split: str | None
    revision: str | None
    fewshot: int | None
    normalisation: str
    formulation: str


@dataclass
class EvalRun:
    file: Path
    model_name: str | None
    lighteval: str
    rows: list[EvalRow] = field(default_factory=list)


def normalisation_of(sample_level_fn: str | None) -> str:
    """'LogProbCharNorm(ignore_first_space=True)' from lighteval's repr of a metric's sample-level function."""
    text = sample_level_fn or ""
    m = re.search(r"logprob_normalization=(.*)\)$", text)
    if not m:
        return "n/a (not a log-likelihood metric)" if text else "not recorded"
    norm = m.group(1)
    if norm == "None":
        return "none (sum of log-probabilities)"
    return re.sub(r"name='[^']*',?\s*", "", norm)


def formulation_of(task: str, protocol: dict) -> str:
    given = (protocol.get("tasks", {}).get(task) or protocol.get("tasks", {}).get(task.split("|")[0]) or {}).get("formulation")
    if given:
        return str(given)
    m = re.search(r"_(cf|mcf|hybrid)(?:$|[_:|])", task.split("|")[0])
    return f"{FORMULATIONS[m.group(1)]} (from the task name)" if m else "not recorded"


def load_results(path: Path) -> EvalRun:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        results, tasks = data["results"], data.get("config_tasks") or {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise RecipeError(f"not a lighteval results file ({e!r})", file=str(path), field="EVAL",
                          fix="pass the results_<time>.json that lighteval wrote (results/<model>/...)") from None
    protocol = data.get("smolrecipe") or {}
    side = Path(path).parent / "protocol.json"
    if not protocol and side.is_file():
        protocol = json.loads(side.read_text(encoding="utf-8"))
    ours = _our_summary(Path(path))
    if not protocol and ours:  # `make eval` records the versions it ran with beside lighteval's own file
        protocol = {"lighteval_version": (ours.get("versions") or {}).get("lighteval")}
    general = data.get("config_general") or {}
    version = protocol.get("lighteval_version")
    sha = general.get("lighteval_sha")
    lighteval = str(version) if version else (f"commit {sha}" if sha and sha != "?" else "not recorded in the results file")
    run = EvalRun(Path(path), general.get("model_name"), lighteval)
    for task, metrics in results.items():
        if task == "all" or not isinstance(metrics, dict):
            continue
        cfg = tasks.get(task) or {}
        fns = {m.get("metric_name"): m.get("sample_level_fn") for m in cfg.get("metrics") or [] if isinstance(m, dict)}
        norm_given = (protocol.get("tasks", {}).get(task) or {}).get("normalisation")
        for metric, value in metrics.items():
            if metric.endswith("_stderr") or not isinstance(value, (int, float)):
                continue
            fewshot = cfg.get("num_fewshots")
            if fewshot is None and task.rsplit("|", 1)[-1].isdigit():
                fewshot = int(task.rsplit("|", 1)[-1])
            splits = cfg.get("evaluation_splits") or []
            run.rows.append(EvalRow(
                task=task, metric=metric, value=float(value), stderr=metrics.get(f"{metric}_stderr"),
                dataset=cfg.get("hf_repo"), subset=cfg.get("hf_subset"), split=",".join(splits) or None,
                revision=cfg.get("hf_revision"), fewshot=fewshot,
                normalisation=str(norm_given) if norm_given else normalisation_of(fns.get(metric)),
                formulation=formulation_of(task, protocol)))
    return run


def _our_summary(results_file: Path) -> dict | None:
    """The results.json `make eval` writes at <out>/ for lighteval's <out>/lighteval/results/model/results_*.json."""
    if len(results_file.parents) <= 3:
        return None
    ours = results_file.parents[3] / "results.json"
    try:
        return json.loads(ours.read_text(encoding="utf-8")) if ours.is_file() else None
    except (OSError, json.JSONDecodeError):
        return None


def _evaluated_model(results_file: Path) -> str | None:
    """The model a lighteval results file is about. `make eval` runs lighteval on a link named `model` and records
    the real path in its own results.json (<out>/results.json beside <out>/lighteval/results/model/results_*.json);
    a results file from a plain lighteval run names the model itself."""
    recorded = ((_our_summary(results_file) or {}).get("model") or {}).get("path")
    if recorded:
        return str(resolve(recorded))
    try:
        return (json.loads(results_file.read_text(encoding="utf-8")).get("config_general") or {}).get("model_name")
    except (OSError, json.JSONDecodeError, AttributeError):
        return None


def _same_model(model_name: str | None, model_dir: Path) -> bool:
    """Whether `model_name` (a path) is `model_dir`, or the `model/` folder inside a local-engine checkpoint."""
    if not model_name:
        return False
    mine = {model_dir.resolve(), (model_dir / "model").resolve()}
    p = Path(model_name)
    for base in (repo_root(), Path.cwd()):
        cand = p if p.is_absolute() else base / p
        if cand.exists() and cand.resolve() in mine:
            return True
    return False


def find_results(model_dir: Path, explicit: list[Path] | None = None) -> list[EvalRun]:
    """The evaluation runs of a model, oldest first (the card shows the newest of each task)."""
    if explicit:
        files = []
        for e in explicit:
            e = Path(e)
            if not e.exists():
                raise RecipeError("evaluation results not found", file=str(e), field="EVAL",
                                  fix="pass a lighteval results_<time>.json file or a folder holding them")
            files += sorted(e.rglob("results_*.json")) if e.is_dir() else [e]
        return [load_results(f) for f in files]
    here = [model_dir, model_dir.parent] if model_dir.name == "model" else [model_dir]
    found = [f for d in here for f in sorted(d.glob("eval*/**/results_*.json"))]
    evals = outputs_dir() / "eval"
    if evals.is_dir():
        for f in sorted(evals.rglob("results_*.json")):
            if _same_model(_evaluated_model(f), model_dir):
                found.append(f)
    runs = [load_results(f) for f in dict.fromkeys(found)]
    return sorted(runs, key=lambda r: r.file.name)

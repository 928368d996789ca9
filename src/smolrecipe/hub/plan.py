"""What a push sends: the target repo and one Revision per branch, each with its files and its generated card.

    plan = plan_model(path, opts)            # a model, a checkpoint or a classifier -> one revision (main or --revision)
    plan = plan_run(run_dir, opts)           # every checkpoint -> one branch each (step<N>-tokens<T>) + main (the newest)
    plan = plan_data(path, opts)             # a data set repo
    print_plan(plan)                         # every file with its size, the repo and revision (the dry run prints this)

Nothing here talks to the network or needs a token: a dry run is exactly this plus the printed card.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from smolrecipe.hub import artifacts, cards, evals
from smolrecipe.hub.artifacts import ModelFacts, shown_path
from smolrecipe.hub.cards import CardOptions
from smolrecipe.plan import human


@dataclass
class Revision:
    name: str                                   # the branch ("main" or e.g. "step400-tokens1.64M")
    files: dict[str, Path]                      # path in the repo -> local file, sent as is
    generated: dict[str, bytes]                 # path in the repo -> content written for this push (README.md, ...)

    @property
    def card(self) -> str:
        return self.generated["README.md"].decode()

    def sizes(self) -> dict[str, int]:
        out = {p: f.stat().st_size for p, f in self.files.items()}
        out.update({p: len(b) for p, b in self.generated.items()})
        return dict(sorted(out.items()))


@dataclass
class PushPlan:
    repo_id: str
    repo_type: str                              # "model" or "dataset"
    kind: str                                   # "model", "checkpoints", "classifier", "dataset"
    source: Path
    private: bool
    revisions: list[Revision]
    left_out: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def branch_name(facts: ModelFacts) -> str:
    """A checkpoint's branch, named by step and tokens seen: step400-tokens1.64M."""
    return f"step{facts.step}-tokens{human(facts.tokens_seen or 0)}"


def schedule_png(recipe: str | None, warnings: list[str]) -> bytes | None:
    """The recipe's LR schedule plot (stages marked), as `make plan` draws it."""
    if not recipe:
        return None
    from smolrecipe.config import load_recipe
    from smolrecipe.errors import RecipeError
    from smolrecipe.plan import plot_schedule

    try:
        recipe_obj = load_recipe(recipe, check_tokenizer=False)
    except RecipeError as e:
        warnings.append(f"no schedule plot: the {recipe} recipe's configs do not load here ({e.problem})")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        return plot_schedule(recipe_obj, Path(tmp) / "schedule.png").read_bytes()


def training_metadata(meta: dict) -> bytes:
    """The checkpoint's metadata as published: no local file inventory, paths as configs name them."""
    out = {k: v for k, v in meta.items() if k != "files"}
    out["lineage"] = [dict(p, checkpoint=shown_path(p["checkpoint"])) for p in meta.get("lineage", [])]
    return (json.dumps(out, indent=1) + "\n").encode()


def model_revision(facts: ModelFacts, opts: CardOptions, runs: list, *, schedule: bytes | None,
                   revisions: str | None = None) -> Revision:
    files = dict(facts.files)
    generated: dict[str, bytes] = {}
    plots = {}
    if schedule:
        generated["schedule.png"] = schedule
        plots[f"Learning-rate schedule of the {facts.recipe} recipe, stages marked"] = "schedule.png"
    for run, png in facts.loss_plots.items():
        files[f"plots/{run}.png"] = png
        plots[f"Loss and learning rate of run {run}"] = f"plots/{run}.png"
    if facts.checkpoint:
        generated["training_metadata.json"] = training_metadata(facts.checkpoint)
    opts = replace(opts, plots=plots)
    card, extra = cards.model_card(facts, opts, evals=runs, revisions=revisions)
    generated["README.md"] = str(card).encode()
    generated.update({p: t.encode() for p, t in extra.items()})
    return Revision(opts.revision, files, generated)


def plan_model(path: Path, opts: CardOptions, *, private: bool, eval_files: list[Path] | None = None) -> PushPlan:
    facts = artifacts.describe_model(path)
    warnings = list(facts.warnings)
    if facts.kind == "classifier":
        card = cards.classifier_card(facts, opts)
        rev = Revision(opts.revision, dict(facts.files), {"README.md": str(card).encode()})
        return PushPlan(opts.repo_id, "model", "classifier", path, private, [rev], facts.left_out, warnings)
    runs = evals.find_results(facts.model_dir, eval_files)
    rev = model_revision(facts, opts, runs, schedule=schedule_png(facts.recipe, warnings))
    return PushPlan(opts.repo_id, "model", "model", path, private, [rev], facts.left_out, warnings)


def plan_run(path: Path, opts: CardOptions, *, private: bool, steps: list[int] | None = None) -> PushPlan:
    all_facts = artifacts.describe_run(path, steps)
    warnings = list(dict.fromkeys(w for f in all_facts for w in f.warnings))
    schedule = schedule_png(all_facts[-1].recipe, warnings)
    entries = [(branch_name(f), f) for f in all_facts]
    index = cards.revisions_table(entries, opts.repo_id)
    revisions = []
    for branch, f in entries:
        runs = evals.find_results(f.model_dir)
        revisions.append(model_revision(f, replace(opts, revision=branch), runs,
                                        schedule=schedule, revisions=index))
    newest = all_facts[-1]
    revisions.append(model_revision(newest, replace(opts, revision="main"),
                                    evals.find_results(newest.model_dir), schedule=schedule, revisions=index))
    return PushPlan(opts.repo_id, "model", "checkpoints", path, private, revisions, all_facts[-1].left_out, warnings)


def plan_data(path: Path, opts: CardOptions, *, private: bool) -> PushPlan:
    from smolrecipe.config.recipe import RECIPES

    facts = artifacts.describe_data(path)
    recipe = Path(path).name if Path(path).name in RECIPES else None
    card = cards.dataset_card(facts, opts, recipe)
    rev = Revision(opts.revision, dict(facts.files), {"README.md": str(card).encode()})
    return PushPlan(opts.repo_id, "dataset", "dataset", path, private, [rev], [], list(facts.warnings))


def repo_url(plan: PushPlan) -> str:
    from huggingface_hub import constants

    return f"{constants.ENDPOINT}/{'datasets/' if plan.repo_type == 'dataset' else ''}{plan.repo_id}"


def print_plan(plan: PushPlan, log=print) -> None:
    total = sum(sum(r.sizes().values()) for r in plan.revisions)
    log(f"repo      {plan.repo_id} ({plan.repo_type}, {'private' if plan.private else 'public'}): {repo_url(plan)}")
    log(f"source    {shown_path(plan.source)} ({plan.kind})")
    log(f"sends     {len(plan.revisions)} revision(s), {human(total)}B in total")
    for rev in plan.revisions:
        sizes = rev.sizes()
        log(f"\nrevision  {rev.name}: {len(sizes)} files, {sum(sizes.values()):,} bytes")
        for p, n in sizes.items():
            origin = f"<- {shown_path(rev.files[p])}" if p in rev.files else "(generated)"
            log(f"  {n:>14,}  {p:<36} {origin}")
    for item in plan.left_out:
        log(f"left out  {item}")
    for w in plan.warnings:
        log(f"warning: {w}")

"""A recipe = the ordered stage files of one model in pretraining/configs/<recipe>/, plus long-context.yaml.

    recipe = load_recipe("tiny")         # loads and checks every file and the global schedule
    recipe.stage(3)                      # the NanotronConfig of stage3.yaml

Each stage file is a complete nanotron config for one launch: its data_stages list the stages so far
(the last one is the stage it runs), `tokens.train_steps` is the global step where it ends, and it
resumes the previous stage's final checkpoint. All files carry the same global WSD schedule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from smolrecipe.config.loader import load_nanotron_yaml, to_dict
from smolrecipe.config.schema import NanotronConfig
from smolrecipe.config.validate import SCHEDULE_FIELD, check_config
from smolrecipe.errors import ConfigError
from smolrecipe.paths import repo_root
from smolrecipe.schedule import Schedule

RECIPES = ("tiny", "smollm2-135M", "smollm2-360M", "smollm2-1.7B")
LONG_CONTEXT = "long-context.yaml"
# Model fields a context extension may change; everything else must match the pretraining stages.
LONG_CONTEXT_MODEL_FIELDS = {"rope_theta", "max_position_embeddings", "rope_scaling"}


@dataclass
class Recipe:
    name: str
    folder: Path
    stages: list[NanotronConfig]
    long_context: NanotronConfig | None

    def stage(self, number: int) -> NanotronConfig:
        if not 1 <= number <= len(self.stages):
            raise ConfigError(
                f"recipe {self.name} has stages 1..{len(self.stages)}, not {number}",
                field="STAGE", fix=f"use STAGE=1..{len(self.stages)}",
            )
        return self.stages[number - 1]

    @property
    def schedule(self) -> Schedule:
        return Schedule.from_args(self.stages[0].schedule)

    @property
    def final_step(self) -> int:
        return self.stages[-1].tokens.train_steps

    def stage_range(self, number: int) -> tuple[int, int]:
        """First and last iteration (1-based, inclusive) run by stage `number`."""
        cfg = self.stage(number)
        return cfg.data_stages[-1].start_training_step, cfg.tokens.train_steps


def recipe_folder(name: str) -> Path:
    if name not in RECIPES:
        raise ConfigError(f"unknown recipe {name!r}", field="RECIPE", fix=f"use one of: {', '.join(RECIPES)}")
    return repo_root() / "pretraining" / "configs" / name


def stage_files(folder: Path) -> list[Path]:
    files = [p for p in folder.glob("stage*.yaml") if re.fullmatch(r"stage\d+\.yaml", p.name)]
    return sorted(files, key=lambda p: int(p.stem[5:]))


def load_recipe(name: str, *, check_tokenizer: bool = True) -> Recipe:
    folder = recipe_folder(name)
    files = stage_files(folder)
    if not files:
        raise ConfigError("no stage files", file=str(folder), fix="add stage1.yaml (and stage2.yaml, ...)")
    numbers = [int(p.stem[5:]) for p in files]
    if numbers != list(range(1, len(files) + 1)):
        raise ConfigError(f"stage files are numbered {numbers}", file=str(folder), fix="number them stage1.yaml, stage2.yaml, ... without gaps")
    stages = [load_nanotron_yaml(p) for p in files]
    lc_path = folder / LONG_CONTEXT
    long_context = load_nanotron_yaml(lc_path) if lc_path.exists() else None
    recipe = Recipe(name, folder, stages, long_context)
    check_recipe(recipe, check_tokenizer=check_tokenizer)
    return recipe


def check_recipe(recipe: Recipe, *, check_tokenizer: bool = True) -> None:
    for cfg in recipe.stages + ([recipe.long_context] if recipe.long_context else []):
        check_config(cfg, check_tokenizer=check_tokenizer)
    first = recipe.stages[0]
    schedule = Schedule.from_args(first.schedule)
    previous_end = 0
    for k, cfg in enumerate(recipe.stages, start=1):
        f = cfg.source_file
        _same_schedule(cfg, schedule, first.source_file)
        _same_model(cfg, first, allowed=set())
        if cfg.tokens.train_steps <= previous_end:
            raise ConfigError(
                f"stage {k} ends at step {cfg.tokens.train_steps}, not after stage {k - 1} ({previous_end})",
                file=f, field="tokens.train_steps", fix="train_steps is the GLOBAL step where this stage ends",
            )
        if k == 1:
            if cfg.checkpoints.resume_checkpoint_path is not None:
                raise ConfigError("stage 1 starts from scratch", file=f, field="checkpoints.resume_checkpoint_path", fix="set it to null")
        else:
            prev = recipe.stages[k - 2]
            _chained(cfg, prev, k)
        previous_end = cfg.tokens.train_steps
    last = recipe.stages[-1]
    end = schedule.decay_end
    if end != last.tokens.train_steps:
        too = "early" if end < last.tokens.train_steps else "after the run"
        consequence = (
            f"the LR sits at min_decay_lr for the last {last.tokens.train_steps - end} steps"
            if end < last.tokens.train_steps
            else "the anneal never completes"
        )
        raise ConfigError(
            f"the decay ends {too}: lr_decay_starting_step + lr_decay_steps = {end} but the last stage ends at "
            f"{last.tokens.train_steps}; {consequence}",
            file=last.source_file, field=f"{SCHEDULE_FIELD}.lr_decay_steps",
            fix=f"set lr_decay_steps: {last.tokens.train_steps - schedule.lr_decay_starting_step} in every stage file",
        )
    if recipe.long_context is not None:
        _check_long_context(recipe, schedule)


def _same_schedule(cfg: NanotronConfig, schedule: Schedule, reference_file: str) -> None:
    mine = Schedule.from_args(cfg.schedule)
    for field in schedule.__dataclass_fields__:
        if getattr(mine, field) != getattr(schedule, field):
            raise ConfigError(
                f"{field}={getattr(mine, field)} differs from {getattr(schedule, field)} in {reference_file}",
                file=cfg.source_file, field=f"{SCHEDULE_FIELD}.{field}",
                fix="every stage file carries the same global schedule; change it in all of them",
            )


def _same_model(cfg: NanotronConfig, ref: NanotronConfig, allowed: set[str]) -> None:
    mine, theirs = to_dict(cfg.model), to_dict(ref.model)
    for key, value in theirs["model_config"].items():
        if key not in allowed and mine["model_config"][key] != value:
            raise ConfigError(
                f"{key}={mine['model_config'][key]!r} differs from {value!r} in {ref.source_file}",
                file=cfg.source_file, field=f"model.model_config.{key}",
                fix="a stage resumes the previous one: the architecture must not change",
            )


def _chained(cfg: NanotronConfig, prev: NanotronConfig, k: int) -> None:
    f = cfg.source_file
    history, current = cfg.data_stages[:-1], cfg.data_stages[-1]
    if to_dict(history) != to_dict(prev.data_stages):
        raise ConfigError(
            f"data_stages before the last must repeat stage {k - 1}'s data_stages exactly",
            file=f, field="data_stages", fix=f"copy data_stages from {prev.source_file} and append this stage",
        )
    if current.start_training_step != prev.tokens.train_steps + 1:
        raise ConfigError(
            f"stage {k} starts at {current.start_training_step} but stage {k - 1} ends at {prev.tokens.train_steps}",
            file=f, field=f"data_stages[{len(cfg.data_stages) - 1}].start_training_step",
            fix=f"set start_training_step: {prev.tokens.train_steps + 1}",
        )
    expected = f"{prev.checkpoints.checkpoints_path.rstrip('/')}/{prev.tokens.train_steps}"
    if (cfg.checkpoints.resume_checkpoint_path or "").rstrip("/") != expected:
        raise ConfigError(
            f"resumes from {cfg.checkpoints.resume_checkpoint_path!r}, not stage {k - 1}'s final checkpoint",
            file=f, field="checkpoints.resume_checkpoint_path", fix=f"set it to {expected}",
        )


def long_context_branch_step(cfg: NanotronConfig) -> int:
    path = (cfg.checkpoints.resume_checkpoint_path or "").rstrip("/")
    tail = path.rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise ConfigError(
            "the long-context run must resume a numbered pretraining checkpoint",
            file=cfg.source_file, field="checkpoints.resume_checkpoint_path", fix="point it at <checkpoints_path>/<step>",
        )
    return int(tail)


def _check_long_context(recipe: Recipe, schedule: Schedule) -> None:
    lc, last = recipe.long_context, recipe.stages[-1]
    f = lc.source_file
    _same_schedule(lc, schedule, recipe.stages[0].source_file)
    _same_model(lc, last, allowed=LONG_CONTEXT_MODEL_FIELDS)
    branch = long_context_branch_step(lc)
    base = f"{last.checkpoints.checkpoints_path.rstrip('/')}/{branch}"
    if lc.checkpoints.resume_checkpoint_path.rstrip("/") != base:
        raise ConfigError(
            "the long-context run must branch from the last stage's checkpoints",
            file=f, field="checkpoints.resume_checkpoint_path", fix=f"set it to {base}",
        )
    first, end = last.data_stages[-1].start_training_step, last.tokens.train_steps
    if not first <= branch < end or branch % last.checkpoints.checkpoint_interval:
        raise ConfigError(
            f"branch step {branch} is not a checkpoint of the last stage ({first}..{end}, every "
            f"{last.checkpoints.checkpoint_interval} steps)",
            file=f, field="checkpoints.resume_checkpoint_path", fix="branch from a multiple of checkpoint_interval inside the last stage",
        )
    if lc.tokens.train_steps != end:
        raise ConfigError(
            f"ends at {lc.tokens.train_steps}, not at the end of pretraining ({end})",
            file=f, field="tokens.train_steps", fix=f"set train_steps: {end} (the extension replaces the last {end - branch} steps)",
        )
    if lc.data_stages[-1].start_training_step != branch + 1:
        raise ConfigError(
            f"its data stage starts at {lc.data_stages[-1].start_training_step}, not right after the branch step {branch}",
            file=f, field=f"data_stages[{len(lc.data_stages) - 1}].start_training_step", fix=f"set it to {branch + 1}",
        )
    if lc.checkpoints.checkpoints_path.rstrip("/") == last.checkpoints.checkpoints_path.rstrip("/"):
        raise ConfigError(
            "the long-context run would overwrite the pretraining checkpoints it branches from",
            file=f, field="checkpoints.checkpoints_path", fix="give it its own folder, e.g. <recipe>-long-context",
        )

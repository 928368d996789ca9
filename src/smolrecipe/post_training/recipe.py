"""A post-training recipe: post_training/<recipe>/<config>.yaml, parsed by TRL's own parser and checked before any work.

    path = config_file("tiny", "sft")                       # post_training/tiny/sft.yaml
    rec = parse(path, "sft", overrides=["--use_cpu", "true"]) # ScriptArguments, SFTConfig, ModelConfig, DatasetMixtureConfig
    check(rec)                                               # splits, columns, chat template markers

`trl sft|dpo --config` builds its parser from those four dataclasses; so does this module, and it refuses an
unknown key with the file, the key and what TRL 1.16 calls it now, where TRL's launcher would hand the key to
`accelerate launch` and fail there with an unrelated message.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from smolrecipe.errors import RecipeError
from smolrecipe.paths import repo_root, resolve

STEPS = ("sft", "dpo")
COLUMNS = {"sft": ("messages",), "dpo": ("chosen", "rejected")}  # a DPO prompt column is optional (TRL extracts it)
# keys of older TRL / handbook recipes that TRL 1.16 no longer has, and what replaces them
RENAMED = {
    "max_seq_length": "max_length (renamed in TRL 0.20)",
    "torch_dtype": "dtype",
    "chat_template": "chat_template_path: a .jinja file (e.g. post_training/chat_template.jinja)",
    "max_prompt_length": "nothing: TRL 1.16 cuts the whole pair at max_length (truncation_mode says which end)",
    "warmup_ratio": "warmup_steps: 0.1 (transformers 5 reads a float below 1 as a ratio of the steps)",
    "no_cuda": "use_cpu: true",
    "dataset_mixer": "datasets: a list of {path, name, split, columns}",
}
MARKERS = re.compile(r"\{%-?\s*generation\s*-?%\}")
TEST_SPLIT = re.compile(r"test", re.IGNORECASE)


@dataclass
class Recipe:
    path: Path            # the YAML as given
    step: str             # sft | dpo
    raw: dict             # the YAML as read
    script: object        # trl ScriptArguments
    train: object         # trl SFTConfig | DPOConfig
    model: object         # trl ModelConfig
    data: object          # trl DatasetMixtureConfig


def post_training_dir() -> Path:
    return repo_root() / "post_training"


def config_file(recipe: str, config: str) -> Path:
    """post_training/<recipe>/<config>.yaml, or an error listing what exists."""
    folder = post_training_dir() / recipe
    recipes = sorted(p.name for p in post_training_dir().iterdir() if p.is_dir() and p.name != "accelerate") \
        if post_training_dir().is_dir() else []
    if not folder.is_dir() or recipe == "accelerate":
        raise RecipeError(f"unknown recipe {recipe!r}", field="RECIPE", fix=f"use one of: {', '.join(recipes)}")
    path = folder / f"{config}.yaml"
    if not path.is_file():
        have = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise RecipeError("no such post-training config", file=str(path), field="CONFIG", fix=f"use one of: {have}")
    return path


def parser_for(step: str):
    from trl import DatasetMixtureConfig, DPOConfig, ModelConfig, ScriptArguments, SFTConfig, TrlParser

    return TrlParser((ScriptArguments, SFTConfig if step == "sft" else DPOConfig, ModelConfig, DatasetMixtureConfig))


def read_yaml(path: Path) -> dict:
    import yaml

    if not path.is_file():
        raise RecipeError("config file not found", file=str(path), fix="give a YAML file under post_training/<recipe>/")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise RecipeError(f"not valid YAML ({str(e).splitlines()[0]})", file=str(path), fix="fix the YAML syntax") from None
    if not isinstance(raw, dict):
        raise RecipeError("the top level is not a mapping of TRL keys", file=str(path),
                          fix="write one `key: value` per line (see post_training/tiny/sft.yaml)")
    return raw


def unknown_key_fix(key: str, known: set[str]) -> str:
    if key in RENAMED:
        return f"TRL 1.16 calls it {RENAMED[key]}"
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f"did you mean {close[0]!r}?" if close else "remove it (trl sft|dpo --config refuses keys it does not know)"


def parse(path: Path, step: str, overrides: list[str] = ()) -> Recipe:
    """Parse `path` with the parser `trl <step> --config` uses; unknown keys and bad values are RecipeErrors."""
    raw = read_yaml(path)
    parser = parser_for(step)
    known = {a.dest for a in parser._actions} | {"env"}
    for key in raw:
        if key not in known:
            raise RecipeError(f"unknown key for trl {step}", file=str(path), field=key, fix=unknown_key_fix(key, known))
    try:
        script, train, model, data = parser.parse_args_and_config(["--config", str(path), *overrides],
                                                                  fail_with_unknown_args=True)
    except SystemExit:  # argparse already printed which argument
        raise RecipeError("TRL's parser refused an argument (see the line above)", file=str(path),
                          field=" ".join(overrides) or "a value", fix="check the value's type against `trl "
                          f"{step} --help`") from None
    except (ValueError, TypeError) as e:
        raise RecipeError(f"TRL refuses this config: {str(e).splitlines()[0]}", file=str(path),
                          fix="fix the value named above") from None
    return Recipe(path=path, step=step, raw=raw, script=script, train=train, model=model, data=data)


def training_sets(rec: Recipe) -> list[dict]:
    """The data the run trains on, one dict per source: {field, path, name, split, data_files, columns}."""
    if rec.data.datasets:
        return [{"field": f"datasets[{i}]", "path": d.path, "name": d.name, "split": d.split,
                 "data_files": d.data_files, "columns": d.columns} for i, d in enumerate(rec.data.datasets)]
    if rec.script.dataset_name:
        return [{"field": "dataset_name", "path": rec.script.dataset_name, "name": rec.script.dataset_config,
                 "split": rec.script.dataset_train_split, "data_files": None, "columns": None}]
    raise RecipeError("no training data", file=str(rec.path), field="datasets",
                      fix="add a `datasets:` list (path, split, columns), as in post_training/tiny/sft.yaml")


def check(rec: Recipe) -> None:
    """What can be checked from the YAML alone: training splits, declared columns, the chat template file."""
    need = COLUMNS[rec.step]
    for src in training_sets(rec):
        split_field = f"{src['field']}.split" if src["field"] != "dataset_name" else "dataset_train_split"
        if TEST_SPLIT.search(str(src["split"])):
            raise RecipeError(f"trains on the split {src['split']!r} of {src['path']}: a test split", file=str(rec.path),
                              field=split_field, fix="train on train_prefs / train; test_prefs is what the model is "
                              "evaluated on (the handbook's July-2025 DPO mixture trains on it: do not copy that)")
        if src["columns"] is not None and not set(need) <= set(src["columns"]):
            missing = [c for c in need if c not in src["columns"]]
            raise RecipeError(f"keeps columns {src['columns']}, without {missing} that trl {rec.step} needs",
                              file=str(rec.path), field=f"{src['field']}.columns", fix=f"list {list(need)}")
    choices = {"packing_strategy": ("bfd", "bfd_split", "wrapped"), "truncation_mode": ("keep_start", "keep_end")}
    for key, allowed in choices.items():  # TRL 1.16 reads these only once training starts
        value = getattr(rec.train, key, None)
        if value is not None and value not in allowed:
            raise RecipeError(f"{key} {value!r} is not one of {', '.join(allowed)}", file=str(rec.path), field=key,
                              fix=f"use {allowed[0]} (see trl {rec.step} --help)")
    if rec.step == "sft" and rec.train.assistant_only_loss and rec.train.chat_template_path:
        template = resolve(rec.train.chat_template_path)
        if not template.is_file():
            raise RecipeError("chat template file not found", file=str(rec.path), field="chat_template_path",
                              fix="point it at post_training/chat_template.jinja")
        check_markers(template.read_text(encoding="utf-8"), where=str(template), field="chat_template_path")


def check_markers(template: str | None, *, where: str, field: str) -> None:
    """assistant_only_loss needs generation markers: without them TRL 1.16 swaps in a template of its own for a few
    model families only and raises for the others, after the model and data are loaded."""
    if not template or not MARKERS.search(template):
        raise RecipeError("assistant_only_loss is on but the chat template has no {% generation %} markers, so no "
                          "token would count as the assistant's", file=where, field=field,
                          fix="use post_training/chat_template.jinja (ChatML with the markers), or set "
                              "assistant_only_loss: false")

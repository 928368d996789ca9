"""What a folder to publish is, and the facts its card needs, read from the artifacts (never typed by hand).

    facts = describe_model(path)        # a transformers folder, a local-engine checkpoint <run>/<step> (or its
                                        # model/), a post-training output, or a classifier folder
    facts = describe_run(run_dir)       # every checkpoint of a pretraining run, oldest first
    data  = describe_data(path)         # a data folder with REPORT.json, one tokenized folder, or data files

Every result lists `files` (path in the repo -> local file) and what the card shows: architecture and
parameter count (from the safetensors headers), the tokenizer and its chat template, the pretraining stages
with the tokens each folder gave (the checkpoint's metadata.json) and the weights the config asked for (its
config.yaml), lineage, post-training records, classifier metrics. A folder that is none of these, or a damaged
checkpoint, is a RecipeError that names the folder and the fix.
"""
from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from smolrecipe.errors import RecipeError
from smolrecipe.paths import config_path, outputs_dir, resolve

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "chat_template.jinja", "chat_template.json", "vocab.json", "merges.txt", "tokenizer.model")
# Trainer state that a model repo does not need (optimizer moments, RNG): left out, and listed as left out.
NOT_PUBLISHED = re.compile(r"^(optimizer\.pt|scheduler\.pt|rng_state.*\.pth|trainer_state\.pt|scaler\.pt)$")
DATA_SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz", ".parquet", ".arrow", ".csv", ".ds", ".ds.index", ".ds.metadata")


@dataclass
class Stage:
    name: str
    first: int
    last: int
    sequence_length: int
    tokens: int
    mixture: list[tuple[str, float | None, int]]  # folder, weight in the config, tokens it gave


@dataclass
class ModelFacts:
    kind: str                       # "model" or "classifier"
    source: Path                    # the folder the user named
    model_dir: Path                 # the transformers folder inside it
    config: dict
    parameters: int | None
    files: dict[str, Path]          # path in the repo -> local file
    left_out: list[str] = field(default_factory=list)
    tokenizer: str | None = None    # where the tokenizer comes from (as configs name it, or a Hub id)
    chat_template: str | None = None
    checkpoint: dict | None = None  # local-engine metadata: run, step, tokens, stages, lineage, versions
    stages: list[Stage] = field(default_factory=list)
    recipe: str | None = None
    loss_plots: dict[str, Path] = field(default_factory=dict)
    record: dict = field(default_factory=dict)   # post-training / derivation records found in the folder
    classifier: dict | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def step(self) -> int | None:
        return self.checkpoint.get("step") if self.checkpoint else None

    @property
    def tokens_seen(self) -> int | None:
        return self.checkpoint.get("consumed_tokens_total") if self.checkpoint else None

    @property
    def post_training(self) -> str | None:
        """"sft" / "dpo" when the folder records a post-training run, else None."""
        kind = str(self.record.get("kind", "")).lower()
        tags = [str(t).lower() for t in self.record.get("card_tags", [])]
        for k in ("dpo", "sft"):
            if k in kind or k in tags:
                return k
        return None


@dataclass
class DataFacts:
    source: Path
    layout: str                     # "report" (a recipe's data folder), "tokenized" (one folder), "files"
    files: dict[str, Path]
    report: dict | None = None
    tokens: dict[str, int] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    tokenizer: str | None = None
    warnings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------- small readers
def read_json(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RecipeError(f"cannot read {Path(path).name}: {e}", file=str(path),
                          fix="the file is damaged: rebuild it with the step that wrote it") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{Path(path).name} does not hold a JSON object", file=str(path),
                          fix="the file is damaged: rebuild it with the step that wrote it")
    return data


def safetensors_parameters(folder: Path) -> int | None:
    """Number of parameters stored in a folder's *.safetensors files, from their headers (no weights loaded).

    A tied LM head is stored once, so this is the count of distinct parameters, as the Hub reports it."""
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for f in files:
        with open(f, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
        for name, info in header.items():
            if name != "__metadata__":
                count = 1
                for d in info["shape"]:
                    count *= d
                total += count
    return total


def is_model_dir(p: Path) -> bool:
    return (p / "config.json").is_file() and any(
        (p / n).exists() for n in ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                                   "pytorch_model.bin.index.json")) or bool(list(p.glob("model-*.safetensors")))


def is_checkpoint(p: Path) -> bool:
    return (p / "metadata.json").is_file() and is_model_dir(p / "model")


def is_run(p: Path) -> bool:
    return p.is_dir() and any(c.is_dir() and c.name.isdigit() and (c / "metadata.json").is_file() for c in p.iterdir())


def is_classifier(p: Path) -> bool:
    return (p / "classifier.json").is_file() and is_model_dir(p / "model")


def shown_path(p: str | Path) -> str:
    """A path as it goes into a card: `outputs/...` or repository-relative, never the machine's absolute path."""
    text = config_path(p)
    parts = Path(text).parts
    if not Path(text).is_absolute():
        return text
    if "outputs" in parts:  # another checkout's outputs/ (a run resumed from elsewhere): from outputs/ on
        return str(Path(*parts[len(parts) - 1 - parts[::-1].index("outputs"):]))
    return str(Path("...", *parts[-2:]))


# ------------------------------------------------------------------------------------------- models
def model_files(model_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """The top-level files of a transformers folder (a card of ours replaces README.md) and what is left out."""
    files, left_out = {}, []
    for p in sorted(model_dir.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_dir():
            left_out.append(f"{p.name}/ (a subfolder: trainer checkpoints or logs, not part of the model)")
        elif NOT_PUBLISHED.match(p.name):
            left_out.append(f"{p.name} (optimizer/RNG state, not needed to use the model)")
        elif p.name != "README.md":
            files[p.name] = p
    return files, left_out


def tokenizer_source(model_dir: Path, train_config: dict | None) -> tuple[str | None, Path | None]:
    """(name as configs give it, local folder) of the model's tokenizer: its own files, else the training config's."""
    if (model_dir / "tokenizer.json").is_file() or (model_dir / "tokenizer.model").is_file():
        return shown_path(model_dir), model_dir
    name = ((train_config or {}).get("tokenizer") or {}).get("tokenizer_name_or_path")
    if not name:
        return None, None
    local = resolve(name)
    if (local / "tokenizer.json").is_file():
        return shown_path(local), local
    return name, None


def chat_template(folder: Path | None) -> str | None:
    if folder is None:
        return None
    if (folder / "chat_template.jinja").is_file():
        return (folder / "chat_template.jinja").read_text(encoding="utf-8")
    cfg = folder / "tokenizer_config.json"
    if cfg.is_file():
        tpl = read_json(cfg).get("chat_template")
        return tpl if isinstance(tpl, str) else None
    return None


def training_stages(meta: dict, train_config: dict) -> list[Stage]:
    """The stages a checkpoint went through: steps, sequence length, tokens per folder (metadata) and weights (config)."""
    weights = {}
    for s in train_config.get("data_stages") or []:
        ds = ((s.get("data") or {}).get("dataset")) or {}
        folders = ds.get("dataset_folder") or []
        folders = [folders] if isinstance(folders, str) else folders
        ws = ds.get("dataset_weights") or [1.0 / len(folders)] * len(folders)
        weights[s["name"]] = dict(zip(folders, (float(w) for w in ws)))
    stages, recorded = [], meta.get("data_stages") or []
    for i, s in enumerate(recorded):
        last = recorded[i + 1]["start_training_step"] - 1 if i + 1 < len(recorded) else meta["step"]
        seq = int(s["sequence_length"])
        w = weights.get(s["name"], {})
        mixture = [(f, w.get(f), int(t)) for f, t in s.get("consumed_tokens_per_dataset_folder", {}).items()]
        stages.append(Stage(s["name"], int(s["start_training_step"]), last, seq, int(s["consumed_samples"]) * seq, mixture))
    return stages


def recipe_of(config_file: str | None) -> str | None:
    parts = Path(config_file or "").parts
    return parts[2] if len(parts) >= 4 and parts[:2] == ("pretraining", "configs") else None


def records(model_dir: Path) -> dict:
    """Post-training and derivation records a model folder carries: smolrecipe.json / lineage.json (kind, parents,
    recipe, data, versions), recipe YAML files, the transformers Trainer's trainer_state.json, and the metadata of
    a card already there (TRL writes one: tags, base_model, datasets)."""
    rec: dict = {}
    for name in ("lineage.json", "smolrecipe.json"):
        if (model_dir / name).is_file():
            rec.update(read_json(model_dir / name))
    yamls = {p.name: p.read_text(encoding="utf-8") for p in sorted(model_dir.glob("*.y*ml")) if p.suffix in (".yaml", ".yml")}
    if yamls:
        rec["recipe_files"] = yamls
    if (model_dir / "trainer_state.json").is_file():
        state = read_json(model_dir / "trainer_state.json")
        losses = [h["loss"] for h in state.get("log_history", []) if "loss" in h]
        rec["trainer"] = {"global_step": state.get("global_step"), "epoch": state.get("epoch"),
                          "last_logged_loss": losses[-1] if losses else None}
    if (model_dir / "README.md").is_file():
        from huggingface_hub import ModelCard

        try:
            data = ModelCard.load(model_dir / "README.md").data.to_dict()
        except Exception:  # a hand-written README without metadata: nothing to learn from it
            data = {}
        rec["card_tags"] = data.get("tags") or []
        for key in ("base_model", "datasets"):
            if data.get(key):
                rec.setdefault(key, data[key])
    return rec


def describe_model(path: Path) -> ModelFacts:
    path = Path(path)
    if not path.exists():
        raise RecipeError("no such folder", file=str(path), field="MODEL",
                          fix="point MODEL at a transformers folder or a checkpoint, e.g. outputs/checkpoints/tiny-long-context/400")
    if path.name == "model" and is_checkpoint(path.parent):
        path = path.parent
    if is_classifier(path):
        return describe_classifier(path)
    if is_checkpoint(path):
        return describe_checkpoint(path)
    if is_model_dir(path):
        return _model(path, path, kind="model")
    hint = ("this is a pretraining run's checkpoints folder: RUN=" + str(path) + " pushes every checkpoint, "
            "MODEL=" + str(path / "<step>") + " one of them") if is_run(path) else \
        "a transformers folder has config.json and model.safetensors (e.g. outputs/checkpoints/<run>/<step>/model)"
    raise RecipeError("not a model folder (no config.json with weights beside it)", file=str(path), field="MODEL", fix=hint)


def _model(source: Path, model_dir: Path, *, kind: str, train_config: dict | None = None) -> ModelFacts:
    config = read_json(model_dir / "config.json")
    files, left_out = model_files(model_dir)
    tok_name, tok_dir = tokenizer_source(model_dir, train_config)
    facts = ModelFacts(kind=kind, source=source, model_dir=model_dir, config=config,
                       parameters=safetensors_parameters(model_dir), files=files, left_out=left_out,
                       tokenizer=tok_name, chat_template=chat_template(tok_dir), record=records(model_dir))
    if tok_dir is not None and tok_dir != model_dir:
        for name in TOKENIZER_FILES:
            if (tok_dir / name).is_file():
                facts.files[name] = tok_dir / name
    elif tok_dir is None:
        facts.warnings.append(
            f"the model folder has no tokenizer files{' and ' + repr(tok_name) + ' is not a local folder' if tok_name else ''}: "
            "AutoTokenizer.from_pretrained(<repo>) will not work until you add them (tokenizer.save_pretrained)")
    return facts


def describe_checkpoint(path: Path) -> ModelFacts:
    from smolrecipe.engine.checkpoint import verify_checkpoint

    meta = verify_checkpoint(path)  # every file against its recorded sha256: never publish a damaged checkpoint
    train_config = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8")) if (path / "config.yaml").is_file() else {}
    facts = _model(path, path / "model", kind="model", train_config=train_config or {})
    facts.checkpoint = meta
    facts.stages = training_stages(meta, train_config or {})
    facts.recipe = recipe_of(meta.get("config_file"))
    if (path / "config.yaml").is_file():
        facts.files["training_config.yaml"] = path / "config.yaml"
    runs = [p.get("run") for p in meta.get("lineage", [])] + [meta.get("run")]
    for run in dict.fromkeys(r for r in runs if r):
        plot = outputs_dir() / "runs" / run / "loss_lr.png"
        if plot.is_file():
            facts.loss_plots[run] = plot
    return facts


def describe_run(path: Path, steps: list[int] | None = None) -> list[ModelFacts]:
    path = Path(path)
    if not path.is_dir():
        raise RecipeError("no such folder", file=str(path), field="RUN", fix="point RUN at a checkpoints folder, e.g. outputs/checkpoints/tiny")
    found = sorted(int(c.name) for c in path.iterdir() if c.is_dir() and c.name.isdigit() and is_checkpoint(c))
    if not found:
        raise RecipeError("no checkpoints here (no <step>/ folders with metadata.json and model/)", file=str(path), field="RUN",
                          fix="point RUN at a run's checkpoints folder (checkpoints.checkpoints_path), e.g. outputs/checkpoints/tiny")
    if steps:
        missing = sorted(set(steps) - set(found))
        if missing:
            raise RecipeError(f"no checkpoint for step(s) {', '.join(map(str, missing))}", file=str(path), field="STEPS",
                              fix=f"choose among {', '.join(map(str, found))}")
        found = sorted(set(steps))
    return [describe_checkpoint(path / str(s)) for s in found]


def describe_classifier(path: Path) -> ModelFacts:
    info = read_json(path / "classifier.json")
    facts = _model(path, path / "model", kind="classifier")
    facts.files["classifier.json"] = path / "classifier.json"
    ann = path.parent.parent / "annotations" / f"{path.name}.jsonl"
    if ann.is_file():
        with open(ann, encoding="utf-8") as f:
            first = json.loads(f.readline() or "{}")
        info = dict(info, annotations=shown_path(ann), annotator=first.get("annotator"))
    facts.classifier = info
    return facts


# ------------------------------------------------------------------------------------------- data sets
def describe_data(path: Path) -> DataFacts:
    path = Path(path)
    if not path.is_dir():
        raise RecipeError("no such folder", file=str(path), field="DATA", fix="point DATA at a data folder, e.g. outputs/data/tiny")
    if (path / "REPORT.json").is_file():
        return _data_with_report(path)
    if list(path.glob("*.ds")):
        facts = DataFacts(path, "tokenized", {p.name: p for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith(".")})
        _count_tokens(facts, path.name, path)
        return facts
    files = {str(p.relative_to(path)): p for p in sorted(path.rglob("*"))
             if p.is_file() and p.name.endswith(DATA_SUFFIXES) and not any(x.startswith(".") for x in p.relative_to(path).parts)}
    if not files:
        raise RecipeError("not a data set folder (no REPORT.json, no tokenized .ds files, no jsonl/parquet/csv files)",
                          file=str(path), field="DATA", fix="point DATA at outputs/data/<recipe> or at a folder of data files")
    return DataFacts(path, "files", files)


def _count_tokens(facts: DataFacts, name: str, folder: Path) -> None:
    from smolrecipe.data.tokenize import folder_tokens

    tokens, tokenizer, _ = folder_tokens(folder)
    facts.tokens[name] = tokens
    facts.documents[name] = sum(f.stat().st_size // 8 for f in folder.glob("*.ds.index"))
    facts.tokenizer = facts.tokenizer or tokenizer


def _data_with_report(path: Path) -> DataFacts:
    report = read_json(path / "REPORT.json")
    files = {"REPORT.json": path / "REPORT.json"}
    tok_root = path / "tokenized"
    for p in sorted(tok_root.rglob("*")) if tok_root.is_dir() else []:
        if p.is_file() and not any(x.startswith(".") for x in p.relative_to(tok_root).parts):
            files[str(Path("tokenized") / p.relative_to(tok_root))] = p
    facts = DataFacts(path, "report", files, report=report, tokenizer=report.get("tokenizer"))
    for name in report.get("sources", {}):
        if (tok_root / name).is_dir():
            _count_tokens(facts, name, tok_root / name)
        else:
            facts.warnings.append(f"REPORT.json lists source {name!r} but {tok_root / name} is missing")
    return facts

"""Semantic checks on nanotron configs: one file, and the stage files of a recipe together.

    check_config(cfg)            # one file: schedule fields, stages, mixture, shapes, tokenizer
    check_recipe(recipe)         # all stage files: one global WSD schedule, stages chained, decay complete

Every error is a ConfigError naming the file, the field path and a fix.
"""
from __future__ import annotations

import json
from pathlib import Path

from smolrecipe.config.schema import NanotronConfig
from smolrecipe.errors import ConfigError
from smolrecipe.paths import resolve
from smolrecipe.schedule import DECAY_STYLES, WARMUP_STYLES, Schedule

SCHEDULE_FIELD = "optimizer.learning_rate_scheduler"

# Vocabulary sizes of Hub tokenizers the recipes use, so the check works offline.
KNOWN_TOKENIZER_VOCAB = {"HuggingFaceTB/cosmo2-tokenizer": 49152}


def _file(cfg: NanotronConfig) -> str:
    return getattr(cfg, "source_file", "<config>")


def check_config(cfg: NanotronConfig, *, check_tokenizer: bool = True) -> None:
    f = _file(cfg)
    for section in ("tokens", "optimizer", "data_stages", "checkpoints", "tokenizer"):
        if getattr(cfg, section) is None:
            raise ConfigError("section is required by the recipe", file=f, field=section, fix=f"add a `{section}:` section")
    _check_schedule(cfg)
    _check_model(cfg)
    _check_stages(cfg)
    if check_tokenizer:
        _check_tokenizer_vocab(cfg)


def _check_schedule(cfg: NanotronConfig) -> None:
    f, s, t = _file(cfg), cfg.schedule, cfg.tokens
    p = SCHEDULE_FIELD
    if s.lr_warmup_style not in WARMUP_STYLES:
        raise ConfigError(f"unknown warmup style {s.lr_warmup_style!r}", file=f, field=f"{p}.lr_warmup_style", fix=f"use one of {WARMUP_STYLES}")
    if s.lr_decay_style not in DECAY_STYLES:
        raise ConfigError(f"unknown decay style {s.lr_decay_style!r}", file=f, field=f"{p}.lr_decay_style", fix=f"use one of {DECAY_STYLES}")
    if s.learning_rate <= 0:
        raise ConfigError("the peak LR must be positive", file=f, field=f"{p}.learning_rate")
    if not 0 <= s.min_decay_lr <= s.learning_rate:
        raise ConfigError(
            f"min_decay_lr={s.min_decay_lr} must lie in [0, learning_rate={s.learning_rate}]",
            file=f, field=f"{p}.min_decay_lr", fix="SmolLM2 decays to 0: set `min_decay_lr: 0`",
        )
    if s.min_decay_lr == s.learning_rate:
        raise ConfigError(
            "min_decay_lr equals the peak LR, so the decay does nothing (nanotron's silent default)",
            file=f, field=f"{p}.min_decay_lr", fix="set `min_decay_lr: 0` (or the floor you want)",
        )
    if s.lr_decay_starting_step < s.lr_warmup_steps:
        raise ConfigError(
            f"the decay starts at step {s.lr_decay_starting_step}, inside the warmup ({s.lr_warmup_steps} steps)",
            file=f, field=f"{p}.lr_decay_starting_step", fix="start the decay at or after lr_warmup_steps",
        )
    if s.lr_decay_steps <= 0:
        raise ConfigError("lr_decay_steps must be positive", file=f, field=f"{p}.lr_decay_steps")
    if t.train_steps <= 0:
        raise ConfigError("train_steps must be positive", file=f, field="tokens.train_steps")


def _check_model(cfg: NanotronConfig) -> None:
    f, m, par = _file(cfg), cfg.model.model_config, cfg.parallelism
    p = "model.model_config"
    kv = m.kv_heads
    if m.num_attention_heads % kv:
        raise ConfigError(
            f"num_attention_heads={m.num_attention_heads} is not divisible by num_key_value_heads={kv}",
            file=f, field=f"{p}.num_key_value_heads", fix="pick a number of kv heads that divides the number of heads",
        )
    if m.hidden_size % m.num_attention_heads:
        raise ConfigError(
            f"hidden_size={m.hidden_size} is not divisible by num_attention_heads={m.num_attention_heads}",
            file=f, field=f"{p}.hidden_size", fix="make hidden_size a multiple of the head count",
        )
    if m.num_attention_heads % par.tp or kv < par.tp:
        raise ConfigError(
            f"tp={par.tp} must divide num_attention_heads={m.num_attention_heads} and be <= num_key_value_heads={kv}",
            file=f, field="parallelism.tp", fix="lower tp or change the head counts",
        )
    if min(par.dp, par.tp, par.pp) < 1:
        raise ConfigError("dp, tp and pp must be >= 1", file=f, field="parallelism")
    if cfg.tokens.sequence_length > m.max_position_embeddings:
        raise ConfigError(
            f"sequence_length={cfg.tokens.sequence_length} exceeds max_position_embeddings={m.max_position_embeddings}",
            file=f, field="tokens.sequence_length", fix="raise max_position_embeddings or shorten the sequences",
        )
    if cfg.model.init_method.std <= 0:
        raise ConfigError("init std must be positive", file=f, field="model.init_method.std")


def _check_stages(cfg: NanotronConfig) -> None:
    f, stages = _file(cfg), cfg.data_stages
    if not stages:
        raise ConfigError("no data stage", file=f, field="data_stages", fix="add at least one stage starting at step 1")
    if stages[0].start_training_step != 1:
        raise ConfigError(
            f"the first stage starts at {stages[0].start_training_step}",
            file=f, field="data_stages[0].start_training_step", fix="nanotron needs a stage starting at 1",
        )
    names = set()
    for i, st in enumerate(stages):
        p = f"data_stages[{i}]"
        if st.name in names:
            raise ConfigError(f"duplicate stage name {st.name!r}", file=f, field=f"{p}.name", fix="give every stage a unique name")
        names.add(st.name)
        if i and st.start_training_step <= stages[i - 1].start_training_step:
            raise ConfigError(
                f"stage starts must increase: {stages[i - 1].start_training_step} then {st.start_training_step}",
                file=f, field=f"{p}.start_training_step", fix="order the stages by their start step, each later than the previous",
            )
        if st.start_training_step > cfg.tokens.train_steps:
            raise ConfigError(
                f"the stage starts at step {st.start_training_step}, after train_steps={cfg.tokens.train_steps}",
                file=f, field=f"{p}.start_training_step", fix="start it before the run ends or raise tokens.train_steps",
            )
        ds = st.data.dataset
        if ds is None:
            raise ConfigError("no dataset (nanotron would train on dummy data)", file=f, field=f"{p}.data.dataset", fix="set dataset_folder and dataset_weights")
        if ds.dataset_weights is not None:
            if len(ds.dataset_weights) != len(ds.folders):
                raise ConfigError(
                    f"{len(ds.dataset_weights)} weights for {len(ds.folders)} folders",
                    file=f, field=f"{p}.data.dataset.dataset_weights", fix="give exactly one weight per dataset_folder entry",
                )
            if any(w <= 0 for w in ds.dataset_weights):
                raise ConfigError("weights must be positive", file=f, field=f"{p}.data.dataset.dataset_weights", fix="drop a folder instead of giving it weight 0")
            total = sum(ds.dataset_weights)
            if abs(total - 1.0) > 1e-6:
                raise ConfigError(
                    f"weights sum to {total:.6g}, not 1", file=f, field=f"{p}.data.dataset.dataset_weights",
                    fix="write the mixture as fractions that sum to 1 so the plan shows what runs",
                )
        if len(set(ds.folders)) != len(ds.folders):
            raise ConfigError("a folder is listed twice", file=f, field=f"{p}.data.dataset.dataset_folder", fix="list each folder once and merge the weights")
        seq = st.sequence_length or cfg.tokens.sequence_length
        if seq > cfg.model.model_config.max_position_embeddings:
            raise ConfigError(
                f"stage sequence_length={seq} exceeds max_position_embeddings",
                file=f, field=f"{p}.sequence_length", fix="raise model.model_config.max_position_embeddings",
            )


def tokenizer_vocab_size(name_or_path: str) -> int | None:
    """Vocabulary size of a local tokenizer folder/file or a known Hub tokenizer; None when unknown offline."""
    if name_or_path in KNOWN_TOKENIZER_VOCAB:
        return KNOWN_TOKENIZER_VOCAB[name_or_path]
    p = resolve(name_or_path)
    tok_file = p / "tokenizer.json" if p.is_dir() else p
    if tok_file.is_file() and tok_file.suffix == ".json":
        try:
            data = json.loads(tok_file.read_text())
            vocab = data["model"]["vocab"]
            ids = set(vocab.values()) | {t["id"] for t in data.get("added_tokens", [])}
            return max(ids) + 1
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ConfigError(f"not a tokenizers tokenizer.json ({type(e).__name__}: {e})", file=str(tok_file),
                              field="tokenizer.tokenizer_name_or_path",
                              fix="retrain it (make tokenizer RECIPE=tiny --force) or point at a tokenizer folder") from None
    return None


def _check_tokenizer_vocab(cfg: NanotronConfig) -> None:
    name = cfg.tokenizer.tokenizer_name_or_path
    if not name:
        raise ConfigError("no tokenizer named", file=_file(cfg), field="tokenizer.tokenizer_name_or_path", fix="name the tokenizer (Hub id or local folder)")
    size = tokenizer_vocab_size(name)
    if size is None:
        return  # a local tokenizer not built yet, or a Hub tokenizer we cannot read offline; checked at train time
    vocab = cfg.model.model_config.vocab_size
    if size != vocab:
        raise ConfigError(
            f"vocab_size={vocab} but the tokenizer {name} has {size} tokens",
            file=_file(cfg), field="model.model_config.vocab_size", fix=f"set vocab_size: {size} (or retrain the tokenizer)",
        )

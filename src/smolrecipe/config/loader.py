"""Strict loading of nanotron YAML into the typed schema, with errors that name file, field and fix.

    cfg = load_nanotron_yaml("pretraining/configs/tiny/stage1.yaml")

Unknown keys are rejected at every level (as nanotron's dacite loader does with strict=True), types
are checked, and the fields nanotron would silently default in a harmful way must be present.
Semantic checks (schedule, stages, shapes) live in smolrecipe.config.validate.
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Union

import yaml

from smolrecipe.config.schema import REQUIRED, NanotronConfig
from smolrecipe.errors import ConfigError
from smolrecipe.paths import shown

# Why each demanded field matters; used in the "fix" part of the message.
_REQUIRED_WHY = {
    "lr_warmup_style": "set `lr_warmup_style: linear` (nanotron refuses a missing value)",
    "lr_decay_starting_step": "set the step where the decay starts; nanotron would start it right after warmup",
    "lr_decay_steps": "set the decay length; nanotron would default it to train_steps - warmup of THIS file, "
    "which ends the decay early in a multi-stage recipe",
    "min_decay_lr": "set `min_decay_lr: 0` for SmolLM2's WSD; nanotron defaults it to the peak LR, i.e. no decay at all",
}


def load_nanotron_yaml(path: str | Path) -> NanotronConfig:
    path = Path(shown(path))
    if not path.is_file():
        raise ConfigError("config file not found", file=str(path), fix="check the path (configs live in pretraining/configs/<recipe>/)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"not a text file ({e.reason} at byte {e.start})", file=str(path),
                          fix="point at a nanotron YAML file (UTF-8 text)") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"not valid YAML: {e}", file=str(path), fix="fix the YAML syntax at the position shown") from None
    cfg = from_dict(NanotronConfig, _top_level(raw, str(path)), file=str(path))
    cfg.source_file = str(path)  # type: ignore[attr-defined]
    return cfg


def _top_level(raw, file: str) -> dict:
    if raw is None:
        raise ConfigError("the file is empty", file=file,
                          fix="start from a recipe's stage file, e.g. pretraining/configs/tiny/stage1.yaml")
    if not isinstance(raw, dict):
        raise ConfigError(f"the top level is a {type(raw).__name__}, not a mapping of sections", file=file,
                          fix="a nanotron config maps section names (general, model, tokens, ...) to their fields; "
                              "see pretraining/configs/tiny/stage1.yaml")
    return raw


def loads_nanotron_yaml(text: str, name: str = "<string>") -> NanotronConfig:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"not valid YAML: {e}", file=name, fix="fix the YAML syntax at the position shown") from None
    cfg = from_dict(NanotronConfig, _top_level(raw, name), file=name)
    cfg.source_file = name  # type: ignore[attr-defined]
    return cfg


def from_dict(cls: type, data: Any, *, file: str, path: str = "") -> Any:
    """Build dataclass `cls` from `data`, strictly. `path` is the dotted field path for messages."""
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping for {cls.__name__}, got {type(data).__name__}", file=file, field=path or "<root>")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in data if k not in fields]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(str(key), list(fields), n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"allowed keys here: {', '.join(fields)}"
        raise ConfigError(
            "unknown key (nanotron's strict loader rejects it)",
            file=file,
            field=_join(path, key),
            fix=f"remove it or rename it; {hint} Engine-only options go on the command line, not in the nanotron YAML.",
        )
    kwargs = {}
    for name, f in fields.items():
        fpath = _join(path, name)
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], file=file, path=fpath)
        elif f.default is REQUIRED or (f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING):
            fix = _REQUIRED_WHY.get(name, "add this field")
            raise ConfigError("required field is missing", file=file, field=fpath, fix=fix)
    return cls(**kwargs)


def _convert(tp: Any, value: Any, *, file: str, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise ConfigError("must not be null", file=file, field=path)
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, file=file, path=path)
            except ConfigError as e:
                errors.append(e)
        if len(errors) == 1:
            raise errors[0]
        raise ConfigError(f"value {value!r} matches none of {_type_name(tp)}", file=file, field=path)
    if tp is type(None):
        if value is not None:
            raise ConfigError("this section is not used by the recipe and must be null", file=file, field=path, fix="set it to null or remove it")
        return None
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"expected a list, got {type(value).__name__}", file=file, field=path)
        return [_convert(item, v, file=file, path=f"{path}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, file=file, path=path)
    if tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"expected a mapping, got {type(value).__name__}", file=file, field=path)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"expected true or false, got {value!r}", file=file, field=path)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"expected an integer, got {value!r}", file=file, field=path, fix="write a whole number without quotes")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(
                f"expected a number, got {value!r}",
                file=file,
                field=path,
                fix="write e.g. 3.0e-3 (YAML reads 3e-3 without a dot as a string)",
            )
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"expected a string, got {value!r}", file=file, field=path)
        return value
    if tp is Any:
        return value
    raise TypeError(f"schema type {tp!r} at {path} is not handled")  # a bug in the schema, not user input


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def to_dict(cfg: Any) -> Any:
    """Serialise back to plain YAML-able data, keeping field order (used for derived configs)."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, list):
        return [to_dict(v) for v in cfg]
    return cfg


def dump_nanotron_yaml(cfg: NanotronConfig, header: str = "") -> str:
    text = yaml.safe_dump(to_dict(cfg), sort_keys=False, default_flow_style=False)
    return (header.rstrip() + "\n" if header else "") + text

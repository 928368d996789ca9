"""How far each launch of a recipe reads into each data folder, the way nanotron reads, and where it would crash.

    rows = folder_reach(recipe)          # one Reach per (launch, folder)
    problems = [r for r in rows if r.exhausted]

A launch (a stage file or long-context.yaml) trains its config's last data stage: stage-local samples
0 .. (train_steps - start + 1) * gbs - 1 of that stage's blend, from window `offset` of each folder on, where the
offset is what the earlier stages RECORDED (nanotron's consumption record: blend positions [(it-1)*gbs, it*gbs)
of each iteration, see engine/data.py), summed and divided by this launch's sequence length. A folder whose last
window needed lies past its end crashes nanotron's default reader (IndexError) and stops the local engine with
the same message; `use_old_brrr_dataloader: true` wraps around instead (a new epoch).

Counts are replayed exactly for blends of up to EXACT_LIMIT positions (the tiny recipe); longer ones (the SmolLM2
recipes: billions of samples) use engine.data.blend_count_bounds, and a folder is flagged when the bound cannot
rule the crash out.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smolrecipe.engine.data import Blend, blend_count_bounds, normalised_weights, read_metadata, stage_data
from smolrecipe.paths import resolve

EXACT_LIMIT = 3_000_000


@dataclass
class Reach:
    launch: str             # the config file of the launch
    stage: str
    folder: str
    first: int              # first window the launch reads (the carried offset)
    last_low: int           # last window needed (+1), lower and upper bound (equal when exact)
    last_high: int
    available: int | None   # windows in the folder at the launch's sequence length (None: not built or remote)
    wraps: bool             # use_old_brrr_dataloader

    @property
    def exact(self) -> bool:
        return self.last_low == self.last_high

    @property
    def exhausted(self) -> bool:
        return self.available is not None and not self.wraps and self.last_high > self.available

    @property
    def epochs(self) -> float | None:
        return self.last_high / self.available if self.available else None

    def describe(self) -> str:
        need = f"{self.last_high:,}" if self.exact else f"up to {self.last_high:,}"
        return (f"{self.launch}: data stage {self.stage} reads windows {self.first:,}..{need} of {self.folder}, "
                f"which has {self.available:,} at this sequence length")


def folder_windows(folder: str, seq_len: int) -> int | None:
    """Windows of seq_len + 1 tokens in a local tokenized folder (each file's remainder dropped); None if absent."""
    if "://" in folder:
        return None
    path = resolve(folder)
    files = sorted(path.glob("*.ds")) if path.is_dir() else []
    if not files:
        return None
    width = read_metadata(files[0])[1]
    return sum((f.stat().st_size // width) // (seq_len + 1) for f in files)


def _count_range(raw_weights, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per-folder counts of blend positions [start, end); exact (low == high) when short enough."""
    if end <= EXACT_LIMIT:
        a = np.array(Blend(normalised_weights(raw_weights), start).counts)
        b = np.array(Blend(normalised_weights(raw_weights), end).counts)
        return b - a, b - a
    lo_a, hi_a = np.array(blend_count_bounds(raw_weights, start)).T
    lo_b, hi_b = np.array(blend_count_bounds(raw_weights, end)).T
    return np.maximum(lo_b - hi_a, 0), hi_b - lo_a


def _gbs(cfg) -> int:
    t = cfg.tokens
    return t.micro_batch_size * t.batch_accumulation_per_replica * cfg.parallelism.dp


def launch_reach(cfg, history: dict[str, tuple[int, int, object]]) -> list[Reach]:
    """Reach of one launch; `history` maps each earlier stage's name to (first, last iteration, the config it ran)."""
    data = stage_data(cfg, -1)
    seq, gbs = cfg.tokens.sequence_length, _gbs(cfg)
    resume = cfg.checkpoints.resume_checkpoint_path
    resumed_at = int(Path(resume).name) if resume and Path(resume).name.isdigit() else 0
    low_tokens, high_tokens = {}, {}
    for st in cfg.data_stages[:-1]:
        if st.name not in history:
            continue
        first, last, run_cfg = history[st.name]
        last = min(last, resumed_at)  # a branch (long context, cooldown) resumes before the stage's end
        if last < first:
            continue
        sd, run_gbs = stage_data(run_cfg, -1), _gbs(run_cfg)
        lo, hi = _count_range(sd.raw_weights, (first - 1) * run_gbs, last * run_gbs)  # nanotron's record
        for f, a, b in zip(sd.folders, lo, hi):
            low_tokens[f] = low_tokens.get(f, 0) + int(a) * run_cfg.tokens.sequence_length
            high_tokens[f] = high_tokens.get(f, 0) + int(b) * run_cfg.tokens.sequence_length
    n = (cfg.tokens.train_steps - data.start_training_step + 1) * gbs
    lo, hi = _count_range(data.raw_weights, 0, n)
    rows = []
    for f, a, b in zip(data.folders, lo, hi):
        first_low, first_high = low_tokens.get(f, 0) // seq, high_tokens.get(f, 0) // seq
        rows.append(Reach(getattr(cfg, "source_file", "?"), data.name, f, first_low, first_low + int(a),
                          first_high + int(b), folder_windows(f, seq), data.wraps))
    return rows


def folder_reach(recipe) -> list[Reach]:
    """Every launch of the recipe in order (stage files, then long-context.yaml)."""
    history: dict[str, tuple[int, int, object]] = {}
    rows: list[Reach] = []
    for cfg in recipe.stages:
        rows += launch_reach(cfg, history)
        history[cfg.data_stages[-1].name] = (cfg.data_stages[-1].start_training_step, cfg.tokens.train_steps, cfg)
    if recipe.long_context is not None:
        rows += launch_reach(recipe.long_context, history)
    return rows


def reach_summary(rows: list[Reach]) -> list[str]:
    """Lines for `make check` / `make plan`: one per exhausted folder (with the fix), or a one-line all-clear."""
    bad = [r for r in rows if r.exhausted]
    if bad:
        return [f"!! {r.describe()}: nanotron's default reader stops there with an IndexError. Fix: set "
                f"use_old_brrr_dataloader: true in that stage's dataset (wraps around to a new epoch), build more "
                f"data, or lower the folder's weight" for r in bad]
    wraps = all(r.wraps for r in rows)
    checked = [r for r in rows if r.available is not None]
    if wraps:
        return ["data reach: every stage reads with the wrapping reader (use_old_brrr_dataloader: true): "
                "no folder can run past its end; repeated data shows as epochs > 1 in `make plan`"]
    if len(checked) < len(rows):
        missing = sorted({r.folder for r in rows if r.available is None})
        return [f"data reach: {len(checked)} of {len(rows)} launch/folder pairs checked; not built or remote: "
                f"{', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''} (check again after make data)"]
    most = max(checked, key=lambda r: r.last_high / max(r.available, 1))
    return [f"data reach: no folder runs past its end (closest: {most.folder} in {Path(most.launch).name}, "
            f"window {most.last_high:,} of {most.available:,})"]


def metadata_problems(recipe) -> list[str]:
    """What nanotron's NanosetDatasetsArgs.__post_init__ (bc1f5a61) would refuse in the built folders: it reads the
    first line of a `*.metadata` file in every folder, requires one tokenizer name (string equality) and one token
    size across them, and loads the name with AutoTokenizer.from_pretrained (from the launch's working directory,
    the checkout's root)."""
    import glob

    problems: list[str] = []
    for cfg in [*recipe.stages, *([recipe.long_context] if recipe.long_context else [])]:
        names: dict[str, str] = {}
        for folder in stage_data(cfg, -1).folders:
            path = resolve(folder)
            found = sorted(glob.glob(os.path.join(path, "*.metadata"))) if "://" not in folder else []
            if found:
                with open(found[0]) as f:
                    names[folder] = f.readline().strip()
        if len(set(names.values())) > 1:
            problems.append(f"{cfg.source_file}: the folders name different tokenizers ({', '.join(sorted(set(names.values())))}); "
                            "nanotron asserts they are equal. Fix: rebuild them with one tokenizer (make data)")
        for folder, line in names.items():
            name, _, size = line.rpartition("|")
            if not size.isdigit():
                problems.append(f"{folder}: its metadata's first line {line!r} is not '<tokenizer>|<bytes per token>'. "
                                "Fix: rebuild the folder (make data)")
                continue
            try:
                _load_tokenizer(name)
            except Exception as e:  # what nanotron would raise at config load
                problems.append(f"{folder}: nanotron loads the tokenizer its metadata names ({name!r}) with "
                                f"AutoTokenizer.from_pretrained, which fails: {type(e).__name__}: {str(e)[:160]}. "
                                "Fix: rebuild the folder (make data records the tokenizer folder)")
            break  # one folder per launch: the names are equal
    return problems


def _load_tokenizer(name: str):
    """AutoTokenizer.from_pretrained(name) as nanotron calls it from the checkout's root (offline-safe for local names)."""
    from transformers import AutoTokenizer

    from smolrecipe.paths import repo_root

    here = os.getcwd()
    try:
        os.chdir(repo_root())
        return AutoTokenizer.from_pretrained(name)
    finally:
        os.chdir(here)

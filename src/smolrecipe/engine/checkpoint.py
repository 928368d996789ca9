"""Local-engine checkpoints (DESIGN.md contract 3): `<run>/<step>/`, written atomically, verified on load.

    save_checkpoint(run_dir, step, model=..., trainer_state=..., metadata=..., config_text=...)
    path = resolve_resume(requested_path)          # falls back to the previous valid checkpoint, loudly
    tensors, state, meta = load_checkpoint(path)

Layout of `<run>/<step>/`:
    model/              transformers folder (config.json + model.safetensors): what every later step reads
    trainer_state.pt    optimizer, scheduler step, RNG, data position: plain tensors/numbers, loaded with
                        torch.load(weights_only=True), so loading never unpickles arbitrary objects
    averages.safetensors  running SWA/EMA accumulators when enabled (exact resume of the averages)
    config.yaml         the nanotron YAML that produced it (a derived config for cooldowns)
    metadata.json       step, consumed samples per stage and per folder, versions, lineage, and the size and
                        sha256 of every file above: written last, so a checkpoint without it is half-written
`<run>/latest` holds the newest complete step. Everything is first written to `<run>/.tmp-<step>-<pid>` and
renamed into place, so a crash never leaves a half-written `<run>/<step>`.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import torch

from smolrecipe.errors import RecipeError

METADATA = "metadata.json"
LATEST = "latest"
FORMAT = "smolrecipe-checkpoint/1"


class CheckpointError(RecipeError):
    """A checkpoint that is missing, half-written or corrupted."""


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _inventory(folder: Path) -> dict[str, dict]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != METADATA)
    return {str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files}


def save_checkpoint(run_dir: Path, step: int, *, model, trainer_state: dict, metadata: dict, config_text: str,
                    averages: dict[str, torch.Tensor] | None = None) -> Path:
    from safetensors.torch import save_file

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".tmp-{step}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    model.save_pretrained(tmp / "model", safe_serialization=True)
    torch.save(trainer_state, tmp / "trainer_state.pt")
    if averages:
        save_file({k: v.detach().contiguous() for k, v in averages.items()}, str(tmp / "averages.safetensors"))
    (tmp / "config.yaml").write_text(config_text)
    meta = dict(metadata, format=FORMAT, step=step, files=_inventory(tmp))
    atomic_write_text(tmp / METADATA, json.dumps(meta, indent=1))
    final = run_dir / str(step)
    if final.exists():  # re-running a step (a restarted stage): replace it, never mix files of two runs
        old = run_dir / f".old-{step}-{os.getpid()}"
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old)
    else:
        os.replace(tmp, final)
    atomic_write_text(run_dir / LATEST, f"{step}\n")
    return final


def verify_checkpoint(path: Path) -> dict:
    """The checkpoint's metadata, after checking every file against its recorded size and sha256."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError("checkpoint folder not found", file=str(path),
                              fix="check the path; a run's checkpoints are <checkpoints_path>/<step>")
    meta_file = path / METADATA
    if not meta_file.exists():
        raise CheckpointError("half-written checkpoint: metadata.json is missing (it is written last)", file=str(path),
                              fix="delete this folder; training resumes from the previous checkpoint")
    try:
        meta = json.loads(meta_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"corrupted checkpoint: metadata.json does not parse ({e})", file=str(path),
                              fix="delete this folder; training resumes from the previous checkpoint") from None
    for rel, info in meta.get("files", {}).items():
        f = path / rel
        if not f.exists():
            raise CheckpointError(f"corrupted checkpoint: {rel} is missing", file=str(path),
                                  fix="delete this folder; training resumes from the previous checkpoint")
        if f.stat().st_size != info["size"] or _sha256(f) != info["sha256"]:
            raise CheckpointError(f"corrupted checkpoint: {rel} does not match its recorded size/sha256", file=str(path),
                                  fix="delete this folder; training resumes from the previous checkpoint")
    if not meta.get("files"):
        raise CheckpointError("corrupted checkpoint: metadata.json lists no files", file=str(path))
    return meta


def checkpoint_steps(run_dir: Path) -> list[int]:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    return sorted(int(p.name) for p in run_dir.iterdir() if p.is_dir() and p.name.isdigit())


def latest_step(run_dir: Path) -> int | None:
    """The newest step with a valid checkpoint (the `latest` pointer if it verifies, else the newest that does)."""
    run_dir = Path(run_dir)
    pointer = run_dir / LATEST
    if pointer.exists() and pointer.read_text().strip().isdigit():
        step = int(pointer.read_text().strip())
        try:
            verify_checkpoint(run_dir / str(step))
            return step
        except CheckpointError:
            pass
    for step in reversed(checkpoint_steps(run_dir)):
        try:
            verify_checkpoint(run_dir / str(step))
            return step
        except CheckpointError:
            continue
    return None


def resolve_resume(path: Path, log=None) -> tuple[Path, dict]:
    """The checkpoint to resume: `path` if it verifies, else the newest valid earlier one in the same run (with a warning)."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    path = Path(path)
    try:
        return path, verify_checkpoint(path)
    except CheckpointError as e:
        if not path.name.isdigit():
            raise
        error = e
    run_dir, wanted = path.parent, int(path.name)
    for step in reversed([s for s in checkpoint_steps(run_dir) if s < wanted]):
        candidate = run_dir / str(step)
        try:
            meta = verify_checkpoint(candidate)
        except CheckpointError as e2:
            log(f"warning: skipping {candidate}: {e2.problem}")
            continue
        log(f"warning: {error.render()}\n  using the previous valid checkpoint {candidate} instead")
        return candidate, meta
    raise CheckpointError(f"{error.problem}; and no earlier valid checkpoint in {run_dir}", file=str(path),
                          fix="re-run the previous stage to rebuild its checkpoints")


def load_checkpoint(path: Path, *, verified_meta: dict | None = None):
    """(model state dict, trainer state, averages or None, metadata) of a verified checkpoint; no arbitrary unpickling."""
    from safetensors.torch import load_file

    path = Path(path)
    meta = verified_meta or verify_checkpoint(path)
    weights: dict[str, torch.Tensor] = {}
    for f in sorted((path / "model").glob("*.safetensors")):
        weights.update(load_file(str(f)))
    state = torch.load(path / "trainer_state.pt", map_location="cpu", weights_only=True)
    averages = load_file(str(path / "averages.safetensors")) if (path / "averages.safetensors").exists() else None
    return weights, state, averages, meta


def load_weights_into(model, weights: dict[str, torch.Tensor]) -> None:
    missing, unexpected = model.load_state_dict(weights, strict=False)
    tied = {"lm_head.weight"} if model.config.tie_word_embeddings else set()
    if set(missing) - tied or unexpected:
        raise CheckpointError(
            f"the checkpoint does not match the model: missing {sorted(set(missing) - tied)[:5]}, unexpected {sorted(unexpected)[:5]}",
            fix="resume with the config whose model_config produced the checkpoint",
        )
    if tied:
        model.tie_weights()

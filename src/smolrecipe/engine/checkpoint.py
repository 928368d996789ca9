"""Local-engine checkpoints (DESIGN.md contract 3): `<run>/<step>/`, written atomically, verified on load.

    save_checkpoint(run_dir, step, model=..., trainer_state=..., metadata=..., config_text=...)
    path, meta = resolve_resume(requested_path)    # falls back to an earlier valid checkpoint, loudly
    tensors, state, averages, meta = load_checkpoint(path)

Layout of `<run>/<step>/`:
    model/              transformers folder (config.json + model.safetensors): what every later step reads
    trainer_state.pt    optimizer, scheduler step, RNG, data position: plain tensors/numbers, loaded with
                        torch.load(weights_only=True), so loading never unpickles arbitrary objects
    averages.safetensors  running SWA/EMA accumulators when enabled (exact resume of the averages)
    config.yaml         the nanotron YAML that produced it (a derived config for cooldowns)
    metadata.json       step, consumed samples per stage and per folder, versions, lineage, and the size and
                        sha256 of every file above
The folder is written by smolrecipe.publish.publishing (temp sibling, fsync, rename), so `<run>/<step>` is
complete or absent at every moment; `<run>/latest` names the newest step for people and tools, while the
engine itself always takes the newest step that verifies.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import torch

from smolrecipe.errors import RecipeError
from smolrecipe.publish import atomic_write_text, pause_point, publishing, recover_all

METADATA = "metadata.json"
LATEST = "latest"
FORMAT = "smolrecipe-checkpoint/1"


class CheckpointError(RecipeError):
    """A checkpoint that is missing, half-written, corrupted or from another run."""


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
    final = run_dir / str(step)
    # re-running a step (a restarted stage) replaces the old folder only once the new one is complete
    with publishing(final) as tmp:
        model.save_pretrained(tmp / "model", safe_serialization=True)
        pause_point(f"checkpoint:{step}")  # tests kill the run here: mid-write, before the metadata exists
        torch.save(trainer_state, tmp / "trainer_state.pt")
        if averages:
            save_file({k: v.detach().contiguous() for k, v in averages.items()}, str(tmp / "averages.safetensors"))
        (tmp / "config.yaml").write_text(config_text)
        meta = dict(metadata, format=FORMAT, step=step, files=_inventory(tmp))
        (tmp / METADATA).write_text(json.dumps(meta, indent=1))
    atomic_write_text(run_dir / LATEST, f"{step}\n")
    return final


def clean_run_dir(run_dir: Path, log=None) -> list[str]:
    """Remove what a killed save left in a checkpoints folder (temp copies), restoring a replaced step if needed."""
    return recover_all(run_dir, log)


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


def newest_valid(run_dir: Path, *, run: str | None = None, above: int = 0, at_most: int | None = None,
                 log=None) -> tuple[int, dict] | None:
    """(step, metadata) of the newest checkpoint in (above, at_most] that verifies (and belongs to `run` if given).

    A newer checkpoint that fails verification is reported, not silently passed over."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    for step in reversed(checkpoint_steps(run_dir)):
        if step <= above or (at_most is not None and step > at_most):
            continue
        try:
            meta = verify_checkpoint(Path(run_dir) / str(step))
        except CheckpointError as e:
            log(f"warning: skipping checkpoint {Path(run_dir) / str(step)}: {e.problem}")
            continue
        if run is None or meta.get("run") == run:
            return step, meta
    return None


def latest_step(run_dir: Path, log=None) -> int | None:
    """The newest step whose checkpoint verifies (the `latest` file is only a hint for people)."""
    found = newest_valid(run_dir, log=log)
    return found[0] if found else None


def resolve_resume(path: Path, log=None) -> tuple[Path, dict]:
    """The checkpoint to resume: `path` if it verifies; if it exists but is damaged, the newest valid earlier one
    of the same run folder, with a warning. A path that does not exist is an error, never a silent fallback."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    path = Path(path)
    if not path.exists():
        raise CheckpointError(
            "the checkpoint to resume from does not exist", file=str(path), field="checkpoints.resume_checkpoint_path",
            fix="run the step that writes it first (e.g. the previous stage: make pretrain STAGE=<n-1>), "
                "or point resume_checkpoint_path at an existing <checkpoints_path>/<step>")
    try:
        return path, verify_checkpoint(path)
    except CheckpointError as e:
        if not path.name.isdigit():
            raise
        error = e
    found = newest_valid(path.parent, at_most=int(path.name) - 1, log=log)
    if found is None:
        raise CheckpointError(f"{error.problem}; and no earlier valid checkpoint in {path.parent}", file=str(path),
                              fix="re-run the step that wrote it (e.g. the previous stage) to rebuild its checkpoints")
    candidate = path.parent / str(found[0])
    log(f"warning: {error.render()}\n  falling back to the newest earlier valid checkpoint {candidate}")
    return candidate, found[1]


MODEL_FIELDS_A_LONG_CONTEXT_MAY_CHANGE = {"rope_theta", "max_position_embeddings", "rope_scaling"}


def check_belongs(path: Path, meta: dict, cfg) -> None:
    """Refuse a checkpoint trained with another model shape or tokenizer than `cfg` (a foreign run)."""
    from dataclasses import asdict

    from smolrecipe.config.loader import loads_nanotron_yaml

    source = getattr(cfg, "source_file", None)
    if path.name.isdigit() and meta.get("step") != int(path.name):
        raise CheckpointError(f"the folder is named {path.name} but holds step {meta.get('step')}", file=str(path),
                              fix="point resume_checkpoint_path at the folder of the step you mean")
    theirs = loads_nanotron_yaml((path / "config.yaml").read_text(), name=str(path / "config.yaml"))
    ours_m, theirs_m = asdict(cfg.model.model_config), asdict(theirs.model.model_config)
    differ = sorted(k for k in ours_m if k not in MODEL_FIELDS_A_LONG_CONTEXT_MAY_CHANGE and ours_m[k] != theirs_m.get(k))
    if differ:
        k = differ[0]
        raise CheckpointError(
            f"the checkpoint belongs to another model (run {meta.get('run')!r}): model_config.{k} is {theirs_m.get(k)!r} "
            f"there and {ours_m[k]!r} here", file=source, field="checkpoints.resume_checkpoint_path",
            fix=f"resume a checkpoint of this recipe's run, or match model.model_config to {path / 'config.yaml'}")
    a, b = cfg.tokenizer.tokenizer_name_or_path, theirs.tokenizer.tokenizer_name_or_path
    if a != b:
        raise CheckpointError(
            f"the checkpoint was trained with tokenizer {b!r}, this config names {a!r}", file=source,
            field="tokenizer.tokenizer_name_or_path", fix="resume a checkpoint trained with this tokenizer, or name its tokenizer")


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

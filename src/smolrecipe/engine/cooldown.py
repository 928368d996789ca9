"""Cooldown branches (Hagele et al. 2024, arXiv 2405.18392): a decay started from a constant-LR checkpoint.

    cfg, branch = derive_cooldown(checkpoint, shape="1-sqrt", fraction=0.2)   # or steps=N
    path = write_cooldown_yaml(cfg, branch)                                    # outputs/configs/cooldown/<run>.yaml

The derived config is the checkpoint's own nanotron YAML with only the decay fields and the run's end
changed: lr_decay_starting_step = the checkpoint's step S, lr_decay_steps = D, lr_decay_style = shape,
train_steps = S + D, resuming from the checkpoint into its own checkpoints folder. Because nanotron
rebuilds the LR lambdas from the YAML on resume and the LR depends on the global step only, the same
file runs on nanotron unchanged. FRACTION is the cooldown's share of the branched run (D / (S + D)),
the way the paper counts a "20% cooldown" (a derived choice: D = round(F * S / (1 - F))).
"""
from __future__ import annotations

from pathlib import Path

from smolrecipe.config.loader import dump_nanotron_yaml, load_nanotron_yaml
from smolrecipe.config.validate import check_config
from smolrecipe.engine.checkpoint import verify_checkpoint
from smolrecipe.errors import ConfigError, RecipeError
from smolrecipe.publish import atomic_write_text
from smolrecipe.paths import config_path, outputs_dir, user_path
from smolrecipe.schedule import DECAY_STYLES


def checkpoint_config(checkpoint: Path):
    """(config, step, engine) of a local-engine checkpoint (verified) or a nanotron checkpoint folder."""
    checkpoint = user_path(checkpoint)
    if (checkpoint / "metadata.json").exists() and (checkpoint / "model").exists():
        meta = verify_checkpoint(checkpoint)
        return load_nanotron_yaml(checkpoint / "config.yaml"), int(meta["step"]), "local"
    if (checkpoint / "config.yaml").exists() and checkpoint.name.isdigit():
        return load_nanotron_yaml(checkpoint / "config.yaml"), int(checkpoint.name), "nanotron"
    raise RecipeError("not a checkpoint (no metadata.json + model/ of the local engine, nor nanotron's config.yaml)",
                      file=str(checkpoint), fix="point FROM at <checkpoints_path>/<step>")


def derive_cooldown(checkpoint: Path, shape: str, *, steps: int | None = None, fraction: float | None = None):
    if shape not in DECAY_STYLES:
        raise RecipeError(f"unknown cooldown shape {shape!r}", field="SHAPE", fix=f"use one of {', '.join(DECAY_STYLES)}")
    if (steps is None) == (fraction is None):
        raise RecipeError("give exactly one of --steps and --fraction", fix="e.g. --fraction 0.2 or --steps 40")
    if fraction is not None and not 0 < fraction < 1:
        raise RecipeError(f"FRACTION={fraction} is not in (0, 1): it is the cooldown's share of the branched run",
                          field="FRACTION", fix="e.g. FRACTION=0.2 (a 20% cooldown)")
    if steps is not None and steps < 1:
        raise RecipeError(f"STEPS={steps}: the cooldown needs at least one step", field="STEPS",
                          fix="e.g. STEPS=40, or FRACTION=0.2 to size it from the branch step")
    checkpoint = user_path(checkpoint)
    cfg, start, engine = checkpoint_config(checkpoint)
    if steps is None:
        steps = max(1, round(fraction * start / (1 - fraction)))
    sched = cfg.schedule
    if start < sched.lr_warmup_steps:
        raise ConfigError(f"step {start} is inside the warmup ({sched.lr_warmup_steps} steps)", field="FROM",
                          fix="branch a cooldown from a checkpoint after the warmup")
    if sched.lr_decay_starting_step < start:
        raise ConfigError(
            f"the parent run's decay started at step {sched.lr_decay_starting_step}, before this checkpoint ({start})",
            field="FROM", fix="branch from a constant-LR (stable-phase) checkpoint",
        )
    parent_run = cfg.general.run or "run"
    name = f"{parent_run}-cooldown-{shape}-from{start}-{steps}steps"
    parent_dir = Path(cfg.checkpoints.checkpoints_path)
    sched.lr_decay_style = shape
    sched.lr_decay_starting_step = start
    sched.lr_decay_steps = steps
    cfg.tokens.train_steps = start + steps
    cfg.general.run = name
    cfg.checkpoints.checkpoints_path = str(parent_dir.parent / name)
    cfg.checkpoints.resume_checkpoint_path = config_path(checkpoint)
    cfg.checkpoints.load_lr_scheduler = True
    cfg.checkpoints.load_optimizer = True
    cfg.checkpoints.save_final_state = True
    check_config(cfg, check_tokenizer=False)
    branch = {
        "kind": "cooldown", "parent_checkpoint": config_path(checkpoint), "parent_run": parent_run, "parent_engine": engine,
        "branch_step": start, "shape": shape, "decay_steps": steps, "end_step": start + steps,
        "fraction": steps / (start + steps), "min_decay_lr": sched.min_decay_lr,
    }
    return cfg, branch


def write_cooldown_yaml(cfg, branch: dict, folder: Path | None = None) -> Path:
    folder = folder or outputs_dir() / "configs" / "cooldown"
    path = Path(folder) / f"{cfg.general.run}.yaml"
    header = (f"# cooldown branch derived by smolrecipe from {branch['parent_checkpoint']} (step {branch['branch_step']}):\n"
              f"# {branch['shape']} decay over {branch['decay_steps']} steps ({branch['fraction']:.0%} of the branched run), "
              f"ending at step {branch['end_step']}. Runs on nanotron as is.")
    atomic_write_text(path, dump_nanotron_yaml(cfg, header=header))
    cfg.source_file = str(path)
    return path

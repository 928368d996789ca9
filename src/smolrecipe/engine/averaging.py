"""Weight averaging (REFERENCE.md section 8, Hagele et al. 2024, arXiv 2405.18392, section 4).

Online, in the local engine:
    swa = SWA(interval=I, window=H)      # uniform average of snapshots taken every I steps, restarted every H steps
    ema = EMA(decay=0.999)               # exponential moving average, updated every step
Offline (`python -m smolrecipe average ...`):
    average_folders([ckpt_a, ckpt_b, ...], out)   # uniform mean of saved checkpoints from either engine

Every average is written as a transformers model folder with a `lineage.json` naming what was averaged.
Accumulation is in fp32 whatever the weights' dtype, so the mean is the mean of the weights.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from smolrecipe.publish import publishing
from smolrecipe.versions import runtime_versions


def _params(model) -> dict[str, torch.Tensor]:
    # state_dict() drops the tied lm_head duplicate only in save_pretrained; take named_parameters (unique tensors).
    return {n: p.detach() for n, p in model.named_parameters()}


class SWA:
    """Uniform average of snapshots every `interval` steps; a window closes (and is saved) every `window` steps."""

    def __init__(self, interval: int, window: int):
        if interval <= 0 or window <= 0 or window % interval:
            from smolrecipe.errors import RecipeError

            raise RecipeError(f"SWA window {window} must be a positive multiple of the interval {interval}",
                              field="--swa-window", fix="e.g. --swa-interval 5 --swa-window 50")
        self.interval, self.window = interval, window
        self.sum: dict[str, torch.Tensor] = {}
        self.count = 0

    def update(self, step: int, model) -> bool:
        """Add the step's weights if it is a snapshot step; True when a window just closed (caller saves)."""
        if step % self.interval == 0:
            for n, p in _params(model).items():
                if n in self.sum:
                    self.sum[n] += p.float()
                else:
                    self.sum[n] = p.float().clone()
            self.count += 1
        return step % self.window == 0 and self.count > 0

    def average(self) -> dict[str, torch.Tensor]:
        return {n: s / self.count for n, s in self.sum.items()}

    def reset(self) -> None:
        self.sum, self.count = {}, 0

    def state(self) -> tuple[dict[str, torch.Tensor], dict]:
        return {f"swa.{n}": t for n, t in self.sum.items()}, {"count": self.count}

    def load(self, tensors: dict[str, torch.Tensor], info: dict) -> None:
        self.sum = {n[4:]: t.clone() for n, t in tensors.items() if n.startswith("swa.")}
        self.count = int(info.get("count", 0))


class EMA:
    def __init__(self, decay: float):
        self.decay = decay
        self.value: dict[str, torch.Tensor] = {}

    def update(self, model) -> None:
        for n, p in _params(model).items():
            if n in self.value:
                self.value[n].mul_(self.decay).add_(p.float(), alpha=1 - self.decay)
            else:
                self.value[n] = p.float().clone()

    def state(self) -> tuple[dict[str, torch.Tensor], dict]:
        return {f"ema.{n}": t for n, t in self.value.items()}, {"decay": self.decay}

    def load(self, tensors: dict[str, torch.Tensor], info: dict) -> None:
        self.value = {n[4:]: t.clone() for n, t in tensors.items() if n.startswith("ema.")}


class OnlineAverages:
    """The SWA and/or EMA a launch keeps along its run, and where they are saved.

    SWA: a transformers folder `<checkpoints_path>-swa/<step>` each time a window closes.
    EMA: `<checkpoints_path>-ema/<step>` with every checkpoint. Both accumulators go into each checkpoint
    (averages.safetensors), so a resumed or rewound run continues them exactly."""

    def __init__(self, run_dir: Path, run_name: str, *, swa_interval=None, swa_window=None, ema_decay=None):
        self.run_dir, self.run_name = Path(run_dir), run_name
        self.swa = SWA(swa_interval, swa_window) if swa_interval else None
        self.ema = EMA(ema_decay) if ema_decay else None

    def update(self, step: int, model) -> None:
        if self.swa is not None and self.swa.update(step, model):
            save_model_folder(model, self.swa.average(), Path(f"{self.run_dir}-swa") / str(step),
                              {"kind": "swa", "interval": self.swa.interval, "window": self.swa.window,
                               "snapshots": self.swa.count, "steps": [step - self.swa.window + self.swa.interval, step],
                               "run": self.run_name})
            self.swa.reset()
        if self.ema is not None:
            self.ema.update(model)

    def state(self) -> tuple[dict[str, torch.Tensor], dict]:
        tensors, info = {}, {}
        for name, a in (("swa", self.swa), ("ema", self.ema)):
            if a is not None:
                t, i = a.state()
                tensors.update(t)
                info[name] = i
        return tensors, info

    def load(self, tensors: dict | None, info: dict | None) -> None:
        """Continue the accumulators a checkpoint stored; start them empty when it stored none."""
        info = info or {}
        if self.swa is not None:
            self.swa.reset()
            if tensors and info.get("swa"):
                self.swa.load(tensors, info["swa"])
        if self.ema is not None:
            self.ema.value = {}
            if tensors and info.get("ema"):
                self.ema.load(tensors, info["ema"])

    def save_with_checkpoint(self, step: int, model, checkpoint: Path) -> None:
        if self.ema is not None and self.ema.value:
            save_model_folder(model, self.ema.value, Path(f"{self.run_dir}-ema") / str(step),
                              {"kind": "ema", "decay": self.ema.decay, "step": step, "run": self.run_name,
                               "parent": str(checkpoint)})


def save_model_folder(model, weights: dict[str, torch.Tensor], out: Path, lineage: dict) -> Path:
    """Write `weights` (names of `model`) as a transformers folder plus lineage.json, atomically."""
    dtype = next(model.parameters()).dtype
    state = {n: w.to(dtype).contiguous() for n, w in weights.items()}
    with publishing(out) as tmp:
        model.save_pretrained(tmp, state_dict=state, safe_serialization=True)
        (tmp / "lineage.json").write_text(json.dumps(dict(lineage, versions=runtime_versions()), indent=1))
    return Path(out)


def model_weights_path(folder: Path) -> Path:
    """The transformers folder inside a local-engine checkpoint, or the folder itself (converted nanotron checkpoint)."""
    folder = Path(folder)
    return folder / "model" if (folder / "model" / "config.json").exists() else folder


def average_folders(folders: list[Path], out: Path) -> Path:
    """Uniform mean of the weights of several checkpoints of one architecture, saved as a transformers folder."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForCausalLM

    from smolrecipe.errors import RecipeError

    if len(folders) < 1:
        raise RecipeError("nothing to average", fix="give checkpoint folders or a run folder with numbered checkpoints")
    total: dict[str, torch.Tensor] = {}
    reference = None
    for folder in folders:
        mdir = model_weights_path(folder)
        files = sorted(mdir.glob("*.safetensors"))
        if not (mdir / "config.json").exists() or not files:
            raise RecipeError("not a transformers model folder or local-engine checkpoint", file=str(folder),
                              fix="convert nanotron checkpoints first (make convert FROM=...)")
        weights: dict[str, torch.Tensor] = {}
        for f in files:
            weights.update(load_file(str(f)))
        if reference is None:
            reference = mdir
            names = set(weights)
        elif set(weights) != names or any(weights[n].shape != total[n].shape for n in names):
            raise RecipeError("checkpoints of different architectures", file=str(folder),
                              fix="average checkpoints of one run (same model_config)")
        for n, w in weights.items():
            if n in total:
                total[n] += w.float()
            else:
                total[n] = w.float().clone()
    mean = {n: t / len(folders) for n, t in total.items()}
    config = AutoConfig.from_pretrained(reference)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    model = model.to_empty(device="cpu")
    lineage = {"kind": "uniform-average", "parents": [str(f) for f in folders], "count": len(folders)}
    return save_model_folder(model, mean, out, lineage)

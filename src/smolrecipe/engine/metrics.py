"""Run metrics: JSONL (always), TensorBoard (default), wandb (only when installed and asked for), and a plot.

    m = MetricsWriter(outputs/runs/<run>, tensorboard=True, wandb=False)
    m.log(step, {"loss": ..., "lr": ...}); m.event(step, "spike", {...}); m.close()
    plot_run(outputs/runs/<run>)      # loss and LR against the step -> loss_lr.png

metrics.jsonl is appended across launches (a resumed run continues the same file); readers keep the
last record per step, so steps re-run after a rewind or a restart show their final values. A line cut short
by a kill mid-write is cut off before the next launch appends (publish.repair_jsonl_tail), and a reader skips
lines that do not parse instead of failing.
"""
from __future__ import annotations

import json
from pathlib import Path

from smolrecipe.publish import append_jsonl, atomic_write_text, read_jsonl, repair_jsonl_tail


class MetricsWriter:
    def __init__(self, folder: Path, *, tensorboard: bool = True, wandb: bool = False,
                 wandb_project: str | None = None, run_name: str | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        repair_jsonl_tail(self.folder / "metrics.jsonl")
        self._jsonl = open(self.folder / "metrics.jsonl", "a")
        self._tb = None
        self._wandb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(self.folder / "tensorboard"))
            except ImportError:
                self._tb = None
        if wandb:
            try:
                import wandb as wb
            except ImportError:
                from smolrecipe.errors import RecipeError

                raise RecipeError("--wandb asked for but wandb is not installed", fix="pip install wandb, or drop --wandb") from None
            self._wandb = wb.init(project=wandb_project, name=run_name, dir=str(self.folder), resume="allow")

    def write_json(self, name: str, data: dict) -> None:
        atomic_write_text(self.folder / name, json.dumps(data, indent=1, default=str))

    def append_json(self, name: str, data: dict) -> None:
        """One record per launch (a resumed run keeps the history of its launches)."""
        append_jsonl(self.folder / name, data)

    def log(self, step: int, values: dict) -> None:
        self._jsonl.write(json.dumps({"step": step, **values}) + "\n")
        self._jsonl.flush()
        numeric = {k: v for k, v in values.items() if isinstance(v, (int, float))}
        if self._tb is not None:
            for k, v in numeric.items():
                self._tb.add_scalar(f"train/{k}", v, step)
        if self._wandb is not None:
            self._wandb.log(numeric, step=step)

    def event(self, step: int, kind: str, values: dict) -> None:
        self._jsonl.write(json.dumps({"step": step, "event": kind, **values}) + "\n")
        self._jsonl.flush()

    def close(self) -> None:
        self._jsonl.close()
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()


def read_metrics(folder: Path) -> tuple[dict[int, dict], list[dict]]:
    """(last record per step, events) of a run folder."""
    steps, events = {}, []
    records, _bad = read_jsonl(Path(folder) / "metrics.jsonl")
    for rec in records:
        if "event" in rec:
            events.append(rec)
        elif "step" in rec:
            steps[rec["step"]] = rec
    return steps, events


def plot_run(folder: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, events = read_metrics(folder)
    if not steps:
        return None
    xs = sorted(steps)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(xs, [steps[s]["loss"] for s in xs], lw=1, color="tab:blue", label="train loss")
    ax.set_xlabel("iteration (global step)")
    ax.set_ylabel("loss (nats/token)", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(xs, [steps[s]["lr"] for s in xs], lw=1, color="tab:orange", label="learning rate")
    ax2.set_ylabel("learning rate", color="tab:orange")
    for e in events:
        if e["event"] in ("spike", "non-finite", "rewind"):
            ax.axvline(e["step"], color="red", lw=0.6, ls=":")
    ax.set_title(Path(folder).name)
    fig.tight_layout()
    out = Path(folder) / "loss_lr.png"
    tmp = out.with_name(".loss_lr.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(out)
    return out

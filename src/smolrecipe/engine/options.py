"""The local engine's own settings (DESIGN.md contract 1: command-line flags, never keys of the nanotron YAML).

    opts = EngineOptions(threads=1, on_spike="rewind")      # in code and tests
    add_engine_args(parser); opts = options_from_args(args)  # the pretrain / long-context / cooldown commands

`check()` refuses values that cannot work, before a model is built, naming the flag and a fix.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from smolrecipe.errors import RecipeError

ENGINES = ("auto", "local", "nanotron")


@dataclass
class EngineOptions:
    precision: str = "auto"          # auto | bf16 | fp32 (auto: bf16 autocast when the CPU has native bf16)
    threads: int | None = None       # torch intra-op threads (default: all cores; 1 is faster on a busy machine)
    max_steps: int | None = None     # stop this launch after N iterations (tests, smoke runs); a checkpoint is saved
    restart: bool = False            # ignore newer checkpoints of this run and start from the config's resume path
    on_spike: str = "log"            # log | rewind (reload the last checkpoint and skip the offending batches)
    spike_sigma: float = 6.0
    spike_margin: float = 0.5        # nats above the running mean, at least
    max_rewinds: int = 3
    compile: str = "auto"            # auto | on | off: torch.compile each decoder layer (engine/compile.py)
    fuse_tokens: int = 0             # run a step's micro batches as one forward when it has at most this many tokens (0: never)
    swa_interval: int | None = None
    swa_window: int | None = None
    ema_decay: float | None = None
    tensorboard: bool = True
    wandb: bool = False
    progress: bool = True
    runs_dir: Path | None = None     # metrics/plots folder root (default outputs/runs)
    lineage: dict = field(default_factory=dict)   # extra lineage recorded in every checkpoint (cooldown branch)

    def check(self) -> "EngineOptions":
        def bad(flag: str, problem: str, fix: str):
            raise RecipeError(problem, field=flag, fix=fix)

        if self.precision not in ("auto", "bf16", "fp32"):
            bad("--precision", f"unknown precision {self.precision!r}", "use auto, bf16 or fp32")
        if self.threads is not None and self.threads < 1:
            bad("--threads", f"--threads {self.threads}: a launch needs at least one thread",
                "pass a positive number (e.g. --threads 1), or leave it out to use every core")
        if self.max_steps is not None and self.max_steps < 1:
            bad("--max-steps", f"--max-steps {self.max_steps} would train nothing", "pass at least 1, or leave it out")
        if self.on_spike not in ("log", "rewind"):
            bad("--on-spike", f"unknown --on-spike {self.on_spike!r}", "use log or rewind")
        if self.spike_sigma <= 0 or self.spike_margin < 0:
            bad("--spike-sigma", "the spike threshold must be positive", "e.g. --spike-sigma 6 --spike-margin 0.5")
        if self.max_rewinds < 0:
            bad("--max-rewinds", "cannot be negative", "e.g. 3")
        if self.compile not in ("auto", "on", "off"):
            bad("--compile", f"compile must be auto, on or off, not {self.compile!r}", "use --compile auto|on|off")
        if self.fuse_tokens < 0:
            bad("--fuse-tokens", "cannot be negative", "0 accumulates micro batches like nanotron")
        if (self.swa_interval is None) != (self.swa_window is None):
            bad("--swa-interval", "online SWA needs both --swa-interval and --swa-window", "e.g. --swa-interval 5 --swa-window 50")
        if self.swa_interval is not None and (self.swa_interval <= 0 or self.swa_window <= 0 or self.swa_window % self.swa_interval):
            bad("--swa-window", f"SWA window {self.swa_window} must be a positive multiple of the interval {self.swa_interval}",
                "e.g. --swa-interval 5 --swa-window 50")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            bad("--ema-decay", f"--ema-decay {self.ema_decay} is not in (0, 1)", "e.g. --ema-decay 0.99")
        return self


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="auto: nanotron when the GPU environment sees CUDA and the pinned nanotron, else the local engine")
    parser.add_argument("--dry-run", action="store_true", help="print the command/config that would run, run nothing")
    g = parser.add_argument_group("local engine only")
    g.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto",
                   help="auto: bf16 autocast when the CPU has native bf16 (faster there), else fp32")
    g.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores; on a machine busy with other work 1 is faster for small models)")
    g.add_argument("--max-steps", type=int, default=None, help="stop after N iterations of this launch (saves a checkpoint)")
    # Off by default, so that a step is computed as nanotron computes it (micro batches accumulated); with the
    # fused loss, one forward per step measured 0-10% faster on the tiny model (benchmarks/README.md).
    g.add_argument("--fuse-tokens", type=int, default=0,
                   help="run a step's micro batches as one forward up to this many tokens (same gradient); 0 = accumulate like nanotron (default)")
    g.add_argument("--compile", nargs="?", const="on", default="auto", choices=("auto", "on", "off"),
                   help="torch.compile the decoder layers; auto (default): only where it was measured to pay off on this CPU")
    g.add_argument("--restart", action="store_true", help="ignore newer checkpoints of this run; start from the config's resume path")
    g.add_argument("--on-spike", choices=("log", "rewind"), default="log",
                   help="rewind: reload the last checkpoint and skip the batches since (SmolLM2's stage-4 remedy)")
    g.add_argument("--spike-sigma", type=float, default=6.0, help="spike = loss above the running mean by this many running std ...")
    g.add_argument("--spike-margin", type=float, default=0.5, help="... and by at least this many nats")
    g.add_argument("--swa-interval", type=int, default=None, help="online SWA: snapshot every I steps (Hagele et al.: 5)")
    g.add_argument("--swa-window", type=int, default=None, help="online SWA: average windows of H steps (Hagele et al.: 500)")
    g.add_argument("--ema-decay", type=float, default=None, help="online EMA of the weights, e.g. 0.99; saved with each checkpoint")
    g.add_argument("--no-tensorboard", action="store_true")
    g.add_argument("--wandb", action="store_true", help="also log to Weights & Biases (needs wandb installed)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar (logs stay in metrics.jsonl)")
    g.add_argument("--runs-dir", type=Path, default=None, help="where metrics and plots go (default outputs/runs)")


def options_from_args(args, lineage: dict | None = None) -> EngineOptions:
    return EngineOptions(
        precision=args.precision, threads=args.threads, max_steps=args.max_steps, restart=args.restart,
        on_spike=args.on_spike, fuse_tokens=args.fuse_tokens, compile=args.compile, spike_sigma=args.spike_sigma,
        spike_margin=args.spike_margin, swa_interval=args.swa_interval, swa_window=args.swa_window,
        ema_decay=args.ema_decay, tensorboard=not args.no_tensorboard, wandb=args.wandb, progress=not args.no_progress,
        runs_dir=args.runs_dir, lineage=lineage or {},
    ).check()

"""Command-line flags of the local engine, shared by pretrain, long-context and cooldown.

These are the options only the local engine has (DESIGN.md contract 1): they never go into the nanotron YAML.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from smolrecipe.engine.trainer import EngineOptions

ENGINES = ("auto", "local", "nanotron")


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="auto: nanotron when CUDA and the pinned nanotron are available, else the local engine")
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
                   help="torch.compile the decoder layers: about 1.15x faster steps after a compile of 4 s per launch "
                        "(about 30 s the first time on a machine); auto (default): on for launches of 1000+ iterations")
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
    if (args.swa_interval is None) != (args.swa_window is None):
        from smolrecipe.errors import RecipeError

        raise RecipeError("online SWA needs both --swa-interval and --swa-window", fix="e.g. --swa-interval 5 --swa-window 50")
    return EngineOptions(
        precision=args.precision, threads=args.threads, max_steps=args.max_steps, restart=args.restart,
        on_spike=args.on_spike, fuse_tokens=args.fuse_tokens, compile=args.compile, spike_sigma=args.spike_sigma, spike_margin=args.spike_margin,
        swa_interval=args.swa_interval, swa_window=args.swa_window, ema_decay=args.ema_decay,
        tensorboard=not args.no_tensorboard, wandb=args.wandb, progress=not args.no_progress,
        runs_dir=args.runs_dir, lineage=lineage or {},
    )

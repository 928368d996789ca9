"""Learning-rate schedules with nanotron's formula and step convention.

    lr = lr_at(t, sched)              # t = the scheduler's step counter (0-based)
    lr = lr_for_iteration(i, sched)   # iteration i (1-based) trains with lr_at(i - 1)

Phases (REFERENCE.md section 6): warmup lr*t/W for t <= W (or the peak LR for "constant" warmup);
the peak until the decay start S; decay over D steps with the chosen shape; then min_decay_lr.
The LR depends on the global step only, which is what makes a cooldown branch a pure config change.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

DECAY_STYLES = ("linear", "cosine", "1-sqrt")
WARMUP_STYLES = ("linear", "constant")


@dataclass(frozen=True)
class Schedule:
    """The WSD fields of nanotron's LRSchedulerArgs, all explicit."""

    learning_rate: float
    lr_warmup_steps: int
    lr_warmup_style: str
    lr_decay_style: str
    lr_decay_starting_step: int
    lr_decay_steps: int
    min_decay_lr: float

    @classmethod
    def from_args(cls, args) -> "Schedule":
        return cls(
            learning_rate=args.learning_rate,
            lr_warmup_steps=args.lr_warmup_steps,
            lr_warmup_style=args.lr_warmup_style,
            lr_decay_style=args.lr_decay_style,
            lr_decay_starting_step=args.lr_decay_starting_step,
            lr_decay_steps=args.lr_decay_steps,
            min_decay_lr=args.min_decay_lr,
        )

    @property
    def decay_end(self) -> int:
        """First scheduler step at which the LR sits at min_decay_lr (= the last iteration of a complete decay)."""
        return self.lr_decay_starting_step + self.lr_decay_steps


def lr_at(t: int, s: Schedule) -> float:
    """nanotron's lr_lambda(current_step=t) for a parameter group whose LR is the peak LR."""
    peak, m = s.learning_rate, s.min_decay_lr
    W, S, D = s.lr_warmup_steps, s.lr_decay_starting_step, s.lr_decay_steps
    if W == 0 and D == 0:
        return peak
    if t <= W:
        if s.lr_warmup_style == "linear":
            return peak * t / max(W, 1)
        if s.lr_warmup_style == "constant":
            return peak
        raise ValueError(f"unknown warmup style {s.lr_warmup_style!r}; use one of {WARMUP_STYLES}")
    if t < S:
        return peak
    if t < S + D:
        progress = (t - S) / D
        if s.lr_decay_style == "linear":
            return m + (peak - m) * (D - (t - S)) / D
        if s.lr_decay_style == "cosine":
            return m + (peak - m) * (1 + math.cos(math.pi * progress)) / 2
        if s.lr_decay_style == "1-sqrt":
            return m + (peak - m) * (1 - math.sqrt(progress))
        raise ValueError(f"unknown decay style {s.lr_decay_style!r}; use one of {DECAY_STYLES}")
    return m


def lr_for_iteration(iteration: int, s: Schedule) -> float:
    """The LR used by training iteration `iteration` (1-based), as in nanotron (LambdaLR stepped after each update)."""
    return lr_at(iteration - 1, s)

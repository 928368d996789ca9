"""Loss-spike and NaN/inf detection for the local engine (REFERENCE.md section 2: SmolLM2's stage-4 spike).

    guard = SpikeGuard(sigma=6.0, margin=0.5)
    verdict = guard.check(step, loss, past_warmup=True)   # "ok" | "spike" | "non-finite"
    guard.accept(loss)                                      # only losses of applied updates feed the statistics

A spike is a loss above the running mean by more than max(sigma x running std, margin nats). The
running statistics are exponential moving averages (factor 0.95, about the last 20 steps), so a slow
drift such as a new data mixture moves the mean instead of firing the guard. Rejected losses never
enter the statistics, so a rewound run is judged against the same baseline. The first 10 accepted
steps and the warmup only build the statistics.
"""
from __future__ import annotations

import math

BETA = 0.95
MIN_STEPS = 10


class SpikeGuard:
    def __init__(self, sigma: float = 6.0, margin: float = 0.5, state: dict | None = None):
        self.sigma, self.margin = sigma, margin
        self.mean, self.var, self.n = 0.0, 0.0, 0
        self.load(state)

    def check(self, step: int, loss: float, *, past_warmup: bool) -> str:
        if not math.isfinite(loss):
            return "non-finite"
        if not past_warmup or self.n < MIN_STEPS:
            return "ok"
        if loss - self.mean > max(self.sigma * math.sqrt(self.var), self.margin):
            return "spike"
        return "ok"

    def accept(self, loss: float) -> None:
        if not math.isfinite(loss):
            return
        if self.n == 0:
            self.mean, self.var = loss, 0.0
        else:
            delta = loss - self.mean
            self.mean += (1 - BETA) * delta
            self.var = BETA * (self.var + (1 - BETA) * delta * delta)
        self.n += 1

    def state(self) -> dict:
        return {"mean": self.mean, "var": self.var, "n": self.n}

    def load(self, state: dict | None) -> None:
        if state:
            self.mean, self.var, self.n = float(state["mean"]), float(state["var"]), int(state["n"])

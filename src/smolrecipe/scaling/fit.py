"""Scaling-law fits from a set of (N parameters, D tokens, loss) points, as the Chinchilla paper does them.

    law = fit_law(points)                 # approach 3: L(N, D) = E + A / N^alpha + B / D^beta
    law.predict(N, D)
    env = fit_envelope(points_with_flops) # approach 1: the lowest loss reached per FLOPs, L = a * C^-b

Approach 3 (Hoffmann et al. 2022, section 3.3 and appendix D.2; the form OLMo's ladder fits): minimise the Huber loss
(delta 1e-3) between log L and log of the law, over log-parameters (e = log E, a = log A, b = log B, alpha, beta),
with L-BFGS from a grid of starting points, keeping the best. Approach 1: for each FLOPs budget, the best loss any
run reached with at most that many FLOPs (the lower envelope), then a power law fitted to the envelope in log space.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass
class Law:
    E: float
    A: float
    alpha: float
    B: float
    beta: float
    objective: float

    def predict(self, n, d):
        n, d = np.asarray(n, dtype=np.float64), np.asarray(d, dtype=np.float64)
        return self.E + self.A / n ** self.alpha + self.B / d ** self.beta

    def describe(self) -> str:
        return (f"L(N, D) = {self.E:.3f} + {self.A:.4g} / N^{self.alpha:.3f} + {self.B:.4g} / D^{self.beta:.3f}")


def _huber(r: np.ndarray, delta: float) -> np.ndarray:
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def _objective(theta, logn, logd, logl, delta):
    e, a, b, alpha, beta = theta
    terms = np.stack([a - alpha * logn, b - beta * logd, np.full_like(logn, e)])
    pred = np.logaddexp.reduce(terms, axis=0)  # log(A/N^alpha + B/D^beta + E), stably
    r = pred - logl
    # the gradient, written out for L-BFGS (chain rule through the log-sum-exp)
    w = np.exp(terms - pred)  # softmax weights of the three terms
    g = np.where(np.abs(r) <= delta, r, delta * np.sign(r))
    grad = np.array([np.sum(g * w[2]), np.sum(g * w[0]), np.sum(g * w[1]),
                     np.sum(g * w[0] * -logn), np.sum(g * w[1] * -logd)])
    return float(np.sum(_huber(r, delta))), grad


def fit_law(points, *, delta: float = 1e-3, grid: dict | None = None) -> Law:
    """points: iterable of (N, D, loss). At least 5 points with at least 2 distinct N and 2 distinct D."""
    from scipy.optimize import minimize

    pts = np.asarray([(float(n), float(d), float(l)) for n, d, l in points], dtype=np.float64)
    if len(pts) < 5 or len(set(pts[:, 0])) < 2 or len(set(pts[:, 1])) < 2:
        raise ValueError("a fit of L(N, D) needs at least 5 points over 2+ model sizes and 2+ token counts")
    logn, logd, logl = np.log(pts[:, 0]), np.log(pts[:, 1]), np.log(pts[:, 2])
    # a coarser grid than Chinchilla's (162 starts instead of thousands): on synthetic data from a known law it finds
    # the same optimum (tests/test_scaling.py), in about a second
    grid = grid or {"e": [0.0, 1.0], "a": [0.0, 5.0, 10.0], "b": [0.0, 5.0, 10.0], "alpha": [0.2, 0.6, 1.0],
                    "beta": [0.2, 0.6, 1.0]}
    best = None
    for start in itertools.product(grid["e"], grid["a"], grid["b"], grid["alpha"], grid["beta"]):
        res = minimize(_objective, np.array(start), args=(logn, logd, logl, delta), jac=True, method="L-BFGS-B")
        if best is None or res.fun < best.fun:
            best = res
    e, a, b, alpha, beta = best.x
    return Law(float(np.exp(e)), float(np.exp(a)), float(alpha), float(np.exp(b)), float(beta), float(best.fun))


@dataclass
class Envelope:
    flops: list[float]
    loss: list[float]
    a: float
    b: float

    def predict(self, c):
        return self.a * np.asarray(c, dtype=np.float64) ** -self.b


def fit_envelope(points) -> Envelope:
    """points: iterable of (FLOPs, loss) along runs. The running minimum over increasing FLOPs, then log-log least squares."""
    pts = sorted((float(c), float(l)) for c, l in points if c > 0)
    if len(pts) < 2:
        raise ValueError("an envelope needs at least 2 points")
    xs, ys, best = [], [], float("inf")
    for c, l in pts:
        if l < best:
            best = l
            xs.append(c)
            ys.append(l)
    if len(xs) < 2:
        xs, ys = [pts[0][0], pts[-1][0]], [pts[0][1], min(p[1] for p in pts)]
    slope, intercept = np.polyfit(np.log(xs), np.log(ys), 1)
    return Envelope(xs, ys, float(np.exp(intercept)), float(-slope))

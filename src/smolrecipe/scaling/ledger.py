"""FLOPs spent by reusable runs (one constant-LR run + cooldowns branched from it) against one cosine run per budget.

    reuse_ratio([1, 2, 3], cooldown=0.2)      # closed form: ((1 - f) * max + f * sum) / sum = 0.6
    run_flops(steps, tokens_per_step, flops_per_token)

With budgets D_1 < ... < D_k and cooldowns of a fraction f of each budget, the constant run goes to (1 - f) D_k
and each budget adds its cooldown f D_i; separate runs cost sum D_i. Hagele et al. (2024) report ~0.6x for
1:2:3 with 20% cooldowns, and 1.14e20 -> 0.72e20 FLOPs over their 33M-360M grid (REFERENCE.md section 8).
"""
from __future__ import annotations


def reuse_ratio(budgets, cooldown: float) -> float:
    budgets = [float(b) for b in budgets]
    return ((1 - cooldown) * max(budgets) + cooldown * sum(budgets)) / sum(budgets)


def run_flops(steps: int, tokens_per_step: int, flops_per_token: float) -> float:
    return float(steps) * tokens_per_step * flops_per_token

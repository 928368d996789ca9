"""Model FLOPs utilisation: a run's model FLOPs per second against the best matmul throughput of this machine.

    peak = matmul_ceiling(cfg, bf16, clock=time.perf_counter)   # FLOP/s, measured now, in the run's precision
    mfu = flops_per_token(cfg) * tokens_per_second / peak

The ceiling is the best of the matmuls a training step runs, timed here in the precision the engine trains in:
forward + both backward matmuls at the model's linear shapes (tokens x in -> out), attention's batched q.k and p.v
per micro batch, and a square 1024 x 1024 matmul. Against the best of these, MFU cannot pass 100%; measuring it in
another precision (bf16 on a CPU that emulates bf16) once gave 106% (benchmarks/README.md).
"""
from __future__ import annotations

import time

import torch


def _rate(fn, flops: int, repeats: int, clock) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return flops / best


def matmul_ceiling(cfg, bf16: bool, *, repeats: int = 10, clock=time.perf_counter) -> float:
    m, t = cfg.model.model_config, cfg.tokens
    tokens = t.micro_batch_size * t.batch_accumulation_per_replica * t.sequence_length
    hd = m.hidden_size // m.num_attention_heads
    shapes = [(m.hidden_size, m.num_attention_heads * hd), (m.hidden_size, m.kv_heads * hd),
              (m.num_attention_heads * hd, m.hidden_size), (m.hidden_size, m.intermediate_size),
              (m.intermediate_size, m.hidden_size), (m.hidden_size, m.vocab_size), (1024, 1024)]
    dtype = torch.bfloat16 if bf16 else torch.float32
    best = 0.0
    for i, o in shapes:
        n = 1024 if (i, o) == (1024, 1024) else tokens
        x, w, g = torch.randn(n, i, dtype=dtype), torch.randn(i, o, dtype=dtype), torch.randn(n, o, dtype=dtype)
        best = max(best, _rate(lambda: (x @ w, g @ w.T, x.T @ g), 3 * 2 * n * i * o, repeats, clock))
    b, s = t.micro_batch_size * m.num_attention_heads, t.sequence_length
    q, k = torch.randn(b, s, hd, dtype=dtype), torch.randn(b, hd, s, dtype=dtype)
    p = torch.randn(b, s, s, dtype=dtype)
    return max(best, _rate(lambda: (torch.bmm(q, k), torch.bmm(p, q)), 2 * 2 * b * s * s * hd, repeats, clock))

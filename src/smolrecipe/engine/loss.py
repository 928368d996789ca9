"""The training loss of the local engine: LM head + mean next-token cross-entropy, fused and chunked.

    loss = linear_cross_entropy(hidden, model.lm_head.weight, labels, compute_dtype)

Why not `F.cross_entropy(lm_head(hidden).float(), labels)`: with a 4096-token vocabulary and a hidden size of
128, the [tokens x vocab] logits dwarf everything else in the tiny model. A profile of one step of the tiny
recipe (benchmarks/README.md) spent about 40% of its CPU time on the LM head and the loss, most of it not in
the matmuls but in passes over 2048 x 4096 fp32 tensors: the bf16 -> fp32 copy of the logits, log_softmax,
its backward, the zero-filled gradient of nll_loss, and page faults on those fresh 32 MB buffers (a fifth of
the step was system time). Here the logits exist one chunk of rows at a time (512 x 4096 fp32 = 8 MB), and
since the loss is the end of the graph, its gradient (softmax - one-hot) / N is computed in the same pass and
pushed through the two backward matmuls at once; backward() only scales the stored gradients.

Same numerics as the autocast reference up to rounding: the logits are the same bf16 matmul, the softmax and
loss are fp32, the gradient of the logits is rounded to the compute dtype before the backward matmuls as
autocast does. In fp64 it matches F.cross_entropy to rounding, in bf16 to bf16 rounding (tests/test_engine.py).
"""
from __future__ import annotations

import torch

CHUNK_ROWS = 512  # measured on the tiny model: 256 and 512 rows tie, 1024 is slower (8 MB fp32 chunks stay cached)


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, labels, compute_dtype, chunk):
        n = hidden.shape[0]
        h, w = hidden.to(compute_dtype), weight.to(compute_dtype)
        acc = torch.promote_types(compute_dtype, torch.float32)  # softmax and sums: fp32 at least
        grad_h = torch.empty(hidden.shape, dtype=hidden.dtype, device=hidden.device)
        grad_w = torch.zeros(weight.shape, dtype=acc, device=weight.device)
        total = torch.zeros((), dtype=acc, device=hidden.device)
        for s in range(0, n, chunk):
            hc, lc = h[s:s + chunk], labels[s:s + chunk]
            # log-sum-exp by hand, in place and with one exp pass: torch.logsumexp and log_softmax took 4x
            # longer per chunk on this CPU (one thread) than amax + sub_ + exp_ + sum.
            z = (hc @ w.T).to(acc)
            z.sub_(z.amax(-1, keepdim=True))
            target = z.gather(1, lc[:, None])
            e = z.exp_()
            norm = e.sum(-1, keepdim=True)
            total += (norm.log() - target).sum()
            g = e.mul_(norm.reciprocal_())                     # softmax
            g[torch.arange(len(lc), device=lc.device), lc] -= 1.0
            g = g.to(compute_dtype)
            # 1/N is applied to the small outputs, not to the chunk (the same values: N is the token count)
            grad_h[s:s + chunk] = (g @ w).to(hidden.dtype).mul_(1.0 / n)
            grad_w += g.T @ hc
        ctx.save_for_backward(grad_h, grad_w.mul_(1.0 / n).to(weight.dtype))
        return total / n

    @staticmethod
    def backward(ctx, grad_out):
        grad_h, grad_w = ctx.saved_tensors
        return grad_h * grad_out, grad_w * grad_out, None, None, None


def linear_cross_entropy(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor,
                         compute_dtype: torch.dtype, chunk: int = CHUNK_ROWS) -> torch.Tensor:
    """Mean cross-entropy of `hidden @ weight.T` against `labels` (hidden [N, H], weight [V, H], labels [N]).

    The matmuls run in compute_dtype (bf16 under the engine's autocast), the softmax in fp32. Its gradients
    are computed during the forward, so call it only where backward() follows (training), not under no_grad.
    """
    return _LinearCrossEntropy.apply(hidden, weight, labels, compute_dtype, chunk)

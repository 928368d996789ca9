"""A plain transformers loop for multiple-choice log-likelihood: the reference lighteval is checked against.

    logprobs = choice_logprobs(model, tokenizer, contexts, choices, batch_size=64)   # [[sum log p(choice) ...] ...]
    acc = char_norm_accuracy(logprobs, choices, golds)

Conventions (the harness's, which lighteval 0.13 follows): whitespace at the end of a context belongs to the
continuation; the context is encoded with the tokenizer's special tokens and each continuation without them,
separately, and the model reads context + continuation in one sequence; a choice's score is the sum of its
tokens' log-probabilities; per-character normalisation divides by the choice's length, not counting a leading
space. Sequences are batched right-padded (a causal model's outputs before the padding do not depend on it).
"""
from __future__ import annotations

import torch


def split_pair(context: str, choice: str) -> tuple[str, str]:
    stripped = context.rstrip()
    return stripped, context[len(stripped):] + choice


def encode(tokenizer, context: str, choice: str) -> tuple[list[int], list[int]]:
    ctx, cont = split_pair(context, choice)
    return tokenizer(ctx, add_special_tokens=True)["input_ids"], tokenizer(cont, add_special_tokens=False)["input_ids"]


@torch.no_grad()
def choice_logprobs(model, tokenizer, contexts: list[str], choices: list[list[str]], batch_size: int = 64,
                    max_length: int | None = None) -> list[list[float]]:
    """Sum of log p(choice tokens | context) for every choice of every item."""
    pairs = [(i, encode(tokenizer, c, ch)) for i, (c, chs) in enumerate(zip(contexts, choices)) for ch in chs]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    scores: list[float] = []
    for start in range(0, len(pairs), batch_size):
        batch = [ctx + cont for _, (ctx, cont) in pairs[start:start + batch_size]]
        if max_length:
            batch = [seq[-max_length:] for seq in batch]
        width = max(map(len, batch))
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        for row, seq in enumerate(batch):
            ids[row, :len(seq)] = torch.tensor(seq)
        logp = torch.log_softmax(model(ids).logits.float(), dim=-1)
        for row, (_, (_, cont)) in enumerate(pairs[start:start + batch_size]):
            n, end = len(cont), len(batch[row])
            targets = torch.tensor(batch[row][end - n:])
            scores.append(logp[row, end - n - 1:end - 1].gather(1, targets[:, None]).sum().item())
    out: list[list[float]] = [[] for _ in contexts]
    for (i, _), s in zip(pairs, scores):
        out[i].append(s)
    return out


def char_norm_accuracy(logprobs: list[list[float]], choices: list[list[str]], golds: list[int]) -> float:
    correct = 0
    for lps, chs, gold in zip(logprobs, choices, golds):
        normed = [lp / (len(c) - 1 if c.startswith(" ") else len(c)) for lp, c in zip(lps, chs)]
        correct += int(max(range(len(normed)), key=normed.__getitem__) == gold)
    return correct / len(golds)

"""The tiny recipe's chat tasks: short instructions with one checkable answer, for SFT, DPO and evaluation.

    items = generate("train", 4000)     # deterministic; "train" or "heldout" (never the same prompt)
    item  = {"id", "task", "prompt", "answer", "wrong"}   # wrong: 3 plausible wrong answers, none equal to answer
    chat(item)        -> {"messages": [user, assistant]}                      (SFT; TRL's conversational format)
    preference(item)  -> {"prompt": [user], "chosen": [assistant], "rejected": [assistant]}   (DPO)

A model of a few million parameters can learn these within minutes on a CPU, so a pretrained base model,
its SFT and its DPO versions score visibly differently on the held-out split (exact match on the answer, or
log-likelihood of the answer among the wrong ones). The split is decided by a hash of the prompt, so the
held-out prompts never appear in training whatever the sizes asked for.
"""
from __future__ import annotations

import hashlib
import random

WORDS = ("apple river stone cloud green house table music light water paper window garden yellow orange "
         "silver basket candle forest rabbit bridge pencil summer winter planet rocket castle dragon pocket "
         "mirror ticket butter flower guitar jacket monkey number orchid parrot puzzle saddle tunnel violin "
         "wallet zebra anchor breeze cotton desert engine falcon harbor island jungle kettle lemon meadow").split()
TASKS = ("add", "subtract", "multiply", "larger", "reverse", "upper", "first_letter", "count_letters", "sort")
HELDOUT_SHARE = 10  # one prompt bucket in ten is held out


def _is_heldout(prompt: str) -> bool:
    return int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % HELDOUT_SHARE == 0


def _numbers(rng: random.Random, hi: int) -> tuple[int, int]:
    return rng.randint(2, hi), rng.randint(2, hi)


def _distinct(answer: str, candidates, k: int = 3) -> list[str]:
    out = []
    for c in candidates:
        c = str(c)
        if c != answer and c not in out:
            out.append(c)
        if len(out) == k:
            return out
    raise ValueError(f"not enough wrong answers for {answer!r}")


def make_item(task: str, rng: random.Random) -> dict:
    """One item of `task`: prompt, answer and three wrong answers a careless model might give."""
    if task in ("add", "subtract", "multiply"):
        a, b = _numbers(rng, 12 if task == "multiply" else 50)
        if task == "subtract" and b > a:
            a, b = b, a
        op, value = {"add": ("+", a + b), "subtract": ("-", a - b), "multiply": ("*", a * b)}[task]
        prompt, answer = f"What is {a} {op} {b}?", str(value)
        wrong = _distinct(answer, [value + 1, value - 1, value + 10, value + 2, a, b])
    elif task == "larger":
        a, b = _numbers(rng, 99)
        while a == b:
            b = rng.randint(2, 99)
        prompt, answer = f"Which number is larger, {a} or {b}?", str(max(a, b))
        wrong = _distinct(answer, [min(a, b), max(a, b) + 1, a + b, abs(a - b)])
    elif task in ("reverse", "upper", "first_letter", "count_letters"):
        w = rng.choice(WORDS)
        if task == "reverse":
            prompt, answer = f"Write the word {w} backwards.", w[::-1]
            wrong = _distinct(answer, [w, w[::-1].upper(), w[1:][::-1], w[::-1] + w[0]])
        elif task == "upper":
            prompt, answer = f"Write the word {w} in capital letters.", w.upper()
            wrong = _distinct(answer, [w, w.capitalize(), w[::-1].upper(), w.upper()[:-1]])
        elif task == "first_letter":
            prompt, answer = f"What is the first letter of the word {w}?", w[0]
            wrong = _distinct(answer, [w[-1], w[1], w[0].upper(), chr((ord(w[0]) - 96) % 26 + 97)])
        else:
            prompt, answer = f"How many letters are in the word {w}?", str(len(w))
            wrong = _distinct(answer, [len(w) + 1, len(w) - 1, len(w) + 2, len(w) * 2])
    elif task == "sort":
        xs = rng.sample(range(1, 60), 3)
        prompt = f"Sort these numbers from smallest to largest: {', '.join(map(str, xs))}."
        answer = ", ".join(map(str, sorted(xs)))
        s0, s1, s2 = sorted(xs)
        wrong = _distinct(answer, [", ".join(map(str, order)) for order in
                                   ((s2, s1, s0), (s1, s0, s2), (s0, s2, s1), tuple(xs), (s2, s0, s1))])
    else:
        raise ValueError(f"unknown task {task!r}")
    return {"task": task, "prompt": prompt, "answer": answer, "wrong": wrong}


def generate(split: str, n: int, seed: int = 0) -> list[dict]:
    """n distinct items of the split ("train" | "heldout"), the tasks in turn; deterministic for (split, n, seed)."""
    if split not in ("train", "heldout"):
        raise ValueError(f"split must be train or heldout, not {split!r}")
    rng = random.Random(f"{seed}")
    seen: set[str] = set()
    items: list[dict] = []
    k = 0
    while len(items) < n:
        task = TASKS[k % len(TASKS)]
        k += 1
        item = make_item(task, rng)
        if item["prompt"] in seen or _is_heldout(item["prompt"]) != (split == "heldout"):
            continue
        seen.add(item["prompt"])
        items.append({"id": f"{split}-{len(items):05d}", **item})
        if k > 200 * n + 10_000:
            raise RuntimeError(f"could not draw {n} distinct {split} items")
    return items


def chat(item: dict) -> dict:
    return {"messages": [{"role": "user", "content": item["prompt"]},
                         {"role": "assistant", "content": item["answer"]}]}


def preference(item: dict, pick: int = 0) -> dict:
    """The correct answer chosen over wrong answer number `pick`."""
    return {"prompt": [{"role": "user", "content": item["prompt"]}],
            "chosen": [{"role": "assistant", "content": item["answer"]}],
            "rejected": [{"role": "assistant", "content": item["wrong"][pick % len(item["wrong"])]}]}

"""The tiny suite's items, as files committed with the repository (evaluation/data/tiny/).

    python -m smolrecipe.evaluation.tiny_data        # rewrite them (after changing tiny_tasks or mathgen)

chat/test.jsonl: the held-out split of smolrecipe.data.tiny_tasks (prompts never in the SFT/DPO data);
math/test.jsonl: held-out worked problems of smolrecipe.data.mathgen (the stream the pretraining corpus is
decontaminated against). Fixed files rather than files generated per run, so every evaluation of every
checkpoint scores the same items whatever changes elsewhere; a test checks they still equal the generators.
"""
from __future__ import annotations

import json
from pathlib import Path

from smolrecipe.data import mathgen
from smolrecipe.data.tiny_tasks import TASKS, generate
from smolrecipe.paths import repo_root
from smolrecipe.publish import atomic_write_text

CHAT_ITEMS = 30 * len(TASKS)  # 270 chat items
MATH_ITEMS = 200


def tiny_data_dir() -> Path:
    return repo_root() / "evaluation" / "data" / "tiny"


def _jsonl(records) -> str:
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)


def tiny_files() -> dict[str, str]:
    """{relative path: content} of the tiny suite's data."""
    math = [{"question": p["question"], "answer": p["answer"], "text": p["text"]} for p in mathgen.held_out(MATH_ITEMS)]
    return {"chat/test.jsonl": _jsonl(generate("heldout", CHAT_ITEMS)), "math/test.jsonl": _jsonl(math)}


if __name__ == "__main__":
    for rel, text in tiny_files().items():
        atomic_write_text(tiny_data_dir() / rel, text)
        print(f"wrote {tiny_data_dir() / rel}")

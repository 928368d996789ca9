"""SmolTalk-style synthetic chat data: rewrite, summarise and constraint-following conversations from seeds.

SmolTalk (HuggingFaceTB/smoltalk, REFERENCE.md section 3) adds subsets of its own to public SFT data, among
them smol-rewrite (~56k: a text rewritten in a requested style), smol-summarize (~101k: summaries of emails
and passages) and smol-constraints (~36k: answers that follow explicit instructions). This module builds
conversations of those three shapes with datatrove's inference runner (smolrecipe.data.inference):

    rewrite      seed document -> system prompt naming a style, the text as the user turn -> the rewrite
    summarize    seed document -> system prompt asking for N sentences, the text -> the summary
    constraints  seed prompt   -> the prompt plus one checkable instruction -> an answer; answers that break
                                  the instruction are dropped (the checkers are INSTRUCTIONS below)

Replies cut off at --max-tokens or empty are dropped too; the runner counts every drop (failed_rollouts).
Each output row is TRL's conversational format plus provenance:
    {"messages": [{"role": "system"|"user"|"assistant", "content": ...}, ...], "subset", "variant", "seed_id"}
which the SFT recipes read as a `datasets:` entry (path: json, data_files: <folder>/*.jsonl). The prompts are
this project's own wording; the style, length or instruction of each seed is picked by a hash of its id, so a
rerun asks the same questions (and resumes).
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Callable

SUBSETS = ("rewrite", "summarize", "constraints")

REWRITE_STYLES = {
    "concise": "more concise, keeping its meaning and every fact",
    "formal": "more formal and professional, as if for a report or an official letter",
    "friendly": "warmer and friendlier, as if written to a colleague you like",
    "simple": "simpler, so that a twelve-year-old can follow it",
    "clear": "clearer: fix the grammar and the flow without changing what it says",
}
SUMMARY_LENGTHS = (1, 2, 3)
END_PHRASE = "Is there anything else I can help with?"


@dataclass(frozen=True)
class Instruction:
    """A checkable instruction of the constraints subset: its wording and the check of a reply."""

    name: str
    text: str
    check: Callable[[str], bool]


def _bullets(reply: str) -> int:
    return sum(1 for line in reply.splitlines() if line.lstrip().startswith("* "))


INSTRUCTIONS = (
    Instruction("three-bullets", "Answer with exactly 3 bullet points, each on its own line starting with '* '.",
                lambda r: _bullets(r) == 3),
    Instruction("lowercase", "Write your whole answer in lowercase letters, with no capital letters at all.",
                lambda r: any(c.isalpha() for c in r) and r == r.lower()),
    Instruction("no-commas", "Do not use any commas in your answer.", lambda r: "," not in r),
    Instruction("end-phrase", f"End your answer with this exact phrase: {END_PHRASE}",
                lambda r: r.rstrip().endswith(END_PHRASE)),
    Instruction("title", "Give your answer a title wrapped in double angular brackets, such as <<a short title>>.",
                lambda r: re.search(r"<<[^<>\n]+>>", r) is not None),
    Instruction("max-50-words", "Answer in at most 50 words.", lambda r: len(r.split()) <= 50),
    Instruction("postscript", "End your answer with a postscript that starts with P.S.",
                lambda r: re.search(r"(?m)^\s*P\.S\.", r) is not None),
)
INSTRUCTION_BY_NAME = {i.name: i for i in INSTRUCTIONS}


def _pick(seed_id: str, options):
    """The same option for the same seed on every run (crc32 of the id)."""
    options = list(options)
    return options[zlib.crc32(str(seed_id).encode()) % len(options)]


def conversation(subset: str, seed_id: str, text: str, max_chars: int = 6000) -> tuple[list[dict], str]:
    """(the messages sent to the model, the variant: style, length or instruction name) for one seed."""
    text = text[:max_chars].strip()
    if subset == "rewrite":
        style = _pick(seed_id, REWRITE_STYLES)
        system = (f"You are an editor. Rewrite the user's text to make it {REWRITE_STYLES[style]}. "
                  "Answer with the rewritten text only.")
        return [{"role": "system", "content": system}, {"role": "user", "content": text}], style
    if subset == "summarize":
        n = _pick(seed_id, SUMMARY_LENGTHS)
        system = (f"You summarise texts. Give a concise, objective summary of the user's text in {n} "
                  f"sentence{'s' if n > 1 else ''}, adding nothing it does not say. Answer with the summary only.")
        return [{"role": "system", "content": system}, {"role": "user", "content": text}], f"{n}-sentences"
    if subset == "constraints":
        instruction = _pick(seed_id, INSTRUCTIONS)
        return [{"role": "user", "content": f"{text}\n\n{instruction.text}"}], instruction.name
    raise ValueError(f"unknown subset {subset!r}; one of {', '.join(SUBSETS)}")


def follows(subset: str, variant: str, reply: str) -> bool:
    """Whether a reply is kept: not empty, and for constraints, its instruction is followed."""
    if not reply.strip():
        return False
    return subset != "constraints" or INSTRUCTION_BY_NAME[variant].check(reply)


async def smoltalk_rollout(document, generate, *, subset: str, max_chars: int = 6000):
    """InferenceRunner rollout: one generation per seed, returned as a whole conversation (None = dropped)."""
    messages, variant = conversation(subset, document.id, document.text, max_chars)
    result = await generate({"messages": messages})
    reply = result.text.strip()
    if result.finish_reason == "length" or not follows(subset, variant, reply):
        return None
    return {"messages": [*messages, {"role": "assistant", "content": reply}], "subset": subset, "variant": variant}


def conversation_row(self, document) -> dict:
    """Writer adapter: the SFT row of a seed whose generation was kept."""
    result = document.metadata["rollout_results"][0]
    return {"messages": result["messages"], "subset": f"smol-{result['subset']}", "variant": result["variant"],
            "seed_id": document.id}

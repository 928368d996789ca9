"""Annotation for the educational-quality classifiers: an LLM judge or an offline heuristic annotator.

The FineWeb-Edu / Stack-Edu / FineMath method (SmolLM2 paper, arXiv 2502.02737, section 3): a strong LLM
scores a sample of documents with a rubric, a small classifier learns those scores, and the classifier
filters the full corpus. The rubrics below are this project's own wording of the published scales:
    edu    0-5 additive educational value of web text (FineWeb-Edu; keep >= 3)
    code   0-5 additive educational value of code (Stack-Edu; keep >= 3, >= 2 for Java)
    math3  1-3 math reasoning content (FineMath first pass)
    math5  1-5 math reasoning quality (FineMath second pass; 3+ and 4+ subsets)

The judge runs as a datatrove step: `judge_rollout` is the rollout of datatrove's InferenceRunner
(smolrecipe.data.inference: vLLM / SGLang on the node or an OpenAI-compatible endpoint, checkpointed and
resumable), `annotation_row` the output format. `HeuristicAnnotator` is the offline stand-in the tiny recipe
uses (no model, the same rows). One row per document: {id, text, score, annotator, scale, reply}; a reply
without a score keeps score null.
"""
from __future__ import annotations

import re

from datatrove.pipeline.base import PipelineStep

SCALES = {"edu": (0, 5), "code": (0, 5), "math3": (1, 3), "math5": (1, 5)}

PROMPTS = {
    "edu": """Rate how useful the extract below would be for teaching, from primary school to university level, with this additive 5-point scale (start at 0):
- Add 1 point if the extract gives some basic information relevant to an educational topic, even if mixed with unrelated material such as menus, ads or boilerplate.
- Add another point if it addresses elements of such a topic but does not match an educational standard closely: it may mix in unrelated content, stay superficial, or be poorly organised.
- Award a third point if it suits educational use and introduces concepts relevant to a school or university curriculum in a coherent way, even if not comprehensive.
- Grant a fourth point if it is highly relevant and useful for teaching at a given level: clear and consistent, focused, like a chapter of a textbook or a tutorial, with little irrelevant content.
- Give a fifth point if it is outstanding for teaching: detailed reasoning, easy to follow, offering deep insight, with no non-educational content.

Extract:
<<<
{text}
>>>

Justify your total in at most 100 words, then end with a line "Educational score: <points>".""",
    "code": """Rate the educational value of the code below for someone learning to program, with this additive 5-point scale (start at 0):
- Add 1 point if the code is valid and contains some programming logic, even if it is boilerplate or configuration.
- Add another point if it shows practical concepts (functions, data structures, error handling), even without comments.
- Award a third point if it suits teaching: well structured, introduces key concepts, has some comments or docstrings.
- Grant a fourth point if it is self-contained and highly relevant to teaching, like a clear exercise or tutorial, with explanatory comments.
- Give a fifth point if it is outstanding for teaching: well written, easy to follow, with step-by-step explanations.

Code:
<<<
{text}
>>>

Justify your total in at most 100 words, then end with a line "Educational score: <points>".""",
    "math3": """Does the extract below contain mathematical reasoning useful to learn mathematics? Answer on a 3-point scale:
1 = no mathematical content, or only numbers and results without reasoning;
2 = some mathematical content, with formulas or partial steps but little explanation;
3 = clear mathematical reasoning: a problem worked step by step, or a concept explained with examples.

Extract:
<<<
{text}
>>>

Justify in at most 60 words, then end with a line "Math score: <1-3>".""",
    "math5": """Rate the extract below for teaching mathematics, on a 5-point scale:
1 = mathematical content is minimal: a bare result or an answer without work;
2 = some computation is shown, but terse and without explanation;
3 = the computation is shown and labelled, so a reader can follow it with effort;
4 = a problem is solved step by step with explanations of each step, at school level or above;
5 = outstanding: the method is explained in general, applied to an example, and the result is checked.

Extract:
<<<
{text}
>>>

Justify in at most 60 words, then end with a line "Math score: <1-5>".""",
}

SCORE_RE = re.compile(r"(?:educational|math)\s+score\s*:\s*\**\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def parse_score(reply: str, scale: str) -> float | None:
    """The last 'X score: N' in a judge's reply, clipped to the scale; None if absent."""
    found = SCORE_RE.findall(reply or "")
    if not found:
        return None
    lo, hi = SCALES[scale]
    return float(min(max(float(found[-1]), lo), hi))


async def judge_rollout(document, generate, *, scale: str, annotator: str, max_chars: int = 6000) -> dict:
    """One judge call per document (InferenceRunner rollout): the rubric prompt, the reply, the parsed score.

    Long documents are cut to `max_chars`: the published judges saw the first few thousand characters too."""
    prompt = PROMPTS[scale].format(text=document.text[:max_chars])
    result = await generate({"messages": [{"role": "user", "content": prompt}]})
    return {"score": parse_score(result.text, scale), "reply": result.text, "annotator": annotator, "scale": scale}


def annotation_row(self, document) -> dict:
    """Writer adapter: the annotation row of a document the judge (or the heuristic annotator) scored."""
    result = (document.metadata.get("rollout_results") or [{}])[0]
    return {"id": document.id, "text": document.text, "score": result.get("score"), "annotator": result.get("annotator"),
            "scale": result.get("scale"), "reply": result.get("reply", "")}


class HeuristicAnnotator(PipelineStep):
    """The offline annotator as a pipeline step: the same rows as the judge (annotation_row), no model."""

    name = "📝 Heuristic annotator"
    type = "🏷 - ANNOTATE"

    def __init__(self, scale: str):
        super().__init__()
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; one of {', '.join(SCALES)}")
        self.scale = scale

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            doc.metadata["rollout_results"] = [{"score": heuristic_score(doc.text, self.scale), "reply": "",
                                                "annotator": "heuristic", "scale": self.scale}]
            self.stat_update("annotated")
            yield doc


# ---- offline heuristic annotator (tiny recipe) -------------------------------------------------------

_EXPLAIN = re.compile(r"\b(because|for example|e\.g\.|such as|means|which|this is|note that|in other words|"
                      r"returns?|used to|allows?|if|when|therefore|so that|instead)\b", re.IGNORECASE)
_SENT = re.compile(r"[.!?](\s|$)")


def _prose_score(text: str) -> float:
    words = text.split()
    n = len(words)
    alpha = sum(w.isalpha() for w in words) / max(n, 1)
    score = 0
    score += n >= 25
    score += len(_SENT.findall(text)) >= 3 and alpha >= 0.6
    score += len(_EXPLAIN.findall(text)) >= 3
    score += n >= 70 and (">>>" in text or "example" in text.lower() or "e.g." in text)
    score += n >= 120 and text.count("\n\n") >= 2 and alpha >= 0.7
    if alpha < 0.45:  # parameter lists, tables, code: not prose a student learns from
        score -= 1
    return float(max(0, min(5, score)))


def _code_score(text: str) -> float:
    import ast

    lines = text.splitlines()
    n = max(len(lines), 1)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return 0.0
    defs = [d for d in ast.walk(tree) if isinstance(d, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
    documented = sum(1 for d in defs if ast.get_docstring(d))
    comments = sum(1 for ln in lines if ln.strip().startswith("#"))
    module_doc = ast.get_docstring(tree) or ""
    # a file that opens by explaining itself is what a learner can start from (the rubric's points 3-5)
    doc_words = len(module_doc.split())
    score = 1
    score += len(defs) > 0
    score += (comments + 3 * documented) / n >= 0.06 and doc_words >= 8
    score += doc_words >= 30
    score += doc_words >= 80 and bool(defs) and documented / len(defs) >= 0.75
    return float(min(5, score))


def _math_score(text: str, scale: str) -> float:
    low = text.lower()
    steps = len(re.findall(r"(?m)^(step \d+\.|\d+\. )", low))
    explained = len(_EXPLAIN.findall(text)) + low.count("first") + low.count("then")
    equations = text.count("=")
    if scale == "math3":
        if steps >= 2 and explained >= 2:
            return 3.0
        return 2.0 if equations >= 1 else 1.0
    if "lesson" in low and "check" in low and steps >= 2:
        return 5.0
    if steps >= 2 and explained >= 2:
        return 4.0
    if equations >= 2 and "answer" in low:
        return 3.0 if explained >= 1 else 2.0
    return 1.0


def heuristic_score(text: str, scale: str) -> float:
    """The offline annotator: surface features standing in for the LLM judge's rubric (same scale)."""
    if scale == "edu":
        return _prose_score(text)
    if scale == "code":
        return _code_score(text)
    if scale in ("math3", "math5"):
        return _math_score(text, scale)
    raise ValueError(f"unknown scale {scale!r}; one of {', '.join(SCALES)}")

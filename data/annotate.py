"""Step 1 of the edu-classifier method: score a sample of documents with an LLM judge (or offline).

Usage:
    # an OpenAI-compatible server (vLLM: `vllm serve meta-llama/Llama-3.1-70B-Instruct`):
    python data/annotate.py --input fineweb-edu --scale edu --sample 450000 \
        --endpoint http://localhost:8000/v1 --model meta-llama/Llama-3.1-70B-Instruct --out annotations/edu.jsonl
    # FineMath: 3-point first pass, then the 5-point scale on a fresh sample
    python data/annotate.py --input open-web-math --scale math3 ...  /  --scale math5 ...
    # offline (tiny recipe): surface heuristics with the same output format
    python data/annotate.py --input outputs/data/tiny/raw/prose --scale edu --sample 2000 --heuristic --out a.jsonl

--input is a local jsonl folder or a Hub source name (data/README.md lists them). Output: one line per
document {id, text, score, annotator, scale, reply}; replies without a score are kept with score null
and counted in the summary. The key for the endpoint is read from $OPENAI_API_KEY when set.
"""
import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from smolrecipe.data.annotate import SCALES, LLMJudge, heuristic_score  # noqa: E402
from smolrecipe.data.executor import script_entry  # noqa: E402
from smolrecipe.data.readers import reader_for  # noqa: E402
from smolrecipe.errors import RecipeError  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", required=True, help="local jsonl folder or Hub source name")
    p.add_argument("--language", default=None, help="language for starcoderdata / stack-edu")
    p.add_argument("--scale", choices=sorted(SCALES), default="edu")
    p.add_argument("--sample", type=int, default=2000, help="documents to annotate (the first N read)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--heuristic", action="store_true", help="offline heuristic annotator instead of an LLM")
    p.add_argument("--endpoint", help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1")
    p.add_argument("--model", help="model name served at the endpoint")
    p.add_argument("--concurrency", type=int, default=16)
    a = p.parse_args()
    if not a.heuristic and not (a.endpoint and a.model):
        raise RecipeError("an LLM judge needs --endpoint and --model", field="--endpoint/--model",
                          fix="pass both, or --heuristic for the offline annotator")
    docs = []
    for doc in reader_for(a.input, limit=a.sample, language=a.language).run():
        docs.append(doc)
        if len(docs) >= a.sample:
            break
    if a.heuristic:
        scored = [(heuristic_score(d.text, a.scale), "") for d in docs]
        who = "heuristic"
    else:
        judge = LLMJudge(base_url=a.endpoint, model=a.model, scale=a.scale, concurrency=a.concurrency)
        scored = judge.score_many([d.text for d in docs])
        who = f"llm:{a.model}"
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for d, (score, reply) in zip(docs, scored):
            f.write(json.dumps({"id": d.id, "text": d.text, "score": score, "annotator": who, "scale": a.scale,
                                "reply": reply}) + "\n")
    os.replace(tmp, a.out)
    missing = sum(s is None for s, _ in scored)
    print(f"annotated {len(docs)} documents -> {a.out} ({missing} replies without a score, kept with score null)")
    return 0


if __name__ == "__main__":
    script_entry(main)

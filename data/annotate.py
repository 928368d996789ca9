"""Step 1 of the edu-classifier method: score a sample of documents with an LLM judge (or offline).

Usage:
    # an existing OpenAI-compatible server (vLLM, TGI, Inference Endpoints; key in $OPENAI_API_KEY if it needs one):
    python data/annotate.py --input fineweb-edu --scale edu --sample 450000 --out outputs/data/annotations/edu \
        --server endpoint --endpoint http://localhost:8000/v1 --model meta-llama/Llama-3.1-70B-Instruct
    # vLLM started by datatrove on each GPU node of a Slurm array (one 8-GPU server per task):
    python data/annotate.py --input fineweb-edu --scale edu --sample 450000 --out /shared/annotations/edu \
        --server vllm --model meta-llama/Llama-3.1-70B-Instruct --tp 8 --tasks 16 \
        --slurm --partition gpu --gpus-per-task 8 --cpus-per-task 32 --logging-dir /shared/logs
    # FineMath: the 3-point first pass, then the 5-point scale; Stack-Edu: --scale code on StarCoderData
    python data/annotate.py --input open-web-math --scale math3 ...    /    --scale math5 ...
    python data/annotate.py --input starcoderdata --language Java --scale code ...
    # offline (tiny recipe): surface heuristics, the same rows
    python data/annotate.py --input outputs/data/tiny/raw/prose --scale edu --sample 2000 --heuristic \
        --out outputs/data/annotations/edu-heuristic

--input is a local jsonl folder or a Hub source name (data/README.md lists them); --sample N reads the first
N documents, split evenly over --tasks. --out is a folder of jsonl files, one row per document
{id, text, score, annotator, scale, reply} (train_classifier.py reads the folder); a reply without a score
keeps score null and is counted. The judge runs through datatrove's inference runner
(smolrecipe.data.inference): rows are written as the run goes, and the same command after a crash, a kill
or a Slurm preemption resumes where it stopped without sending the finished requests again.
"""
import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from smolrecipe.data import executor, inference  # noqa: E402
from smolrecipe.data.annotate import SCALES, HeuristicAnnotator, annotation_row, judge_rollout  # noqa: E402
from smolrecipe.data.readers import reader_for  # noqa: E402
from smolrecipe.errors import RecipeError  # noqa: E402


def rows_without_score(folder: str) -> tuple[int, int]:
    """(rows, rows whose score is null) in a local output folder."""
    rows = missing = 0
    for f in sorted(Path(folder).glob("*.jsonl")):
        for line in f.open(encoding="utf-8"):
            if line.strip():
                rows += 1
                missing += json.loads(line).get("score") is None
    return rows, missing


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", required=True, help="local jsonl folder or Hub source name")
    p.add_argument("--language", default=None, help="language for starcoderdata")
    p.add_argument("--hub-mirror", default=None, help="read Hub sources from a local folder laid out as <repo>/<path>")
    p.add_argument("--scale", choices=sorted(SCALES), default="edu")
    p.add_argument("--sample", type=int, default=2000, help="documents to annotate (the first N read) [%(default)s]")
    p.add_argument("--out", required=True, help="output folder (jsonl files)")
    p.add_argument("--heuristic", action="store_true", help="offline heuristic annotator instead of an LLM")
    p.add_argument("--max-chars", type=int, default=6000, help="characters of each document the judge sees [%(default)s]")
    inference.add_inference_args(p, max_tokens=300, temperature=0.0)
    executor.add_executor_args(p, tasks=1)
    a = p.parse_args()
    if not a.heuristic and not a.server:
        raise RecipeError("choose the judge", field="--server",
                          fix="--server endpoint --endpoint URL --model NAME (or vllm/sglang on a GPU node), or --heuristic")
    if a.sample < 1:
        raise RecipeError(f"--sample {a.sample} would annotate nothing", field="--sample", fix="e.g. --sample 2000")
    steps = [reader_for(a.input, limit=math.ceil(a.sample / a.tasks), language=a.language, hub_mirror=a.hub_mirror)]
    if a.heuristic:
        steps += [HeuristicAnnotator(a.scale),
                  JsonlWriter(a.out, output_filename="${rank}.jsonl", compression=None, adapter=annotation_row)]
        config = executor.script_config(a, drop=(*inference.EXECUTION_ONLY, "server", "model", "max_tokens",
                                                 "temperature", "records_per_chunk", "model_max_context"))
        stats = executor.run(steps, a, "annotate", reads=[a.input], writes=[a.out], config=config)
    else:
        context = {"scale": a.scale, "annotator": f"llm:{a.model}", "max_chars": a.max_chars}
        stats = inference.run(steps, judge_rollout, a, "annotate", output=a.out, reads=[a.input],
                              config=inference.key_config(a), shared_context=context, adapter=annotation_row)
    for line in inference.summary(stats):
        print(line)
    if stats and "://" not in a.out:
        rows, missing = rows_without_score(a.out)
        print(f"annotated {rows} documents -> {a.out} ({missing} replies without a score, kept with score null)")
    return 0


if __name__ == "__main__":
    executor.script_entry(main)

"""SmolTalk-style synthetic SFT data (smol-rewrite, smol-summarize, smol-constraints) from seed documents or prompts.

Usage:
    # rewrites and summaries of seed documents, with an existing OpenAI-compatible server:
    python data/smoltalk.py --subset rewrite --input fineweb-edu --sample 60000 \
        --server endpoint --endpoint http://localhost:8000/v1 --model Qwen/Qwen2.5-72B-Instruct
    python data/smoltalk.py --subset summarize --input fineweb-edu --sample 100000 --server endpoint ...
    # constraint following from a folder of seed prompts ({"id", "text": the prompt} per line), vLLM on Slurm:
    python data/smoltalk.py --subset constraints --input prompts/ --server vllm --model Qwen/Qwen2.5-72B-Instruct \
        --tp 8 --tasks 8 --slurm --partition gpu --gpus-per-task 8 --cpus-per-task 32 --logging-dir /shared/logs
    # the whole pipeline without a model (datatrove's dummy server answers every request the same way):
    python data/smoltalk.py --subset rewrite --input outputs/data/tiny/raw/prose --sample 50 --server dummy --model dummy

Writes <out> (default outputs/data/smoltalk/<subset>): jsonl files of {"messages": [...], "subset", "variant",
"seed_id"}, TRL's conversational format. An SFT recipe reads them with
    datasets:
      - path: json
        data_files: outputs/data/smoltalk/rewrite/*.jsonl
        columns: [messages]
Generations cut at --max-tokens, empty, or (constraints) not following their instruction are dropped and
counted. The run goes through datatrove's inference runner: rows are written as it goes, and the same command
after a crash or a kill resumes without asking the model again for what it already answered.
"""
import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from smolrecipe.data import executor, inference  # noqa: E402
from smolrecipe.data.readers import reader_for  # noqa: E402
from smolrecipe.data.smoltalk import SUBSETS, conversation_row, smoltalk_rollout  # noqa: E402
from smolrecipe.errors import RecipeError  # noqa: E402
from smolrecipe.paths import resolve  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subset", choices=SUBSETS, required=True)
    p.add_argument("--input", required=True, help="seed documents (rewrite, summarize) or prompts (constraints): "
                                                  "a local jsonl folder or a Hub source name")
    p.add_argument("--hub-mirror", default=None, help="read Hub sources from a local folder laid out as <repo>/<path>")
    p.add_argument("--sample", type=int, default=1000, help="seeds to use (the first N read) [%(default)s]")
    p.add_argument("--out", default=None, help="output folder [outputs/data/smoltalk/<subset>]")
    p.add_argument("--max-chars", type=int, default=6000, help="characters of each seed sent [%(default)s]")
    inference.add_inference_args(p, max_tokens=1024, temperature=0.7)
    executor.add_executor_args(p, tasks=1)
    a = p.parse_args()
    if a.sample < 1:
        raise RecipeError(f"--sample {a.sample} would generate nothing", field="--sample", fix="e.g. --sample 1000")
    a.out = a.out or str(resolve(f"outputs/data/smoltalk/{a.subset}"))
    steps = [reader_for(a.input, limit=math.ceil(a.sample / a.tasks), hub_mirror=a.hub_mirror)]
    stats = inference.run(steps, smoltalk_rollout, a, f"smoltalk-{a.subset}", output=a.out, reads=[a.input],
                          config=inference.key_config(a), shared_context={"subset": a.subset, "max_chars": a.max_chars},
                          adapter=conversation_row)
    for line in inference.summary(stats):
        print(line)
    if stats and "://" not in a.out:
        rows = sum(f.read_bytes().count(b"\n") for f in Path(a.out).glob("*.jsonl"))
        print(f"smol-{a.subset}: {rows} conversations -> {a.out} (failed rollouts = generations dropped: cut at "
              f"--max-tokens, empty, or the instruction not followed)")
    return 0


if __name__ == "__main__":
    executor.script_entry(main)

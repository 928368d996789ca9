"""Evaluation: the tiny suite end to end, and lighteval's log-likelihood throughput against a plain batched loop.

Usage: python benchmarks/bench_eval.py [--model outputs/checkpoints/tiny-long-context/400] [--rounds 3]
       (or: python benchmarks/run.py eval; needs the tiny base model: make demo, or any checkpoint via --model)

1. `make eval SUITE=tiny` as a user waits for it: a fresh process running `python -m smolrecipe eval --force`
   (imports, lighteval's task registry, data, the three tasks, table), wall time on all threads; the goal is
   under 60 s on 2 cores.
2. Throughput: lighteval 0.13's TransformersModel log-likelihood path (`_loglikelihood_tokens`, the work behind
   `loglikelihood` without its sample cache) against smolrecipe.evaluation.loop.choice_logprobs on the same
   documents (the tiny suite's 270 choice items and 200 math solutions), same model, same batch of 64 sequences.
   Process CPU time on one thread, interleaved rounds, best of each: the machine is shared, and a single-threaded
   job's CPU time barely moves when a neighbour is busy. Prints `RESULT ...` lines with the CPU model.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tiny_documents():
    spec = importlib.util.spec_from_file_location("bench_tasks", ROOT / "evaluation" / "tasks.py")
    T = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(T)
    data = ROOT / "evaluation" / "data" / "tiny"
    chat = [T.tiny_chat_mc(json.loads(x)) for x in (data / "chat" / "test.jsonl").read_text().splitlines()]
    math = [T.tiny_math_solution(json.loads(x)) for x in (data / "math" / "test.jsonl").read_text().splitlines()]
    return chat + math


def end_to_end(model: str, out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process, user + system) of one `smolrecipe eval --suite tiny`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.time()
    subprocess.run([sys.executable, "-m", "smolrecipe", "eval", "--model", model, "--suite", "tiny", "--out", str(out),
                    "--force"], cwd=ROOT, env=env, check=True, capture_output=True)
    wall = time.time() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="outputs/checkpoints/tiny-long-context/400")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from smolrecipe.evaluation.run import check_model, find_tokenizer
    from smolrecipe.paths import user_path

    os.chdir(ROOT)
    model_dir = check_model(user_path(args.model))
    tok_dir = find_tokenizer(model_dir, None)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; model {model_dir}")

    with tempfile.TemporaryDirectory() as tmp:
        runs = [end_to_end(args.model, Path(tmp) / f"e2e{i}") for i in range(2)]
    walls, cpus = [w for w, _ in runs], [c for _, c in runs]
    print(f"RESULT tiny_suite_wall_seconds: {min(walls):.1f} (best of {len(walls)}: {', '.join(f'{w:.1f}' for w in walls)}; "
          f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"RESULT tiny_suite_cpu_seconds: {min(cpus):.1f} (user + system, all threads; a quiet 2-core machine waits "
          f"about this divided by 1-2)")

    import torch
    from lighteval.models.transformers.transformers_model import TransformersModel, TransformersModelConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from smolrecipe.evaluation.loop import choice_logprobs

    torch.set_num_threads(1)
    docs = tiny_documents()
    tokenizer = AutoTokenizer.from_pretrained(tok_dir)
    hf_model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TransformersModelConfig(model_name=str(model_dir), tokenizer=str(tok_dir), batch_size=64, device="cpu",
                                      dtype="float32", override_chat_template=False, cache_dir=tmp)
        lighteval_model = TransformersModel(cfg)
    tokens = sum(len(tokenizer(d.query + c)["input_ids"]) for d in docs for c in d.choices)

    def run_lighteval():
        return [r.logprobs for r in lighteval_model._loglikelihood_tokens(docs)]

    def run_loop():
        return choice_logprobs(hf_model, tokenizer, [d.query for d in docs], [list(d.choices) for d in docs],
                               batch_size=64)

    times = {"lighteval": [], "loop": []}
    for _ in range(args.rounds):
        for name, fn in (("lighteval", run_lighteval), ("loop", run_loop)):
            t = time.process_time()
            fn()
            times[name].append(time.process_time() - t)
    best = {k: min(v) for k, v in times.items()}
    print(f"RESULT loglikelihood_throughput_ratio: {best['loop'] / best['lighteval']:.2f} (lighteval / plain loop, "
          f"tokens per CPU-second: lighteval {tokens / best['lighteval']:,.0f}, loop {tokens / best['loop']:,.0f}; "
          f"{len(docs)} docs, {tokens:,} tokens, 1 thread, best of {args.rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

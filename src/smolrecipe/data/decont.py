"""N-gram decontamination: remove training documents that share an n-gram with an evaluation set.

    build_index(index_dir, benchmark_files=[...], lighteval_tasks=["gsm8k|5", ...])   # once
    NGramsDecontFilter(index_dir, config=...)                                          # in each pipeline
    report(stats) -> {benchmark: documents removed}

The index holds hashes of the n-grams of each benchmark's gold answer and of the windows that straddle
question and answer (datatrove's defaults), so a training document that quotes a test problem with its
solution is caught. FineMath used 13-grams against GSM8K, MATH, MMLU and ARC (SmolLM2 paper; REFERENCE.md
section 3), hence n = 13 here. Derived choice: numbers are NOT normalised (datatrove maps every digit to
0 by default). Measured on GSM8K: with digits normalised, 462 of the 7,473 train problems (6.2%) share a
13-gram with the test set (templated arithmetic like "0 * 0 = 0"), without it 7 (0.09%), while planted
test problems are still all found.

Benchmarks come from lighteval tasks (the evaluation suites; needs their data sets, i.e. the Hub or a
cache) and from local jsonl files, one benchmark per file, named after the file: fields question/query/
prompt/input for the question and answer/gold/target/completion for the gold (or `choices` + `gold`
index). datatrove's NGramsDecontIndexer calls a lighteval API removed in 0.13
(`Registry(cache_dir=...)`), so `BenchmarkIndexer` builds the index with `Registry(tasks=...,
custom_tasks=...).load_tasks()` and `task.eval_docs()` instead.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from datatrove.pipeline.decont import NGramsDecontConfig, NGramsDecontFilter
from datatrove.pipeline.decont.n_grams import NGramsDecontIndexer

from smolrecipe.errors import RecipeError

QUERY_KEYS = ("question", "query", "prompt", "input", "problem", "ctx")
GOLD_KEYS = ("answer", "gold", "target", "completion", "solution", "output")

__all__ = ["BenchmarkIndexer", "NGramsDecontFilter", "NGramsDecontConfig", "build_index", "benchmark_pairs",
           "report", "default_config"]


def default_config(*, n_grams: int = 13, normalise_numbers: bool = False) -> NGramsDecontConfig:
    cfg = NGramsDecontConfig(n_grams=n_grams, find_query_ngrams=False, find_overlap_ngrams=True)
    cfg.norm_config.norm_numbers = normalise_numbers
    return cfg


def benchmark_pairs(path: Path) -> list[tuple[str | None, str]]:
    """(question, gold) pairs of a local benchmark jsonl file; errors name the line and the fields expected."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError("benchmark file not found", file=str(path), fix="pass an existing .jsonl file with --benchmark")
    pairs = []
    with open(path, "rb") as f:
        for k, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise RecipeError(f"line {k} is not UTF-8 text ({e.reason} at byte {e.start})", file=str(path),
                                  field="--benchmark", fix="re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)") from None
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise RecipeError(f"line {k} is not JSON ({e.msg})", file=str(path), fix="fix or drop that line") from None
            if not isinstance(d, dict):
                raise RecipeError(f"line {k} is a JSON {type(d).__name__}, not an object", file=str(path),
                                  fix="one object per line with question/answer (or query/choices/gold) fields")
            query = next((d[q] for q in QUERY_KEYS if isinstance(d.get(q), str)), None)
            gold = next((d[g] for g in GOLD_KEYS if isinstance(d.get(g), str)), None)
            if gold is None and isinstance(d.get("choices"), list) and isinstance(d.get("gold"), int):
                gold = d["choices"][d["gold"]] if 0 <= d["gold"] < len(d["choices"]) else None
            if gold is None and "text" in d:
                gold = d["text"]
            if gold is None:
                raise RecipeError(f"line {k} has no gold field", file=str(path), field=f"one of {', '.join(GOLD_KEYS)}",
                                  fix="rename the answer field, or give choices + gold index")
            pairs.append((query, gold))
    return pairs


class BenchmarkIndexer(NGramsDecontIndexer):
    """datatrove's n-gram indexer with local benchmark files and the lighteval 0.13 task API."""

    name = "💥 N-grams index (local files + lighteval 0.13)"

    def __init__(self, output_folder, *, benchmark_files=(), lighteval_tasks=None, custom_tasks=None, config=None):
        super().__init__(output_folder, lighteval_tasks=lighteval_tasks, custom_lighteval_tasks=custom_tasks,
                         config=config or default_config())
        self.benchmark_files = [Path(p) for p in benchmark_files]

    def collect(self) -> dict[str, set[int]]:
        hashes: dict[str, set[int]] = defaultdict(set)
        for path in self.benchmark_files:
            for query, gold in benchmark_pairs(path):
                hashes[path.stem].update(self.compute_hashes(gold, query))
        if self.lighteval_tasks:
            from lighteval.tasks.registry import Registry

            tasks = Registry(tasks=",".join(self.lighteval_tasks), custom_tasks=self.custom_lighteval_tasks).load_tasks()
            for name, task in tasks.items():
                for doc in task.eval_docs():
                    for gold in doc.get_golds():
                        hashes[name.replace("|", "_")].update(self.compute_hashes(gold, doc.query))
        return hashes

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        if world_size != 1:
            raise ValueError("the decontamination index is built by a single task")
        for name, task_hashes in self.collect().items():
            arr = np.array(sorted(task_hashes), dtype=self.config.hash_config.np_descr)
            self.stat_update(f"ngrams_{name}", value=len(arr))
            with self.output_folder.open(f"{name.replace(' ', '_')}.index.hashes", mode="wb") as f:
                f.write(arr.tobytes())


def build_index(index_dir: Path, *, benchmark_files=(), lighteval_tasks=None, custom_tasks=None,
                config: NGramsDecontConfig | None = None) -> dict[str, int]:
    """Build the index in-process (one task, seconds for local files); returns n-grams per benchmark."""
    if not benchmark_files and not lighteval_tasks:
        raise RecipeError("no benchmark to decontaminate against", field="--benchmark / --lighteval-tasks",
                          fix="pass at least one benchmark jsonl file or lighteval task")
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    for old in index_dir.glob("*.index.hashes"):
        old.unlink()  # a stale benchmark's hashes would keep removing documents
    idx = BenchmarkIndexer(str(index_dir), benchmark_files=benchmark_files, lighteval_tasks=lighteval_tasks,
                           custom_tasks=custom_tasks, config=config)
    idx.run()
    return {f.name.removesuffix(".index.hashes"): f.stat().st_size // 8 for f in sorted(index_dir.glob("*.index.hashes"))}


def report(stats: dict) -> dict[str, int]:
    """{benchmark: documents removed} from the merged stats of a run with NGramsDecontFilter."""
    out: dict[str, int] = {}
    for step, values in stats.items():
        for key, v in values.items():
            if key.startswith("contaminated_") and not key.startswith("contaminated_tg_"):
                name = key.removeprefix("contaminated_")
                out[name] = out.get(name, 0) + int(v)
    return out

"""Training data for SFT and DPO: the tiny recipe's generated chats, and decontamination of every training set.

    write_tiny_chat_data()                 # outputs/data/tiny/chat/{sft,dpo}-train.jsonl (deterministic, train split only)
    rows = load_rows(source, step)         # one training source (local json or a Hub data set) as dicts
    kept, report = decontaminate(rows, step, index_dir)

Decontamination runs on the plain message contents, not on the ChatML-rendered text: the markup
(`<|im_end|>\\n<|im_start|>user\\n`) sits between the turns and breaks every n-gram that spans two messages, and
datatrove's word tokenizer splits it into several words, so a rendered conversation hides overlaps that its
contents show. Two checks, each reported per benchmark: datatrove's 13-gram filter (the project's step, as for
pretraining data), and an exact match of each user turn against the benchmark questions, which catches the short
prompts (a tiny task is 5-10 words) that no 13-gram can.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from smolrecipe.data.chat import message_problem
from smolrecipe.errors import RecipeError
from smolrecipe.paths import outputs_dir, repo_root, shown
from smolrecipe.publish import atomic_write_text

TINY_SFT_ITEMS = 4000
TINY_DPO_ITEMS = 800


def tiny_chat_dir() -> Path:
    return outputs_dir() / "data" / "tiny" / "chat"


def benchmark_files() -> list[Path]:
    """The evaluation data shipped with the repository: the tiny suite and GSM8K's test set."""
    ev = repo_root() / "evaluation" / "data"
    return [p for p in (ev / "tiny" / "chat" / "test.jsonl", ev / "tiny" / "math" / "test.jsonl",
                        ev / "gsm8k" / "test.jsonl") if p.is_file()]


def _jsonl(rows) -> str:
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)


def write_tiny_chat_data() -> dict[str, Path]:
    """The tiny recipe's SFT chats and DPO pairs from train prompts (the held-out ones never appear); a file is
    rewritten only when its content changes, so a rerun keeps the run key of what it trains on."""
    from smolrecipe.data.tiny_tasks import chat, generate, preference

    files = {"sft": _jsonl(chat(it) for it in generate("train", TINY_SFT_ITEMS)),
             "dpo": _jsonl(preference(it, pick=k) for k, it in enumerate(generate("train", TINY_DPO_ITEMS, seed=1)))}
    out = {}
    for step, text in files.items():
        path = tiny_chat_dir() / f"{step}-train.jsonl"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text)
        out[step] = path
    return out


# ------------------------------------------------------------------------------------------------ reading
def row_problem(row: dict, step: str) -> str | None:
    """Why `row` is not a training row of `step` (TRL's conversational format), or None."""
    if step == "sft":
        if "messages" not in row:
            return "has no `messages` column"
        problem = message_problem(row["messages"])
        if problem is None and not any(m["role"] == "assistant" and m["content"] for m in row["messages"]):
            problem = "has no assistant turn: its loss mask would be all zero (nothing to train on)"
        return problem
    for col in ("chosen", "rejected"):
        if col not in row:
            return f"has no `{col}` column"
        if isinstance(row[col], list) and message_problem(row[col]):
            return f"`{col}`: {message_problem(row[col])}"
    return None


def read_local_jsonl(path: Path, step: str, field: str, config: Path) -> list[dict]:
    if not path.is_file():
        raise RecipeError("training data file not found", file=str(path), field=field,
                          fix="make the file first (make sft RECIPE=tiny writes the tiny one), or fix data_files")
    rows = []
    for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise RecipeError(f"line {k} is not JSON ({e.msg})", file=str(path), field=field, fix="fix or drop that line") from None
        problem = row_problem(row, step) if isinstance(row, dict) else "is not a JSON object"
        if problem:
            need = "messages" if step == "sft" else "chosen, rejected (and optionally prompt)"
            raise RecipeError(f"line {k} {problem}", file=str(path), field=field,
                              fix=f"trl {step} needs rows with {need} in TRL's conversational format "
                                  f"(lists of {{role, content}}), as in {shown(config)}'s data")
        rows.append(row)
    if not rows:
        raise RecipeError("the training data file is empty", file=str(path), field=field, fix="write some rows first")
    return rows


def local_data_files(source: dict, config: Path) -> list[Path]:
    """The files of a local json source, its glob patterns expanded (as `datasets` does: `dir/*.jsonl`), in order."""
    from smolrecipe.paths import resolve

    names = source["data_files"] if isinstance(source["data_files"], list) else [source["data_files"]]
    files = []
    for name in map(str, names):
        if not any(c in name for c in "*?["):
            files.append(resolve(name))
            continue
        pattern = resolve(name)
        matched = sorted(p for p in pattern.parent.glob(pattern.name) if p.is_file())
        if not matched:
            raise RecipeError(f"the pattern {name} matches no file", file=str(config),
                              field=f"{source['field']}.data_files", fix="write the data first, or fix the pattern")
        files.extend(matched)
    return files


def load_rows(source: dict, step: str, config: Path) -> list[dict]:
    """All rows of one training source: a local json/jsonl file, or a data set by name (Hub or local folder)."""
    if source["path"] == "json" and source["data_files"]:
        return [r for f in local_data_files(source, config)
                for r in read_local_jsonl(f, step, f"{source['field']}.data_files", config)]
    from datasets import load_dataset

    ds = load_dataset(source["path"], name=source["name"], data_files=source["data_files"], split=source["split"])
    cols = source["columns"] or list(ds.column_names)
    missing = [c for c in ("messages",) if step == "sft" and c not in ds.column_names] + \
              [c for c in ("chosen", "rejected") if step == "dpo" and c not in ds.column_names]
    if missing:
        raise RecipeError(f"{source['path']} ({source['split']}) has no column {missing}, only {ds.column_names}",
                          file=str(config), field=source["field"], fix="pick a data set in TRL's conversational format")
    return [{c: row[c] for c in cols} for row in ds]


# ------------------------------------------------------------------------------------------------ decontamination
def _contents(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [m["content"] for m in value if isinstance(m, dict) and isinstance(m.get("content"), str)]
    return []


def row_texts(row: dict) -> tuple[str, list[str]]:
    """(all message contents joined, the user turns) of an SFT or DPO row."""
    parts, users = [], []
    for col in ("messages", "prompt", "chosen", "rejected"):
        value = row.get(col)
        parts += _contents(value)
        if isinstance(value, list):
            users += [m["content"] for m in value if isinstance(m, dict) and m.get("role") == "user"]
        elif col == "prompt" and isinstance(value, str):
            users.append(value)
    return "\n".join(parts), users


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def benchmark_name(f: Path) -> str:
    """evaluation/data/tiny/chat/test.jsonl -> tiny_chat, evaluation/data/gsm8k/test.jsonl -> gsm8k."""
    ev = repo_root() / "evaluation" / "data"
    if f.resolve().is_relative_to(ev.resolve()) and f.stem == "test":
        return "_".join(f.resolve().relative_to(ev.resolve()).parent.parts)
    return f.stem


def benchmark_questions(files: list[Path]) -> dict[str, str]:
    """{normalised question: benchmark name} of the local benchmark files."""
    from smolrecipe.data.decont import benchmark_pairs

    out = {}
    for f in files:
        name = benchmark_name(f)
        for query, _ in benchmark_pairs(f):
            if query:
                out[_norm(query)] = name
    return out


def index_files(index_dir: Path, files: list[Path]) -> None:
    """datatrove n-gram index of the benchmark files (seconds), rebuilt when they change."""
    from smolrecipe.data.decont import build_index
    from smolrecipe.runkey import fingerprint

    marker = index_dir / "benchmarks.json"
    spec = {benchmark_name(f): fingerprint(f) for f in files}
    if marker.is_file() and json.loads(marker.read_text()) == spec:
        return
    # datatrove names a benchmark after its file: link each one under its own name (they are all test.jsonl)
    named = index_dir / "benchmarks"
    named.mkdir(parents=True, exist_ok=True)
    for old in named.iterdir():
        old.unlink()
    for f in files:
        (named / f"{benchmark_name(f)}.jsonl").symlink_to(f.resolve())
    build_index(index_dir, benchmark_files=sorted(named.iterdir()))
    atomic_write_text(marker, json.dumps(spec, indent=1))


def decontaminate(rows: list[dict], index_dir: Path, files: list[Path] | None = None) -> tuple[list[dict], dict]:
    """(rows that overlap no benchmark, report): 13-gram overlap on the contents, exact match on the user turns."""
    from datatrove.data import Document
    from loguru import logger

    from smolrecipe.data.decont import NGramsDecontFilter, default_config

    logger.disable("datatrove")  # its per-file INFO lines; the report below says what matters

    files = benchmark_files() if files is None else files
    index_files(index_dir, files)
    questions = benchmark_questions(files)
    flt = NGramsDecontFilter(str(index_dir), config=default_config())
    kept, by_ngram, by_prompt = [], {}, {}
    for k, row in enumerate(rows):
        text, users = row_texts(row)
        hit = next((questions[_norm(u)] for u in users if _norm(u) in questions), None)
        if hit:
            by_prompt[hit] = by_prompt.get(hit, 0) + 1
            continue
        doc = Document(text=text, id=str(k))
        result = flt.filter(doc)
        if result is not True:
            task = doc.metadata.get("contaminated_task", "?")
            by_ngram[task] = by_ngram.get(task, 0) + 1
            continue
        kept.append(row)
    report = {"rows": len(rows), "kept": len(kept), "removed_13gram": by_ngram, "removed_exact_prompt": by_prompt,
              "benchmarks": [benchmark_name(f) for f in files],
              "text": "message contents (not the rendered chat template)"}
    return kept, report


def describe(report: dict) -> str:
    removed = sum(report["removed_13gram"].values()) + sum(report["removed_exact_prompt"].values())
    detail = ", ".join(f"{k} {v}" for k, v in {**report["removed_13gram"], **report["removed_exact_prompt"]}.items())
    return (f"decontamination: {report['rows']:,} rows, {removed} removed{' (' + detail + ')' if detail else ''} "
            f"[13-grams of the contents and exact user turns vs {', '.join(report['benchmarks'])}]")

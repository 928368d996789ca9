"""`make data RECIPE=tiny`: every data step of the recipe at toy size, offline, into outputs/data/tiny/.

    raw/            local corpus (local_corpus): prose, code, math, textbooks, long + benchmarks/tiny-math.jsonl
    annotations/    heuristic annotations (the offline stand-in for the LLM judge): edu, code, math5
    classifiers/    edu (prose), code-python (Stack-Edu style), math (FineMath style, 5-point)
    decont-index/   13-gram hashes of the benchmarks
    clean/prose     prose after the heuristic filters and decontamination; dedup/prose after MinHash
    clean/code, clean/math   decontaminated once, read by code and code-edu, math and math-edu
    scored/         documents each classifier kept, with their scores in metadata (for inspection)
    tokenized/      one DocumentTokenizer folder per source the tiny configs name
    logs/           datatrove logs, stats and completion markers, one folder per keyed run (<step>-<run key>)
    REPORT.json     per source: documents read, kept, removed (by reason), bad input skipped, tokens

Sources -> folders (the SmolLM2 source each stands in for):
    web-edu  prose, filtered, deduplicated, edu classifier >= 3        (FineWeb-Edu)
    web      prose, filtered, deduplicated                              (DCLM)
    code     standard-library Python files                              (StarCoderData)
    code-edu code, code classifier >= 3 (Python; Java would use 2)     (Stack-Edu)
    math     generated problems, all styles                             (OpenWebMath)
    math-edu generated problems, math classifier >= 4 on the 5-point scale (FineMath 4+)
    textbooks interpreter documentation topics                          (Cosmopedia v2)
    long     whole standard-library modules over 12 kB                  (long documents, context extension)
Every source is decontaminated against the benchmarks.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import random
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from datatrove.pipeline.tokens import DocumentTokenizer
from datatrove.pipeline.writers import JsonlWriter

from smolrecipe.data import classifier, decont, dedup, executor, local_corpus
from smolrecipe.data.annotate import heuristic_score
from smolrecipe.data.filters import web_filters
from smolrecipe.data.readers import SafeJsonlReader, bad_input_summary
from smolrecipe.data.tokenize import (check_tokenizer, folder_tokens, recorded_name, tokenizer_step,
                                      write_tokenizer_record)
from smolrecipe.errors import RecipeError
from smolrecipe.publish import atomic_write_text
from smolrecipe.runkey import run_key

SOURCES = ("web-edu", "web", "code", "code-edu", "math", "math-edu", "textbooks", "long")
STANDS_FOR = {"web-edu": "FineWeb-Edu", "web": "DCLM", "code": "StarCoderData", "code-edu": "Stack-Edu",
              "math": "OpenWebMath", "math-edu": "FineMath 4+", "textbooks": "Cosmopedia v2",
              "long": "long documents (context extension)"}
NOT_SETTINGS = {"batch_size", "threads", "num_workers", "seed", "language", "compression", "text_key", "id_key"}
# classifier name -> (annotated source, scale, threshold, annotation sample size, epochs). A classifier's training
# time is its number of updates (batches of 32, at least 150: classifier.train), not its sample size, so each gets
# as many distinct annotations as it can use in about 150 updates: edu 2,400 documents twice, code every standard-
# library module (the code classifier learns from more files than the capped training corpus holds), math 1,000.
CLASSIFIERS = {"edu": ("prose", "edu", 3, 2400, 2), "code-python": ("all-modules", "code", 3, 600, 4),
               "math": ("math", "math5", 4, 1000, 3)}


# Pipelines whose two tasks each take under a second of work at tiny size run them one after the other in this
# process: two worker processes would first spend 1-3 s each importing datatrove, spaCy (decontamination's word
# tokenizer) or torch (a classifier) again. Measured on 2 cores: textbooks 3 s -> 1 s, code-edu 4 -> 3, long 3 -> 2, MinHash 10 -> 6.
# prose-clean, web-edu, math-edu and code-clean (1.6-16 s per task) keep one worker per task.
IN_PROCESS = {"math-clean", "web", "code", "code-edu", "math", "textbooks", "long"}


def _sample_raw(folder: Path, n: int, seed: int = 0) -> list[dict]:
    import gzip

    if folder.name == "all-modules":  # every standard-library module, not only the part the code folder keeps
        docs = list(local_corpus.all_module_docs())
    else:
        docs = []
        for f in sorted(folder.glob("*.jsonl.gz")):
            with gzip.open(f, "rt", encoding="utf-8") as fh:
                docs.extend(json.loads(line) for line in fh)
    random.Random(seed).shuffle(docs)
    return docs[:n]


def annotate_and_train(root: Path, tokenizer_file: str, log=print, names=tuple(CLASSIFIERS)) -> dict:
    """Heuristic annotations -> one classifier per domain, retrained only when its inputs changed (run key)."""
    infos = {}
    for name in names:
        raw, scale, threshold, n, epochs = CLASSIFIERS[name]
        out = root / "classifiers" / name
        key = run_key(f"classifier-{name}", reads=[tokenizer_file, root / "raw" / raw],
                      config={"scale": scale, "threshold": threshold, "sample": n, "epochs": epochs})
        if (out / "classifier.json").is_file():
            info = json.loads((out / "classifier.json").read_text())
            if info.get("run_key") == key:
                infos[name] = info
                continue
            log(f"  classifier {name}: its tokenizer or corpus changed since it was trained: retraining")
        ann = root / "annotations" / f"{name}.jsonl"
        lines = [json.dumps({"id": d["id"], "text": d["text"], "score": heuristic_score(d["text"], scale),
                             "annotator": "heuristic", "scale": scale}) for d in _sample_raw(root / "raw" / raw, n)]
        atomic_write_text(ann, "\n".join(lines) + "\n")
        t = time.time()
        infos[name] = classifier.train(ann, out, tokenizer_file=Path(tokenizer_file), threshold=threshold, scale=scale,
                                       epochs=epochs, threads=1, extra_info={"run_key": key})
        v = infos[name]["val"]
        log(f"  classifier {name}: F1 {v['f1']:.3f} at threshold {threshold} (precision {v['precision']:.3f}, "
            f"recall {v['recall']:.3f}, {infos[name]['n_train']} train / {v['n']} val docs, {time.time() - t:.0f} s)")
    return infos


# The raw corpus and the classifiers trained on it, as two independent chains so that both cores work (each
# classifier trains on one thread): prose and the edu classifier, the longest pair, in one; the other sources and
# the code and math classifiers in the other. Every later step needs all of them, so nothing else overlaps.
CHAINS = ((("prose",), ("edu",)), (("code", "math", "textbooks", "long"), ("code-python", "math")))


def _raw_and_classifiers_chain(root: Path, tokenizer_file: str, sources, classifiers) -> tuple[dict, dict, list[str]]:
    lines: list[str] = []
    t = time.time()
    counts = local_corpus.build(root / "raw", sources=sources)
    lines.append("  " + ", ".join(f"{k} {v} docs" for k, v in counts.items()) + f" ({time.time() - t:.0f} s)")
    infos = annotate_and_train(root, tokenizer_file, lines.append, names=classifiers)
    return counts, infos, lines


def raw_and_classifiers(root: Path, tokenizer_file: str, log=print) -> tuple[dict, dict]:
    """Build the raw corpus and train the classifiers, the two chains in parallel on a machine with 2+ cores."""
    counts, infos = {}, {}

    def take(result):
        c, i, lines = result
        counts.update(c)
        infos.update(i)
        for line in lines:
            log(line)

    if (os.cpu_count() or 1) < 2:
        for chain in CHAINS:
            take(_raw_and_classifiers_chain(root, tokenizer_file, *chain))
    else:  # spawn, not fork: the parent may hold torch's thread pool, which a forked child must not inherit
        with ProcessPoolExecutor(len(CHAINS), mp_context=multiprocessing.get_context("spawn")) as pool:
            for done in as_completed([pool.submit(_raw_and_classifiers_chain, root, tokenizer_file, *chain)
                                      for chain in CHAINS]):
                take(done.result())
    return ({k: counts[k] for k in local_corpus.RAW_SOURCES if k in counts},
            {k: infos[k] for k in CLASSIFIERS if k in infos})


def preflight(root: Path, tokenizer: str, benchmarks: list[Path]) -> str:
    """Everything that can be missing, checked before any work starts."""
    tok = check_tokenizer(tokenizer)
    if not local_corpus.stdlib_root().is_dir():
        raise RecipeError("the Python standard library sources are missing", file=str(local_corpus.stdlib_root()),
                          fix="install the python3 package with its .py sources (the tiny corpus is built from them)")
    for b in benchmarks:
        if not Path(b).is_file():
            raise RecipeError("benchmark file not found", file=str(b), field="--benchmark", fix="pass an existing jsonl file")
        decont.benchmark_pairs(Path(b))  # every line readable, before any work starts
    return tok


def build(root: Path, tokenizer: str, *, args: argparse.Namespace, benchmarks: list[Path] = (), log=print) -> dict:
    root = Path(root)
    tok = preflight(root, tokenizer, list(benchmarks))
    t0 = time.time()
    args.logging_dir = str(root / "logs")
    log(f"==> raw corpus -> {root / 'raw'}; annotate it (offline heuristic judge) and train the classifiers")
    _, infos = raw_and_classifiers(root, tok, log)
    log(f"  raw corpus and classifiers: {time.time() - t0:.0f} s")

    log("==> decontamination index")
    bench_files = [root / "raw" / "benchmarks" / "tiny-math.jsonl", *map(Path, benchmarks)]
    ngrams = decont.build_index(root / "decont-index", benchmark_files=bench_files)
    log("  " + ", ".join(f"{k}: {v} n-grams" for k, v in ngrams.items()))
    idx = str(root / "decont-index")

    def dc():
        return decont.NGramsDecontFilter(idx, config=decont.default_config())

    def clf(name, key, threshold=None):
        return classifier.EduClassifierFilter(root / "classifiers" / name, score_key=key, threshold=threshold)

    def reader(folder):
        return SafeJsonlReader(str(folder))

    def run(name, pipeline, reads, writes, config=None):
        # Keyed on content (smolrecipe.runkey): a changed benchmark set, classifier, tokenizer or upstream folder
        # starts this step fresh and replaces its outputs; an unchanged one resumes or skips it.
        t = time.time()
        stats = executor.run(pipeline, args, name, reads=[*reads, idx], writes=writes, config=config, overwrite=True,
                             workers=1 if name in IN_PROCESS else None,
                             report_bad_input=False, log=lambda m: log("  " + m))  # bad input is summarised at the end
        log(f"  {name}: {time.time() - t:.0f} s")
        return stats

    T = lambda name: str(root / "tokenized" / name)  # noqa: E731
    S = lambda name: str(root / "scored" / name)  # noqa: E731
    raw, prose = root / "raw", root / "dedup" / "prose"
    stats: dict[str, dict] = {}

    log("==> prose: heuristic filters + decontamination, then MinHash dedup")
    prose_steps = [reader(raw / "prose"), *web_filters(tiny=True), dc(),
                   JsonlWriter(str(root / "clean" / "prose"), compression="gzip")]
    stats["prose-clean"] = run("prose-clean", prose_steps, [raw / "prose"], [root / "clean" / "prose"])
    t_dedup = time.time()
    stats["prose-dedup"] = dedup.run_minhash(str(root / "clean" / "prose"), str(prose), str(root / "minhash" / "prose"),
                                             args, name="prose-dedup", report_bad_input=False, overwrite=True,
                                             light_stages_in_process=True,
                                             log=lambda m: log("  " + m))
    log(f"  prose-dedup: {time.time() - t_dedup:.0f} s")
    # code and math feed two folders each (all, and classifier-filtered): decontaminated once, into clean/
    for src in ("code", "math"):
        log(f"==> {src}: decontamination (shared by {src} and {src}-edu)")
        steps = [reader(raw / src), dc(), JsonlWriter(str(root / "clean" / src), compression="gzip")]
        stats[f"{src}-clean"] = run(f"{src}-clean", steps, [raw / src], [root / "clean" / src])
    clfs, code, math = root / "classifiers", root / "clean" / "code", root / "clean" / "math"
    pipelines = {  # name: (steps, reads besides the index, writes)
        "web": ([reader(prose), tokenizer_step(T("web"), tok)], [prose, tok], [T("web")]),
        "web-edu": ([reader(prose), clf("edu", "edu_score"), JsonlWriter(S("web-edu"), compression="gzip"),
                     tokenizer_step(T("web-edu"), tok)], [prose, clfs / "edu", tok], [S("web-edu"), T("web-edu")]),
        "code": ([reader(code), tokenizer_step(T("code"), tok)], [code, tok], [T("code")]),
        "code-edu": ([reader(code), clf("code-python", "edu_score"),
                      JsonlWriter(S("code-edu"), compression="gzip"), tokenizer_step(T("code-edu"), tok)],
                     [code, clfs / "code-python", tok], [S("code-edu"), T("code-edu")]),
        "math": ([reader(math), tokenizer_step(T("math"), tok)], [math, tok], [T("math")]),
        "math-edu": ([reader(math), clf("math", "math_score"),
                      JsonlWriter(S("math-edu"), compression="gzip"), tokenizer_step(T("math-edu"), tok)],
                     [math, clfs / "math", tok], [S("math-edu"), T("math-edu")]),
        "textbooks": ([reader(raw / "textbooks"), dc(), tokenizer_step(T("textbooks"), tok)], [raw / "textbooks", tok],
                      [T("textbooks")]),
        "long": ([reader(raw / "long"), dc(), tokenizer_step(T("long"), tok)], [raw / "long", tok], [T("long")]),
    }
    for name, (pipe, reads, writes) in pipelines.items():
        log(f"==> {name}")
        stats[name] = run(name, pipe, reads, writes, config={"metadata_names": recorded_name(tok)})
        write_tokenizer_record(T(name), tok)

    for src in ("code", "math"):  # each folder's report shows the decontamination it went through
        for name in (src, f"{src}-edu"):
            stats[name] = {**stats[f"{src}-clean"], **stats[name]}
    report = summarise(root, stats, infos, ngrams, tok)
    minhash = {k: v for k, v in dataclasses.asdict(dedup.minhash_config()).items() if isinstance(v, (int, float))}
    report["pipeline"] = {
        "prose-clean": {"input": "raw/prose", "steps": describe_steps(prose_steps)},
        "prose-dedup": {"input": "clean/prose", "steps": [{"step": "MinHash dedup", "settings": minhash}]},
        "code-clean": {"input": "raw/code", "steps": describe_steps([dc()])},
        "math-clean": {"input": "raw/math", "steps": describe_steps([dc()])},
        **{name: {"stands_for": STANDS_FOR[name], "input": str(reads[0].relative_to(root)),
                  "steps": describe_steps(pipe)} for name, (pipe, reads, _) in pipelines.items()}}
    report["seconds"] = round(time.time() - t0, 1)
    atomic_write_text(root / "REPORT.json", json.dumps(report, indent=2) + "\n")
    return report


def describe_steps(steps: list) -> list[dict]:
    """Each datatrove step by name with the settings it holds (thresholds, n-gram sizes, score keys): REPORT.json's
    `pipeline`, which the data set card shows. Paths are cut to their last part (no machine paths in a card);
    performance knobs are left out; readers and writers are I/O, not steps."""
    out = []
    for step in steps:
        if getattr(step, "type", "").startswith(("📖", "💽")):  # datatrove's reader / writer type tags
            continue
        settings = {k: (Path(v).name if isinstance(v, str) and "/" in v else v) for k, v in vars(step).items()
                    if not k.startswith("_") and k not in NOT_SETTINGS and isinstance(v, (bool, int, float, str))}
        cfg = getattr(step, "config", None)
        if dataclasses.is_dataclass(cfg):
            settings.update({k: v for k, v in dataclasses.asdict(cfg).items() if isinstance(v, (bool, int, float))})
        name = "✍️ Tokenize" if isinstance(step, DocumentTokenizer) else getattr(step, "name", "")  # datatrove calls it "Writer"
        out.append({"step": f"{name} ({type(step).__name__})".strip(), "settings": settings})
    return out


def _dropped(stats: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for step, values in stats.items():
        for key, v in values.items():
            if key.startswith("dropped_") or key.startswith("contaminated_") and not key.startswith("contaminated_tg"):
                out[f"{step.strip()}: {key}"] = int(v)
        if "dropped" in values and not any(k.startswith("dropped_") for k in values):
            out[f"{step.strip()}: dropped"] = int(values["dropped"])
    return out


def summarise(root: Path, stats: dict, infos: dict, ngrams: dict, tok: str) -> dict:
    sources = {}
    for name in SOURCES:
        tokens, tokenizer_name, files = folder_tokens(root / "tokenized" / name)
        s = stats.get(name, {})
        docs = sum(f.stat().st_size // 8 for f in (root / "tokenized" / name).glob("*.ds.index"))
        sources[name] = {"tokens": tokens, "documents": docs, "files": files, "tokenizer": tokenizer_name,
                         "removed": _dropped(s), "decontamination": decont.report(s),
                         "bad_input": bad_input_summary(s)}
    upstream = {k: {"removed": _dropped(v), "bad_input": bad_input_summary(v), "decontamination": decont.report(v)}
                for k, v in stats.items() if k.startswith("prose")}
    return {"tokenizer": tok, "sources": sources, "prose": upstream, "benchmarks": ngrams,
            "classifiers": {k: {"threshold": v["threshold"], "scale": v["scale"], **v["val"]} for k, v in infos.items()}}


def print_report(report: dict, log=print) -> None:
    log("")
    log(f"tokenized folders (tokenizer {report['tokenizer']}):")
    for name, s in report["sources"].items():
        log(f"  {name:<10} {s['tokens']:>10,} tokens  {s['documents']:>7,} docs  {s['files']} file(s)")
    stages = list(report["prose"].items()) + list(report["sources"].items())
    log("removed on the way (per folder and step):")
    for where, stage in stages:
        for k, v in stage["removed"].items():
            if "dropped_contaminated" not in k:  # the same documents appear as contaminated_<benchmark>
                log(f"  {v:>7,}  {where:<12} {k}")
    decon = [f"{b} {n} in {where}" for where, stage in stages for b, n in stage["decontamination"].items()]
    log("decontamination (documents removed per benchmark and folder): " + (", ".join(decon) or "none")
        + f"; benchmarks indexed: {', '.join(report['benchmarks'])}")
    bad = [f"{where}: {line}" for where, stage in stages for line in stage["bad_input"]]
    log("bad input: " + ("; ".join(bad) if bad else "none"))
    for k, c in report["classifiers"].items():
        log(f"classifier {k}: F1 {c['f1']:.3f} at threshold {c['threshold']} on {c['n']} held-out annotations")


def clean(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)

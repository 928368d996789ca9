"""The tiny recipe's raw corpus, from what exists on any machine with Python (offline, deterministic).

    prose      docstrings of the standard library and of the installed (pinned) site-packages, one document
               per module/class/function docstring, up to 8 MB (+ /usr/share/common-licenses paragraphs
               when present): the "web" stand-in. The stdlib alone gives ~1.7 MB, too little for the tiny
               run's ~1.3M web tokens at under 4-5 epochs (the SmolLM2 rule), hence the site-packages.
    code       standard-library .py files, one document per file: the StarCoderData stand-in
    math       generated worked problems (mathgen): the OpenWebMath stand-in
    textbooks  the interpreter's documentation topics (pydoc_data.topics): the Cosmopedia stand-in
    long       whole standard-library modules over 12 kB: long documents for the context extension
    benchmarks/tiny-math.jsonl   held-out generated problems that decontamination removes from training

Written as jsonl.gz shards, each file atomically (temp file + rename); a folder whose DONE file records the same
sizes is kept.
"""
from __future__ import annotations

import ast
import gzip
import json
import os
import shutil
import sysconfig
from functools import lru_cache
from pathlib import Path

from smolrecipe.data import mathgen
from smolrecipe.publish import atomic_write_text

SKIP_PARTS = ("test", "tests", "idlelib", "lib2to3", "site-packages", "__pycache__", "ensurepip", "turtledemo",
              "dist-packages")
MIN_DOCSTRING_WORDS = 12
# sizes for what the tiny recipe reads: prose ~1.2x what web-edu (its classifier keeps ~55%) needs, code and long
# documents a few times what their folders give (more costs decontamination time, not quality)
PROSE_BYTES, CODE_BYTES, LONG_BYTES = 5_000_000, 3_000_000, 1_200_000


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_modules() -> list[Path]:
    root = stdlib_root()
    return [p for p in sorted(root.rglob("*.py")) if not any(part in SKIP_PARTS for part in p.relative_to(root).parts)]


def write_jsonl_shards(folder: Path, docs: list[dict], shards: int = 2) -> None:
    """docs -> folder/00000.jsonl.gz ...; round-robin so every shard has the same mix; atomic per file."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(shards):
        final = folder / f"{k:05d}.jsonl.gz"
        tmp = folder / f".{k:05d}.part-{os.getpid()}"  # a name no "*.jsonl*" reader picks up if a crash leaves it
        with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as f:  # an intermediate: speed over size
            for d in docs[k::shards]:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        os.replace(tmp, final)


def _docstrings(path: Path, rel: str):
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return
    nodes = [(rel.removesuffix(".py").replace("/", "."), tree)]
    nodes += [(n.name, n) for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    for name, node in nodes:
        doc = ast.get_docstring(node)
        if doc and len(doc.split()) >= MIN_DOCSTRING_WORDS:
            yield name, doc


def site_modules() -> list[Path]:
    root = Path(sysconfig.get_paths()["purelib"])
    if not root.is_dir():
        return []
    skip = ("test", "tests", "testing", "__pycache__", "_vendor", "vendored", "benchmarks")
    return [p for p in sorted(root.rglob("*.py")) if not any(part in skip for part in p.relative_to(root).parts)]


def prose_docs(max_bytes: int = PROSE_BYTES) -> list[dict]:
    docs, total = [], 0
    for root, files, tag in ((stdlib_root(), stdlib_modules(), "stdlib-doc"),
                             (Path(sysconfig.get_paths()["purelib"]), site_modules(), "site-doc")):
        for p in files:
            if total >= max_bytes:
                break
            rel = str(p.relative_to(root))
            for name, doc in _docstrings(p, rel):
                docs.append({"id": f"{tag}/{rel}/{name}", "text": doc, "origin": rel})
                total += len(doc)
    licenses = Path("/usr/share/common-licenses")
    if licenses.is_dir():
        for f in sorted(licenses.iterdir()):
            if f.is_file():
                text = f.read_text(encoding="utf-8", errors="replace")
                for k, para in enumerate(p for p in text.split("\n\n") if len(p.split()) >= 40):
                    docs.append({"id": f"license/{f.name}/{k}", "text": para.strip(), "origin": f.name})
    return docs


@lru_cache(maxsize=1)
def _module_docs() -> list[dict]:
    root, docs = stdlib_root(), []
    for p in stdlib_modules():
        text = p.read_text(encoding="utf-8", errors="replace")
        if text.strip():
            docs.append({"id": f"stdlib/{p.relative_to(root)}", "text": text, "language": "Python"})
    return docs


def all_module_docs() -> list[dict]:
    """Every standard-library module (what the code classifier's annotations are drawn from)."""
    return list(_module_docs())


def code_docs(max_bytes: int = CODE_BYTES) -> list[dict]:
    """Standard-library modules in a stable order, up to max_bytes: ~900k tokens, six times what the recipe reads
    from code and code-edu together (more only costs decontamination time)."""
    docs, total = [], 0
    for d in _module_docs():
        total += len(d["text"])
        if total > max_bytes:
            break
        docs.append(d)
    return docs


def long_docs(min_bytes: int = 12_000, max_bytes: int = LONG_BYTES) -> list[dict]:
    """Whole modules over min_bytes from the modules code_docs does not take, up to max_bytes (~350k tokens, ten
    times what the context extension reads)."""
    taken = {d["id"] for d in code_docs()}
    docs, total = [], 0
    for d in _module_docs():
        if d["id"] in taken or len(d["text"].encode()) < min_bytes:
            continue
        total += len(d["text"])
        if total > max_bytes:
            break
        docs.append(d)
    return docs


def textbook_docs() -> list[dict]:
    try:
        from pydoc_data.topics import topics
    except ImportError:  # some distributions strip pydoc_data: fall back to module docstrings of the builtins
        topics = {}
    return [{"id": f"pydoc-topic/{k}", "text": v.strip()} for k, v in sorted(topics.items()) if v.strip()]


RAW_SOURCES = ("prose", "code", "math", "textbooks", "long")


def build(out: Path, *, sources=RAW_SOURCES, math_problems: int = 3000, benchmark_problems: int = 200) -> dict[str, int]:
    """Write the raw sources named in `sources` under `out` (with math, the held-out benchmark); returns documents
    per source.

    A source's DONE file records how it was built; a source built with other sizes is rebuilt (and every step
    reading it then restarts, since the data steps are keyed on their inputs' content)."""
    builders = {  # name: (documents, what determines them)
        "prose": (prose_docs, {"max_bytes": PROSE_BYTES, "min_words": MIN_DOCSTRING_WORDS}),
        "code": (code_docs, {"max_bytes": CODE_BYTES}),
        "math": (lambda: [{"id": f"mathgen/{k}", **p} for k, p in enumerate(mathgen.problems(math_problems, seed=0))],
                 {"problems": math_problems}),
        "textbooks": (textbook_docs, {}),
        "long": (long_docs, {"max_bytes": LONG_BYTES, "code_bytes": CODE_BYTES}),
    }
    unknown = set(sources) - set(builders)
    if unknown:
        raise ValueError(f"unknown raw sources {sorted(unknown)}; known: {list(builders)}")
    counts = {}
    for name in sources:
        make, spec = builders[name]
        folder = out / name
        done = folder / "DONE"
        if done.exists():
            try:
                record = json.loads(done.read_text())
            except ValueError:
                record = {}
            if isinstance(record, dict) and record.get("spec") == spec:
                counts[name] = int(record["documents"])
                continue
            shutil.rmtree(folder)  # built with other sizes (or by an older version): rebuild
        docs = make()
        write_jsonl_shards(folder, docs)
        atomic_write_text(done, json.dumps({"documents": len(docs), "spec": spec}) + "\n")
        counts[name] = len(docs)
    bench = out / "benchmarks" / "tiny-math.jsonl"
    if "math" in sources and not bench.exists():
        bench.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(bench, "".join(json.dumps({"question": p["question"], "answer": p["answer"]}) + "\n"
                                         for p in mathgen.held_out(benchmark_problems)))
    return counts

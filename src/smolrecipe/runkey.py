"""Run keys: a short hash of what a pipeline run reads, writes and how it is configured (DESIGN.md contract 8).

    key = run_key("decontaminate", reads=[input_dir, index_dir], writes=[out_dir], config={"n_grams": 13})

A rerun with the same key is the same run (it resumes); anything else changes the key and starts fresh,
the way Marin keys its step outputs by a hash of their inputs and config. Local inputs are keyed by their
content (sha256 of every file), so a rebuilt index, a retrained tokenizer or classifier, or new input files
give a new key even at the same path; folders over CONTENT_HASH_LIMIT bytes are keyed by file names, sizes
and modification times instead (hashing terabytes on every launch would cost more than the run). Remote
inputs (s3://, hf://, Hub data set names) are keyed by their name.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

CONTENT_HASH_LIMIT = 2 * 1024**3
KEY_LENGTH = 12


def _is_local(path: str) -> bool:
    return "://" not in path


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file())


def fingerprint(path: str | Path) -> str:
    """A digest of a local file or folder's content (see the module doc), or the name of a remote one."""
    text = str(path)
    p = Path(text)
    if not _is_local(text) or not p.exists():
        return f"name:{text}"
    files = _files(p)
    total = sum(f.stat().st_size for f in files)
    h = hashlib.sha256()
    for f in files:
        rel = f.name if p.is_file() else str(f.relative_to(p))
        h.update(rel.encode() + b"\0")
        if total <= CONTENT_HASH_LIMIT:
            with open(f, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        else:
            st = f.stat()
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return ("sha256:" if total <= CONTENT_HASH_LIMIT else "stat:") + h.hexdigest()


def run_key(name: str, *, reads=(), writes=(), config: dict | None = None) -> str:
    """The key of one run (KEY_LENGTH hex digits)."""
    spec = {
        "name": name,
        "reads": {str(r): fingerprint(r) for r in reads if r is not None},
        "writes": sorted(str(Path(w).resolve()) if _is_local(str(w)) else str(w) for w in writes if w is not None),
        "config": config or {},
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:KEY_LENGTH]

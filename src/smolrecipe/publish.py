"""Writes that never leave a half-written result where a reader looks: one helper for files, one for folders.

    atomic_write_text(path, text)            # a file: temp sibling, fsync, rename
    with publishing(final_dir) as tmp:       # a folder: write everything into `tmp` ...
        save_things(tmp)
    # ... then every file is fsynced and `tmp` is renamed to final_dir. An existing final_dir is moved aside
    # first and deleted only once the new one is in place, so a crash at any moment leaves either the old
    # folder or the new one (after `recover`), never a mix and never nothing.
    recover(final_dir)                       # finish or undo what an interrupted publish left (called by publishing)

Temp and old folders are siblings named `.tmp-<name>-<pid>` and `.old-<name>-<pid>`; leftovers of a dead
process are cleaned on the next publish of the same folder (or by `recover_all(parent)`).

metrics-style JSONL files are appended one record per line; `append_jsonl` first repairs a partial last
line (a kill mid-write) and `read_jsonl` skips and counts lines that do not parse.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

TMP, OLD = ".tmp-", ".old-"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    for d in sorted({p.parent for p in folder.rglob("*")} | {folder}):
        _fsync_dir(d)


def atomic_write_text(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def pause_point(name: str) -> None:
    """Test hook: with SMOLRECIPE_PAUSE_AT=<name>, write <name> to SMOLRECIPE_PAUSE_FILE and wait to be killed.

    Lets a test SIGKILL a run at an exact moment (e.g. inside a checkpoint write) instead of guessing a delay."""
    if os.environ.get("SMOLRECIPE_PAUSE_AT") != name:
        return
    Path(os.environ["SMOLRECIPE_PAUSE_FILE"]).write_text(name)
    while True:
        time.sleep(0.5)


def _owner(entry: Path, name: str, prefix: str) -> int | None:
    """The pid in `<prefix><name>-<pid>`, or None when the entry belongs to another name."""
    if not entry.name.startswith(prefix):
        return None
    stem, _, pid = entry.name[len(prefix):].rpartition("-")
    return int(pid) if stem == name and pid.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftover from an earlier publish in this process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(final: str | Path, log=None) -> list[str]:
    """Finish or undo an interrupted publish of `final`; returns one line per thing it did."""
    final = Path(final)
    parent = final.parent
    done: list[str] = []
    if not parent.is_dir():
        return done
    for entry in sorted(parent.iterdir()):
        old_pid, tmp_pid = _owner(entry, final.name, OLD), _owner(entry, final.name, TMP)
        pid = old_pid if old_pid is not None else tmp_pid
        if pid is None or _alive(pid):
            continue
        if old_pid is not None and not final.exists():
            os.replace(entry, final)  # the crash hit between moving the old folder aside and renaming the new one in
            done.append(f"restored {final} from its previous version ({entry.name})")
        else:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            done.append(f"removed {'a half-written' if tmp_pid is not None else 'the replaced'} copy {entry}")
    for line in done:
        (log or (lambda m: None))(line)
    return done


def recover_all(parent: str | Path, log=None) -> list[str]:
    """`recover` for every folder in `parent` that has temp/old leftovers (e.g. a checkpoints folder)."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    names = set()
    for entry in parent.iterdir():
        for prefix in (TMP, OLD):
            if entry.name.startswith(prefix):
                stem, _, pid = entry.name[len(prefix):].rpartition("-")
                if stem and pid.isdigit():
                    names.add(stem)
    done: list[str] = []
    for name in sorted(names):
        done += recover(parent / name, log)
    return done


@contextmanager
def publishing(final: str | Path, log=None) -> Iterator[Path]:
    """Yield an empty temp folder; when the block succeeds, make it `final` atomically (see the module doc)."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover(final, log)
    tmp = final.parent / f"{TMP}{final.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_tree(tmp)
    pause_point(f"publish:{final.name}")
    if final.exists() or final.is_symlink():
        old = final.parent / f"{OLD}{final.name}-{os.getpid()}"
        os.replace(final, old)
        pause_point(f"publish-swap:{final.name}")
        os.replace(tmp, final)
        _fsync_dir(final.parent)
        shutil.rmtree(old)
    else:
        os.replace(tmp, final)
        _fsync_dir(final.parent)


def append_jsonl(path: str | Path, record: dict) -> None:
    """Append one JSON record as one line, after cutting off a partial last line left by a kill mid-write."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_jsonl_tail(path)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, default=str) + "\n")
        f.flush()


def repair_jsonl_tail(path: Path) -> int:
    """Truncate a file that does not end with a newline back to its last complete line; returns bytes cut."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return 0
        data = f.seek(0) or f.read()
        keep = data.rfind(b"\n") + 1
        f.truncate(keep)
        return len(data) - keep


def read_jsonl(path: str | Path) -> tuple[list[dict], int]:
    """(records, number of lines that did not parse) of a JSONL file; a missing file is empty."""
    path = Path(path)
    if not path.exists():
        return [], 0
    records, bad = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(rec, dict):
            records.append(rec)
        else:
            bad += 1
    return records, bad

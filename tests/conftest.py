"""Shared test set-up: offline Hub, a scratch copy of the repository's configs, small builders."""
from __future__ import annotations

import os
import subprocess
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The project's shared/data folder (real benchmark files for tests; the product never needs it).

    Looked up as SMOLRECIPE_SHARED_DATA, then ../shared/data beside this checkout (how CI lays it out),
    then beside the checkout this one was cloned from (a scratch clone made by tools/fresh-clone).
    """
    candidates = [os.environ.get("SMOLRECIPE_SHARED_DATA"), REPO.parent / "shared" / "data"]
    try:
        origin = subprocess.run(["git", "-C", str(REPO), "remote", "get-url", "origin"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        if origin and Path(origin).is_dir():
            candidates.append(Path(origin).resolve().parent / "shared" / "data")
    except (OSError, subprocess.SubprocessError):
        pass
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return REPO.parent / "shared" / "data"  # the tests that need it fail and name this path


@pytest.fixture
def scratch_repo(tmp_path, monkeypatch):
    """A copy of pretraining/configs under tmp_path, used as SMOLRECIPE_ROOT so tests can edit configs freely."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "pretraining" / "configs", root / "pretraining" / "configs")
    monkeypatch.setenv("SMOLRECIPE_ROOT", str(root))
    monkeypatch.setenv("SMOLRECIPE_OUTPUTS", str(root / "outputs"))
    return root


def edit_yaml(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert text.count(old) >= count, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))

"""Shared test set-up: offline Hub, a scratch copy of the repository's configs, small builders."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]


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

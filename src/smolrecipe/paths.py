"""Where things live. Run outputs go under one ignored folder, `outputs/` by default.

Set SMOLRECIPE_OUTPUTS to put them elsewhere (e.g. a shared file system on a cluster). Config files
refer to outputs with paths relative to the repository root, so commands run from the root.
"""
from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout's root: SMOLRECIPE_ROOT, else the nearest parent of the cwd with pretraining/configs."""
    env = os.environ.get("SMOLRECIPE_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for p in (here, *here.parents):
        if (p / "pretraining" / "configs").is_dir():
            return p
    # Installed package used outside a checkout: fall back to the source tree it came from.
    return Path(__file__).resolve().parents[2]


def shown(path: str | Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def outputs_dir() -> Path:
    return Path(os.environ.get("SMOLRECIPE_OUTPUTS", repo_root() / "outputs"))


def tokenizer_dir(recipe: str) -> Path:
    return outputs_dir() / "tokenizers" / recipe


def plots_dir() -> Path:
    return outputs_dir() / "plots"

"""Where things live: one place turns every path a config or a user names into a real location.

Run outputs go under one ignored folder, `outputs/` in the checkout by default. Set SMOLRECIPE_OUTPUTS to
put them elsewhere (e.g. a shared file system on a cluster). Configs name outputs with paths relative to
the repository root (`outputs/data/tiny/tokenized/web`, `outputs/checkpoints/tiny/218`); `resolve` maps
the `outputs/` prefix to SMOLRECIPE_OUTPUTS and everything else relative to the checkout, so data, tokenizer,
checkpoints and runs all move together.

    resolve("outputs/checkpoints/tiny")    # <SMOLRECIPE_OUTPUTS or <repo>/outputs>/checkpoints/tiny
    config_path(resolve(x)) == x           # the inverse, for paths written into derived configs
"""
from __future__ import annotations

import os
from pathlib import Path

OUTPUTS = "outputs"


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


def outputs_dir() -> Path:
    env = os.environ.get("SMOLRECIPE_OUTPUTS")
    return Path(env).resolve() if env else repo_root() / OUTPUTS


def resolve(path: str | Path) -> Path:
    """A config or command-line path as a real path: `outputs/...` under outputs_dir(), other relative paths
    from the repository root, absolute paths unchanged."""
    p = Path(path)
    if p.is_absolute():
        return p
    if p.parts and p.parts[0] == OUTPUTS:
        return outputs_dir().joinpath(*p.parts[1:])
    return repo_root() / p


def user_path(path: str | Path) -> Path:
    """A path typed on the command line: as given when it exists from the working directory, else `resolve`d
    (so `outputs/...` follows SMOLRECIPE_OUTPUTS from anywhere)."""
    p = Path(path)
    return p if p.is_absolute() or p.exists() else resolve(p)


def config_path(path: str | Path) -> str:
    """The inverse of resolve: how a derived config should name `path` (`outputs/...`, repo-relative, or absolute)."""
    p = Path(path).resolve()
    out = outputs_dir().resolve()
    if p.is_relative_to(out):
        return str(Path(OUTPUTS, p.relative_to(out)))
    root = repo_root().resolve()
    if p.is_relative_to(root):
        return str(p.relative_to(root))
    return str(p)


def shown(path: str | Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def tokenizer_dir(recipe: str) -> Path:
    return outputs_dir() / "tokenizers" / recipe


def plots_dir() -> Path:
    return outputs_dir() / "plots"

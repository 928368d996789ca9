"""Every `make` command written in the READMEs exists, takes the arguments written there, and validates them.

Each command is read out of README.md, the recipe READMEs and the step READMEs (code blocks and inline code),
expanded by make itself (`make -n ... DRY_RUN=1`, so the Makefile's rule is what is tested, not a copy of it),
and the `python -m smolrecipe ...` line make would run is then run with --dry-run against an empty outputs/.

A dry run checks its arguments and inputs and changes nothing. A command that reads an earlier step's output
(a checkpoint, the tokenized data) cannot find it in an empty outputs/, and must then say so: exit code 2, an
`error:` that names the missing path under outputs/, no traceback. Anything else fails: an unknown target, an
argument argparse refuses, a crash, or an exit code 0 that wrote something.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
READMES = ["README.md", *sorted(str(p.relative_to(REPO)) for p in REPO.glob("recipes/*/README.md")),
           "pretraining/README.md", "post_training/README.md", "evaluation/README.md", "data/README.md"]
FENCE = re.compile(r"```.*?```", re.S)
INLINE = re.compile(r"`(make\s[^`]+)`")  # inline code may wrap across lines
# not steps of the recipe: make itself, the environment, the test suite, cleaning up
NOT_DRY_RUN = {"help", "setup", "setup-gpu", "lock", "test", "clean", "bench"}


def commands_in(text: str) -> list[str]:
    found = []
    for block in FENCE.findall(text):
        for line in block.splitlines():
            for part in line.split(" #")[0].split("&&"):  # `make a && make b` is two commands
                part = part.strip().removeprefix("$ ")
                if part.startswith("make "):
                    found.append(part)
    found += [" ".join(c.split()) for c in INLINE.findall(FENCE.sub("", text))]
    return [c.split(" #")[0].strip() for c in found]


def all_commands() -> list[tuple[str, str]]:
    out = {}
    for name in READMES:
        path = REPO / name
        if path.is_file():
            for cmd in commands_in(path.read_text()):
                out.setdefault(cmd, name)
    return sorted((c, f) for c, f in out.items())


COMMANDS = all_commands()


def make_expansion(cmd: str) -> list[str]:
    """The recipe lines make would run for `cmd` with DRY_RUN=1, setup excluded."""
    words = shlex.split(cmd)
    target, assignments = words[1], words[2:]
    bad = [w for w in assignments if not re.fullmatch(r"[A-Z_]+=.*", w)]
    assert not bad, f"{cmd!r}: {bad} are not VAR=value make arguments"
    r = subprocess.run(["make", "-n", "--no-print-directory", target, *assignments, "DRY_RUN=1"], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, f"{cmd!r}: make cannot expand it: {r.stderr.strip()}"
    return [ln for ln in r.stdout.replace("\\\n", " ").splitlines() if ln.strip() and "scripts/setup_env.sh" not in ln]


def smolrecipe_argv(line: str) -> list[str] | None:
    words = shlex.split(line)
    if "smolrecipe" in words and "-m" in words:
        return words[words.index("smolrecipe") + 1:]
    if words[:2] == ["bash", "scripts/demo.sh"]:
        return ["demo", *words[2:]]
    return None


def test_the_readmes_hold_commands_of_every_step():
    targets = {shlex.split(c)[1] for c, _ in COMMANDS}
    for step in ("demo", "test", "data", "pretrain", "long-context", "sft", "dpo", "eval", "push", "report", "scaling"):
        assert step in targets, f"no README shows `make {step}`"
    templates = [c for c, _ in COMMANDS if "..." in c or "<" in c]
    assert not templates, f"commands a reader cannot paste (placeholders): {templates}"


@pytest.mark.parametrize("cmd, readme", COMMANDS, ids=[c for c, _ in COMMANDS])
def test_readme_command_validates_in_a_dry_run(cmd, readme, tmp_path):
    lines = make_expansion(cmd)
    target = shlex.split(cmd)[1]
    if target in NOT_DRY_RUN:  # their rule runs a script of the repository: it must exist and parse
        for line in lines:
            for word in shlex.split(line):
                if word.startswith("scripts/"):
                    assert subprocess.run(["bash", "-n", str(REPO / word)]).returncode == 0, f"{readme}: {cmd}: {word}"
        return
    argvs = [a for a in map(smolrecipe_argv, lines) if a is not None]
    assert len(argvs) == 1, f"{readme}: `{cmd}` expands to {lines}, not one smolrecipe command"
    argv = argvs[0]
    assert "--dry-run" in argv or "--list" in argv, f"{readme}: `{cmd}`: the rule does not pass DRY_RUN on: {argv}"
    outputs = tmp_path / "outputs"
    # cwd outside the checkout, so that `outputs/...` on the command line means the empty outputs/ even when the
    # checkout's own outputs/ holds a finished demo
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "SMOLRECIPE_OUTPUTS": str(outputs), "SMOLRECIPE_ROOT": str(REPO),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "SMOLRECIPE_GPU_PYTHON": str(tmp_path / "no-gpu-python")}
    r = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-m", "smolrecipe", *argv], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    said = r.stdout + r.stderr
    assert "Traceback" not in said, f"{readme}: `{cmd}` crashed:\n{said[-3000:]}"
    assert "usage:" not in r.stderr, f"{readme}: `{cmd}`: the arguments are refused:\n{r.stderr}"
    if r.returncode == 2:  # allowed for an earlier step's output missing from the empty outputs/, or for a
        assert r.stderr.startswith("error:"), said  # target named in prose without the variable it needs
        asks_for_variable = len(shlex.split(cmd)) == 2 and re.match(r"error: [A-Z_]+: ", r.stderr)
        # a cluster-sized launch with ENGINE=auto on this GPU-less machine: refused, with the fix, by design
        needs_gpu = target in ("pretrain", "long-context") and ": ENGINE: " in r.stderr and "no NVIDIA GPU" in r.stderr
        assert "outputs/" in r.stderr or str(outputs) in r.stderr or asks_for_variable or needs_gpu, \
            f"{readme}: `{cmd}` fails for another reason than a missing earlier output:\n{r.stderr}"
    else:
        assert r.returncode == 0, f"{readme}: `{cmd}` exits {r.returncode}:\n{said[-3000:]}"
    written = [p for p in outputs.rglob("*") if p.is_file()] if outputs.exists() else []
    assert not written, f"{readme}: `{cmd}` is a dry run and wrote {written[:5]}"

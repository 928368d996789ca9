"""scripts/setup_env.sh decides how torch is installed and stops on any failed install.

The venv's python is a fake that records every call (`-m pip ...`) and fails the calls a test names, so the
script's decisions are checked without installing anything: a local wheel first on a machine without a GPU,
else PyTorch's CPU index, never PyPI's CUDA build there; PyPI's default build where nvidia-smi answers."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  call="$*"; IFS=';'   # patterns separated by ';' (after "$*" is taken: it joins with IFS)
  for pattern in $FAKE_FAIL; do
    case "$call" in *"$pattern"*) echo "ERROR: fake pip refuses: $pattern" >&2; exit 1;; esac
  done
  exit 0
fi
if [ "$1" = "-c" ] && [ "$2" = "import smolrecipe" ]; then exit 1; fi   # never 'up to date': run the install
cat > /dev/null 2>&1 || true
exit 0
"""


@pytest.fixture
def fake(tmp_path):
    root = tmp_path / "repo"
    for rel in ("scripts/setup_env.sh", "pyproject.toml", "requirements/constraints.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, root / rel)
    venv_bin = root / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text(FAKE_PYTHON)
    (venv_bin / "python").chmod(0o755)
    bin_dir = tmp_path / "bin"  # PATH: the basic tools, and an nvidia-smi only when a test adds one
    bin_dir.mkdir()
    for tool in ("bash", "cat", "grep", "cut", "sha256sum", "dirname", "echo", "env", "awk"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    return root, bin_dir, tmp_path / "calls.log"


def run_setup(root: Path, bin_dir: Path, log: Path, fail: str = "", **env) -> tuple[subprocess.CompletedProcess, list[str]]:
    log.unlink(missing_ok=True)
    e = {"PATH": str(bin_dir), "FAKE_LOG": str(log), "FAKE_FAIL": fail, "HOME": os.environ.get("HOME", "/tmp"), **env}
    r = subprocess.run(["bash", str(root / "scripts" / "setup_env.sh")], cwd=root, env=e, capture_output=True, text=True)
    calls = log.read_text().splitlines() if log.exists() else []
    return r, [c for c in calls if c.startswith("-m pip")]


def torch_pin() -> str:
    line = next(x for x in (REPO / "requirements" / "constraints.txt").read_text().splitlines() if x.startswith("torch=="))
    return line.split("==")[1].split("+")[0]


def pinned_lines() -> list[str]:
    return [x for x in (REPO / "requirements" / "constraints.txt").read_text().splitlines() if x[:1].isalnum()]


def test_no_gpu_installs_the_pinned_set_as_is_then_checks_it(fake):
    root = fake[0]
    r, pips = run_setup(*fake)
    assert r.returncode == 0, r.stderr
    assert any(c.endswith(f"install --no-compile --no-index --no-deps torch=={torch_pin()}") for c in pips)
    assert not any("download.pytorch.org" in c for c in pips)  # the local wheel was enough
    assert not any("torch==" in c and "--no-deps" not in c for c in pips)  # nothing resolves torch's dependencies
    # every other pin of constraints.txt exactly once, in --no-deps installs (nothing left to resolve)
    files = [c.split(" -r ")[1].split()[0] for c in pips if " -r " in c]
    assert files and all("--no-deps" in c for c in pips if " -r " in c)
    installed = [line for f in files for line in Path(root / f if not Path(f).is_absolute() else f).read_text().splitlines()]
    assert sorted(installed) == sorted(x for x in pinned_lines() if not x.startswith("torch=="))
    assert any(c.endswith("install --no-compile --no-deps -e .") for c in pips)
    # `pip check` after every install, then compileall on every core
    calls = fake[2].read_text().splitlines()
    check = calls.index("-m pip --disable-pip-version-check check")
    assert all(calls.index(c) < check for c in pips if " install " in c)
    compiled = [k for k, c in enumerate(calls) if c.startswith("-m compileall") and "-j 0" in c]
    assert compiled and compiled[0] > check


def test_constraints_pin_setuptools_which_torch_requires():
    # pip freeze leaves setuptools out unless --all; torch 2.13 needs setuptools>=77 and a venv brings 65
    assert any(x.startswith("setuptools==") for x in pinned_lines())


def test_no_gpu_and_no_local_wheel_uses_the_cpu_index_never_pypi(fake):
    r, pips = run_setup(*fake, fail="--no-index")
    assert r.returncode == 0, r.stderr
    assert any(c.endswith(f"install --no-compile --no-deps torch=={torch_pin()} --index-url https://download.pytorch.org/whl/cpu")
               for c in pips)
    assert [c for c in pips if "torch==" in c and "--index-url" not in c and "--no-index" not in c] == []
    r, pips = run_setup(*fake, fail="--no-index", TORCH_INDEX_URL="http://mirror.local/cpu")
    assert any(c.endswith("--index-url http://mirror.local/cpu") for c in pips)


def test_a_gpu_machine_takes_the_default_build(fake):
    root, bin_dir, log = fake
    (bin_dir / "nvidia-smi").write_text("#!/usr/bin/env bash\necho 'GPU 0: NVIDIA H100 (UUID: GPU-x)'\n")
    (bin_dir / "nvidia-smi").chmod(0o755)
    r, pips = run_setup(root, bin_dir, log)
    assert r.returncode == 0, r.stderr
    assert pips[0].endswith(f"install --no-compile torch=={torch_pin()}") and "--index-url" not in pips[0]


@pytest.mark.parametrize("fail, says", [
    ("download.pytorch.org;--no-index", "could not install torch"),
    (".pins-2", "could not install the pinned stack"),
    ("-e .", "could not install the pinned stack"),
    ("version-check check", "incomplete or inconsistent"),
])
def test_a_failed_install_stops_the_setup(fake, fail, says):
    r, _ = run_setup(*fake, fail=fail)
    assert r.returncode != 0
    assert says in r.stderr and "fake pip refuses" in r.stderr  # pip's own message is shown
    assert not (fake[0] / ".venv" / ".smolrecipe-installed").exists()  # no stamp: the next make retries

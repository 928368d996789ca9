#!/usr/bin/env bash
# Create or update the CPU environment in .venv (called by `make setup`; idempotent and quick when nothing changed).
# Order matters: torch first, so no other package pulls a different build; then everything else pinned by
# requirements/constraints.txt; then lighteval's offline work-around.
#
# torch, pinned to the version in requirements/constraints.txt:
#   - a machine without an NVIDIA GPU gets the CPU build: a local wheel when pip is configured with one
#     (find-links), else PyTorch's CPU wheel index (TORCH_INDEX_URL, default https://download.pytorch.org/whl/cpu);
#     PyPI's Linux wheel is the CUDA build, several GB a laptop does not need;
#   - a machine with one (nvidia-smi answers) gets PyPI's default build, which runs on its GPU.
# Any failed install stops the set-up with pip's own message and a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
STAMP="$VENV/.smolrecipe-installed"
CPU_INDEX=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}
want=$(cat pyproject.toml requirements/constraints.txt scripts/setup_env.sh | sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && "$VENV/bin/python" -c "import smolrecipe" 2>/dev/null; then
  echo "environment up to date ($VENV)"
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"

pip() {  # pip, quiet, without one harmless warning; returns pip's own exit status
  local rc=0
  "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@" > "$VENV/.pip.log" 2>&1 || rc=$?
  grep -v "is ignored: it is neither" "$VENV/.pip.log" >&2 || true
  return $rc
}
fail() { echo "setup: $*" >&2; exit 1; }

torch_pin=$(grep -E '^torch==' requirements/constraints.txt | cut -d= -f3 | cut -d+ -f1)
[ -n "$torch_pin" ] || fail "requirements/constraints.txt pins no torch version (torch==X)"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "installing torch $torch_pin (an NVIDIA GPU answers: the default build, with CUDA) ..."
  pip install --no-compile "torch==$torch_pin" || fail "could not install torch==$torch_pin"
else
  echo "installing torch $torch_pin (CPU build) ..."
  # A local wheel, when pip is given one (find-links): torch alone first, since its dependencies are not on that
  # disk; then the same pin again, which finds torch installed and fetches only its dependencies from the index.
  if pip install --no-compile --no-index --no-deps "torch==$torch_pin" 2>/dev/null; then
    pip install --no-compile "torch==$torch_pin" || fail "could not install the dependencies of torch==$torch_pin"
  else
    pip install --no-compile "torch==$torch_pin" --index-url "$CPU_INDEX" \
      || fail "could not install torch==$torch_pin from $CPU_INDEX (set TORCH_INDEX_URL to a reachable CPU wheel index)"
  fi
fi
echo "installing the pinned stack (requirements/constraints.txt) ..."
# pip compiles every installed module to bytecode one file at a time; compileall with one process per core does the
# same work in parallel afterwards (measured: set-up 118 s -> 98 s on 2 cores). Files that are not valid Python 3.11
# (templates, other versions' code shipped in wheels) fail to compile either way and are skipped, as pip skips them.
pip install --no-compile -c requirements/constraints.txt -e ".[test]" || fail "could not install the pinned stack (see pip's message above)"
site=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
"$VENV/bin/python" -m compileall -q -j 0 "$site" > "$VENV/.compileall.log" 2>&1 || true
"$VENV/bin/python" - <<'PY' || fail "could not apply lighteval's offline work-around"
# lighteval 0.13 downloads tinyBenchmarks.pkl when its task registry is imported; offline that fails.
# An empty file at that path makes it skip the download (shared STACK.md). Those tasks are not used here.
import pathlib, importlib.util
spec = importlib.util.find_spec("lighteval")
pkl = pathlib.Path(spec.origin).parent / "tasks" / "tasks" / "tinyBenchmarks.pkl"
if not pkl.exists():
    pkl.touch()
PY
"$VENV/bin/python" -c "import torch, transformers, trl, datatrove, lighteval, huggingface_hub, smolrecipe" \
  || fail "the environment does not import; see the messages above"
echo "$want" > "$STAMP"
echo "environment ready ($VENV)"

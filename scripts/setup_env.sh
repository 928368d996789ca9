#!/usr/bin/env bash
# Create or update the CPU environment in .venv (called by `make setup`; idempotent and quick when nothing changed).
# Without a GPU: torch's CPU build and every other package exactly as requirements/constraints.txt pins it, each
# without its dependencies (the file pins them all), in parallel; then `pip check`, bytecode, lighteval's offline
# work-around. With a GPU: torch's default build first, so no other package pulls a different one, then the stack.
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
export PIP_PROGRESS_BAR=off  # parallel installs: no progress bars in the logs shown on failure
CPU_INDEX=${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}
want=$(cat pyproject.toml requirements/constraints.txt scripts/setup_env.sh | sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && "$VENV/bin/python" -c "import smolrecipe" 2>/dev/null; then
  echo "environment up to date ($VENV)"
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"

pip() {  # pip, quiet, its output in $VENV/.pip-$STEP_LOG.log (not PIP_LOG: pip reads that as its --log), shown (minus one harmless warning) on stderr
  local rc=0 log="$VENV/.pip-${STEP_LOG:-main}.log"
  "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@" > "$log" 2>&1 || rc=$?
  grep -v "is ignored: it is neither" "$log" >&2 || true
  return $rc
}
fail() { echo "setup: $*" >&2; exit 1; }

torch_pin=$(grep -E '^torch==' requirements/constraints.txt | cut -d= -f3 | cut -d+ -f1)
[ -n "$torch_pin" ] || fail "requirements/constraints.txt pins no torch version (torch==X)"

cpu_torch() {  # the CPU build of torch alone: a local wheel when pip is given one (find-links), else the CPU index
  pip install --no-compile --no-index --no-deps "torch==$torch_pin" 2>/dev/null \
    || pip install --no-compile --no-deps "torch==$torch_pin" --index-url "$CPU_INDEX" \
    || fail "could not install torch==$torch_pin from $CPU_INDEX (set TORCH_INDEX_URL to a reachable CPU wheel index)"
}

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "installing torch $torch_pin (an NVIDIA GPU answers: the default build, with CUDA) ..."
  pip install --no-compile "torch==$torch_pin" || fail "could not install torch==$torch_pin"
  echo "installing the pinned stack (requirements/constraints.txt) ..."
  pip install --no-compile -c requirements/constraints.txt -e ".[test]" || fail "could not install the pinned stack (see pip's message above)"
else
  # requirements/constraints.txt is the whole environment, every transitive dependency pinned (make lock), so
  # nothing is left to resolve: each package goes in as pinned, without its dependencies, in four pip processes at
  # once (torch; two halves of the other pins; this project), and `pip check` then proves the set is complete.
  # One resolving pip did the same one package after another: installs 61 s -> 30 s, the whole set-up 84 s -> 44 s
  # on 2 cores (benchmarks/bench_setup.py).
  echo "installing torch $torch_pin (CPU build) and the pinned stack (requirements/constraints.txt) ..."
  grep -E '^[A-Za-z0-9]' requirements/constraints.txt | grep -v '^torch==' > "$VENV/.pins"
  awk 'NR % 2 == 1' "$VENV/.pins" > "$VENV/.pins-1"
  awk 'NR % 2 == 0' "$VENV/.pins" > "$VENV/.pins-2"
  STEP_LOG=torch cpu_torch & jobs_=($!)
  STEP_LOG=pins-1 pip install --no-compile --no-deps -r "$VENV/.pins-1" & jobs_+=($!)
  STEP_LOG=pins-2 pip install --no-compile --no-deps -r "$VENV/.pins-2" & jobs_+=($!)
  STEP_LOG=project pip install --no-compile --no-deps -e . & jobs_+=($!)
  failed=0
  for job in "${jobs_[@]}"; do wait "$job" || failed=1; done
  [ "$failed" = 0 ] || fail "could not install the pinned stack (see pip's message above)"
  "$VENV/bin/python" -m pip --disable-pip-version-check check > "$VENV/.pip-check.log" 2>&1 \
    || { cat "$VENV/.pip-check.log" >&2; fail "the installed set is incomplete or inconsistent (pip's message above): a dependency is missing from requirements/constraints.txt; add it, or run 'make lock' in a working .venv"; }
fi
# pip compiles every installed module to bytecode one file at a time; compileall with one process per core does the
# same work in parallel afterwards. It leaves out what no step imports (test suites, openai's and networkx's
# packages, pip itself, transformers' model code other than llama's and the auto classes): 27 s -> 15 s on 2 cores,
# while a process importing the whole stack finds all but a few of its 7,000 modules compiled. Files that are not
# valid Python 3.11 (templates, other versions' code shipped in wheels) fail to compile either way and are skipped.
site=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
"$VENV/bin/python" -m compileall -q -j 0 -x '/(tests?|testing/_internal)/|/site-packages/(openai|networkx|pip)/|/transformers/models/(?!llama/|auto/)[^/]+/' \
  "$site" > "$VENV/.compileall.log" 2>&1 || true
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

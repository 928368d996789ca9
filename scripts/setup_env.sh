#!/usr/bin/env bash
# Create or update the CPU environment in .venv (called by `make setup`; idempotent and quick when nothing changed).
# Order matters: torch's CPU wheel first, so no other package pulls a CUDA build; then everything else
# pinned by requirements/constraints.txt; then lighteval's offline work-around.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
STAMP="$VENV/.smolrecipe-installed"
want=$(cat pyproject.toml requirements/constraints.txt scripts/setup_env.sh | sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && "$VENV/bin/python" -c "import smolrecipe" 2>/dev/null; then
  echo "environment up to date ($VENV)"
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check -q "$@" 2>&1 | grep -v "is ignored: it is neither" || true; }
torch_pin=$(grep -E '^torch==' requirements/constraints.txt | cut -d= -f3 | cut -d+ -f1)
echo "installing torch $torch_pin (CPU) ..."
pip install "torch==$torch_pin"
echo "installing the pinned stack (requirements/constraints.txt) ..."
pip install -c requirements/constraints.txt -e ".[test]"
"$VENV/bin/python" - <<'PY'
# lighteval 0.13 downloads tinyBenchmarks.pkl when its task registry is imported; offline that fails.
# An empty file at that path makes it skip the download (shared STACK.md). Those tasks are not used here.
import pathlib, importlib.util
spec = importlib.util.find_spec("lighteval")
pkl = pathlib.Path(spec.origin).parent / "tasks" / "tasks" / "tinyBenchmarks.pkl"
if not pkl.exists():
    pkl.touch()
PY
"$VENV/bin/python" -c "import torch, transformers, trl, datatrove, lighteval; assert '+cpu' in torch.__version__ or not torch.cuda.is_available()" \
  || { echo "setup: the environment does not import; see the messages above"; exit 1; }
echo "$want" > "$STAMP"
echo "environment ready ($VENV)"

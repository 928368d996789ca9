#!/usr/bin/env bash
# Create the GPU environment in .venv-gpu for nanotron pretraining (called by `make setup-gpu`).
# It never touches the CPU environment (.venv): nanotron must stay out of it, because lighteval imports
# nanotron.config when nanotron is importable and then every evaluation fails (shared STACK.md).
#
# Pins (src/smolrecipe/versions.py): nanotron and datatrove from git at the pair SmolLM3 was trained with,
# flash-attn from PyPI (built against the CUDA torch installed first). Needs a CUDA machine with internet
# access to GitHub; the result is checked by importing nanotron and flash_attn.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV_GPU:-.venv-gpu}
PY=${PYTHON:-python3}
read_pin() { sed -n "s/^$1 = \"\([^\"]*\)\".*/\1/p" src/smolrecipe/versions.py; }
NANOTRON_REPO=$(read_pin NANOTRON_REPO); NANOTRON_COMMIT=$(read_pin NANOTRON_COMMIT)
DATATROVE_REPO=$(read_pin DATATROVE_REPO); DATATROVE_COMMIT=$(read_pin DATATROVE_GPU_COMMIT)
FLASH_ATTN=$(read_pin FLASH_ATTN_VERSION)
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "setup-gpu: no NVIDIA GPU visible (nvidia-smi). Run this on a GPU node; the CPU recipe needs only 'make setup'." >&2
  exit 2
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }
mkdir -p "$VENV/src"
clone_at() {  # repo commit dir
  [ -d "$3/.git" ] || git clone --filter=blob:none "$1" "$3"
  git -C "$3" fetch -q origin && git -C "$3" checkout -q "$2"
}
clone_at "$NANOTRON_REPO" "$NANOTRON_COMMIT" "$VENV/src/nanotron"
clone_at "$DATATROVE_REPO" "$DATATROVE_COMMIT" "$VENV/src/datatrove"
torch_pin=$(grep -E '^torch==' requirements/constraints.txt | cut -d= -f3 | cut -d+ -f1)
pip install "torch==$torch_pin"            # the CUDA build from PyPI
pip install -e "$VENV/src/datatrove[io,processing]"
pip install -e "$VENV/src/nanotron"
pip install ninja packaging
pip install "flash-attn==$FLASH_ATTN" --no-build-isolation
pip install -e . --no-deps
"$VENV/bin/python" -c "import nanotron, flash_attn, torch; assert torch.cuda.is_available(); print('nanotron', nanotron.__file__, 'flash-attn', flash_attn.__version__)"
echo "GPU environment ready ($VENV): nanotron@$NANOTRON_COMMIT, datatrove@$DATATROVE_COMMIT, flash-attn $FLASH_ATTN"

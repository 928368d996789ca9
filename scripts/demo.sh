#!/usr/bin/env bash
# `make demo`: the tiny recipe end to end, offline, on CPU (src/smolrecipe/commands/demo.py says what it runs).
# Each step is also a make target; a second `make demo` skips what is done; `make demo REDO=1` starts over.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec env PYTHONPATH=src .venv/bin/python -m smolrecipe demo "$@"

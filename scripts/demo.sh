#!/usr/bin/env bash
# The tiny recipe end to end, offline, on CPU: what `make demo` runs. Each step is also a make target.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
SMOL="env PYTHONPATH=src .venv/bin/python -m smolrecipe"
step() { echo; echo "==> $*"; }
start=$(date +%s)
step "versions";                      $SMOL versions
step "tokenizer (tiny, trained locally)"; $SMOL tokenizer --recipe tiny
step "check every recipe's configs";  $SMOL check --all
step "plan the tiny recipe";          $SMOL plan --recipe tiny
step "plan SmolLM2-1.7B";             $SMOL plan --recipe smollm2-1.7B
echo
echo "demo finished in $(( $(date +%s) - start )) s; outputs in outputs/"

#!/usr/bin/env bash
# The tiny recipe end to end, offline, on CPU: what `make demo` runs. Each step is also a make target;
# every step skips work that is already done, so a second `make demo` is quick (`make clean` starts over).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
SMOL="env PYTHONPATH=src .venv/bin/python -m smolrecipe"
start=$(date +%s)
step() { echo; echo "==> [$(( $(date +%s) - start )) s] $*"; }

step "upstream versions";                          $SMOL versions
step "tokenizer: byte-level BPE on the standard library"; $SMOL tokenizer --recipe tiny
step "check every recipe's nanotron YAML";         $SMOL check --all
step "data: datatrove pipelines -> tokenized folders"; $SMOL data --recipe tiny
step "plan: stages, mixture, epochs, LR";          $SMOL plan --recipe tiny
step "plan SmolLM2-1.7B (what the cluster would run)"; $SMOL plan --recipe smollm2-1.7B | tail -3
for s in 1 2 3 4; do
  step "pretrain stage $s (local engine)";         $SMOL pretrain --recipe tiny --stage $s --engine local
done
step "context extension 256 -> 512 tokens";        $SMOL long-context --recipe tiny --engine local
step "schedules: a 1-sqrt cooldown branched from the constant-LR checkpoint at step 200"
$SMOL cooldown --from outputs/checkpoints/tiny/200 --shape 1-sqrt --fraction 0.2 --engine local
step "schedules: uniform average of the last stable-phase checkpoints (SWA-style)"
$SMOL average outputs/checkpoints/tiny --last 5 --until 200
step "evaluation: the tiny suite on the base model (lighteval, offline)"
$SMOL eval --model outputs/checkpoints/tiny-long-context/400 --suite tiny | tail -8
step "the same stage on a GPU cluster: the nanotron command (dry run)"
$SMOL pretrain --recipe smollm2-1.7B --stage 3 --engine nanotron --dry-run | grep -E "torchrun|sbatch"

echo
echo "demo finished in $(( $(date +%s) - start )) s. Look at:"
echo "  outputs/plots/tiny-schedule.png            the LR schedule with the stages"
echo "  outputs/runs/tiny-stage*/loss_lr.png       loss and LR per stage"
echo "  outputs/data/tiny/REPORT.json              what every data filter kept and removed"
echo "  outputs/checkpoints/tiny-long-context/400  the final base model (a transformers folder in model/)"
echo "  outputs/eval/tiny-long-context-400/tiny/results.md   its tiny-suite evaluation (lighteval)"

"""`make dpo RECIPE=<recipe>`: DPO with TRL from post_training/<recipe>/dpo.yaml, launched through accelerate.

Usage:
    python -m smolrecipe dpo --recipe tiny                     # (make dpo RECIPE=tiny)
    python -m smolrecipe dpo --recipe smollm2-1.7B --accelerate zero3 --dry-run
    python -m smolrecipe dpo --recipe tiny --config dpo --max_steps 10   # trailing --key value pairs go to TRL

Prints the command first, checks the YAML (TRL's parser, unknown keys fatal), the starting model and the data,
decontaminates the training data, runs TRL and publishes a transformers folder with tokenizer, chat template and
a record (smolrecipe_post_training.json). A rerun of the same run is skipped or resumed, and says which.
See smolrecipe.post_training.launch for the details.
"""
from __future__ import annotations


def main(argv: list[str]) -> int:
    from smolrecipe.post_training.launch import run_step

    return run_step("dpo", argv)

"""`make sft RECIPE=<recipe>`: SFT with TRL from post_training/<recipe>/sft.yaml, launched through accelerate.

Usage:
    python -m smolrecipe sft --recipe tiny                     # (make sft RECIPE=tiny)
    python -m smolrecipe sft --recipe smollm2-1.7B --accelerate zero3 --dry-run
    python -m smolrecipe sft --recipe tiny --config sft --max_steps 10   # trailing --key value pairs go to TRL

Prints the command first, checks the YAML (TRL's parser, unknown keys fatal), the starting model and the data,
decontaminates the training data, runs TRL and publishes a transformers folder with tokenizer, chat template and
a record (smolrecipe_post_training.json). A rerun of the same run is skipped or resumed, and says which.
See smolrecipe.post_training.launch for the details.
"""
from __future__ import annotations


def main(argv: list[str]) -> int:
    from smolrecipe.post_training.launch import run_step

    return run_step("sft", argv)

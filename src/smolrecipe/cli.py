"""smolrecipe: one entry point per pipeline step.

Usage:
    python -m smolrecipe <command> [options]      (the Makefile calls this; `make help` lists the targets)
    python -m smolrecipe <command> --help

Each command lives in its own module with its own parser and a `main(argv) -> int`; this file only
dispatches, and turns a RecipeError (bad input) into a clear message and exit code 2 instead of a trace.
"""
from __future__ import annotations

import importlib
import sys

from smolrecipe.errors import NotBuiltYet, RecipeError

# command -> (module with main(argv), one line of help). "issue:N" marks a step whose issue has not landed.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("smolrecipe.commands.demo", "the tiny recipe end to end, one line per step (make demo)"),
    "versions": ("smolrecipe.commands.versions", "print the pinned upstream versions and what is installed"),
    "tokenizer": ("smolrecipe.commands.tokenizer", "train the tiny recipe's tokenizer locally (full recipes use cosmo2)"),
    "check": ("smolrecipe.commands.check", "validate a recipe's nanotron YAML files and their global schedule"),
    "plan": ("smolrecipe.commands.plan", "print stages, tokens, mixture and LR per stage; plot the LR schedule"),
    "data": ("smolrecipe.commands.data", "build the tokenized data folders a recipe's configs point to (datatrove)"),
    "pretrain": ("smolrecipe.commands.pretrain", "train one pretraining stage (nanotron on GPU, the local engine elsewhere)"),
    "long-context": ("smolrecipe.commands.long_context", "extend the context from a stage-4 checkpoint with the long-context YAML"),
    "cooldown": ("smolrecipe.commands.cooldown", "branch a cooldown (decay) run from a constant-LR checkpoint"),
    "average": ("smolrecipe.commands.average", "average saved checkpoints (SWA-style) into a transformers folder"),
    "convert": ("smolrecipe.commands.convert", "convert a nanotron checkpoint to a transformers folder"),
    "sft": ("smolrecipe.commands.sft", "supervised fine-tuning with TRL on the recipe's SFT YAML"),
    "dpo": ("smolrecipe.commands.dpo", "preference optimisation with TRL, starting from the SFT output"),
    "chat": ("smolrecipe.commands.chat", "talk to a model folder in the terminal with its chat template (streamed)"),
    "eval": ("smolrecipe.commands.eval", "evaluate a model with lighteval on a task suite (base, instruct, tiny)"),
    "eval-sweep": ("smolrecipe.commands.eval_sweep", "evaluate every checkpoint of a run; plot metrics against tokens"),
    "push": ("smolrecipe.commands.push", "upload a model, a run's checkpoints, a data set or a classifier to the Hub with a generated card"),
    "scaling": ("smolrecipe.commands.scaling", "schedules vs cooldowns, SWA/EMA, scaling laws from reusable runs (recipes/schedules)"),
    "report": ("smolrecipe.commands.report", "a recipe's report card: Markdown + PNGs and one self-contained HTML page"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [__doc__.strip().splitlines()[0], "", "commands:"]
    for name, (module, text) in COMMANDS.items():
        tag = "" if not module.startswith("issue:") else "   [not built yet]"
        lines.append(f"  {name:<{width}}  {text}{tag}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = COMMANDS[name][0]
    try:
        if module.startswith("issue:"):
            raise NotBuiltYet(
                f"`{name}` is not built yet (tracked by {module.replace(':', ' ')})",
                fix="see the README's pipeline section for what runs today",
            )
        return int(importlib.import_module(module).main(rest) or 0)
    except RecipeError as e:
        print(f"error: {e.render()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

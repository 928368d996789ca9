"""Train a recipe's tokenizer locally.

Usage: python -m smolrecipe tokenizer [--recipe tiny] [--force] [--dry-run]

Only the tiny recipe trains its own; the SmolLM2 recipes name HuggingFaceTB/cosmo2-tokenizer, which
transformers downloads from the Hub (or its cache) when a step first needs it.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from smolrecipe.config import load_recipe
from smolrecipe.errors import ConfigError
from smolrecipe.paths import resolve, shown


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe tokenizer", description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="tiny")
    parser.add_argument("--force", action="store_true", help="retrain even if an up-to-date tokenizer exists")
    parser.add_argument("--dry-run", action="store_true", help="say what would be trained and where; train nothing")
    args = parser.parse_args(argv)
    recipe = load_recipe(args.recipe, check_tokenizer=False)
    cfg = recipe.stages[0]
    name = cfg.tokenizer.tokenizer_name_or_path
    if not name.startswith("outputs/"):
        print(f"recipe {args.recipe} uses the Hub tokenizer {name}; nothing to train "
              f"(transformers fetches it on first use; offline, pre-download it with `hf download {name}`)")
        return 0
    from smolrecipe.tokenizer import train_tokenizer

    vocab = cfg.model.model_config.vocab_size
    out = resolve(name)
    if out.parts[-1] != Path(name).parts[-1]:
        raise ConfigError("unexpected tokenizer path", file=cfg.source_file, field="tokenizer.tokenizer_name_or_path")
    if args.dry_run:
        print(f"dry run: would train a byte-level BPE tokenizer of {vocab} tokens into {shown(out)} "
              f"(skipped when up to date; --force retrains)")
        return 0
    train_tokenizer(out, vocab_size=vocab, force=args.force)
    return 0

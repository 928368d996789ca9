"""Tokenization with datatrove's DocumentTokenizer: one folder per source, EOS after every document.

Output (REFERENCE.md section 7): `*.ds` token ids (uint16 for vocabularies up to 65,536), `*.ds.index`
document ends, `*.ds.metadata` = "<tokenizer>|<bytes per token>" then the token count; nanotron's
Nanoset and datatrove's DatatroveFolderDataset read the folder. `tokenizer_name_or_path` must be the path
of a tokenizer.json FILE (a folder is looked up on the Hub), or a Hub name such as
HuggingFaceTB/cosmo2-tokenizer on the cluster.
"""
from __future__ import annotations

from pathlib import Path

from datatrove.pipeline.tokens import DocumentTokenizer

from smolrecipe.errors import RecipeError

EOS = "<|endoftext|>"


def check_tokenizer(path: str | Path, *, recipe: str = "tiny") -> str:
    """The tokenizer.json file for a local tokenizer path (file or folder); a clear error if it is missing."""
    p = Path(path)
    if p.suffix != ".json":  # the config names the folder; datatrove needs the file inside it
        p = p / "tokenizer.json"
    if not p.is_file():
        raise RecipeError("tokenizer not found", file=str(p),
                          fix=f"make tokenizer RECIPE={recipe}   (trains it locally in about a minute)")
    return str(p)


def tokenizer_step(out_dir: str, tokenizer: str, *, seed: int = 42, batch_size: int = 10_000) -> DocumentTokenizer:
    """The DocumentTokenizer step; documents are shuffled inside each task's file (datatrove default)."""
    return DocumentTokenizer(output_folder=str(out_dir), tokenizer_name_or_path=tokenizer, eos_token=EOS,
                             save_final_metadata=True, seed=seed, batch_size=batch_size)


def folder_tokens(folder: str | Path) -> tuple[int, str | None, int]:
    """(tokens, tokenizer named in the metadata, files) of a tokenized folder; (0, None, 0) if absent."""
    folder = Path(folder)
    total, tokenizer, files = 0, None, 0
    for meta in sorted(folder.glob("*.ds.metadata")):
        lines = meta.read_text().splitlines()
        if len(lines) >= 2:
            tokenizer = lines[0].rsplit("|", 1)[0]
            total += int(lines[1])
            files += 1
    return total, tokenizer, files

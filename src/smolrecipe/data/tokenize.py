"""Tokenization with datatrove's DocumentTokenizer: one folder per source, EOS after every document.

`RecipeTokenizer` is datatrove's DocumentTokenizer with a faster unshuffled pass (the output files are
byte-identical, tests/test_data.py checks it): the next batch is read while the current one is encoded,
encoding skips character offsets unless loss masks need them, and a batch is packed into one buffer.

Output (REFERENCE.md section 7): `*.ds` token ids (uint16 for vocabularies up to 65,536), `*.ds.index`
document ends, `*.ds.metadata` = "<tokenizer>|<bytes per token>" then the token count; nanotron's
Nanoset and datatrove's DatatroveFolderDataset read the folder. datatrove loads a local tokenizer from a
tokenizer.json FILE (a folder is looked up on the Hub), while nanotron's config loader hands the recorded
name to AutoTokenizer, which wants the FOLDER: the metadata records the folder (`recorded_name`).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from itertools import chain
from pathlib import Path

import numpy as np
from datatrove.pipeline.tokens import DocumentTokenizer
from datatrove.pipeline.tokens.tokenizer import TokenizedFile
from datatrove.utils.batching import batched

from smolrecipe.errors import RecipeError
from smolrecipe.paths import repo_root, resolve

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


def recorded_name(tokenizer: str | Path) -> str:
    """The tokenizer name a tokenized folder records: what nanotron's config loader hands AutoTokenizer.

    A Hub name stays as it is. A local tokenizer is named by its FOLDER (AutoTokenizer refuses a tokenizer.json
    file path, which datatrove needs to load it), relative to the checkout when inside it (nanotron is launched
    from the checkout's root), else absolute."""
    p = Path(tokenizer)
    if not (p.exists() or resolve(p).exists()):
        return str(tokenizer)  # a Hub name
    folder = (p if p.exists() else resolve(p)).resolve()
    folder = folder.parent if folder.name == "tokenizer.json" else folder
    root = repo_root().resolve()
    return str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder)


def tokenizer_sha256(tokenizer: str | Path) -> str | None:
    """sha256 of a local tokenizer's tokenizer.json (file or folder); None for a Hub name."""
    import hashlib

    p = resolve(tokenizer) if not Path(tokenizer).exists() else Path(tokenizer)
    p = p / "tokenizer.json" if p.is_dir() else p
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


def record_path(folder: str | Path) -> Path:
    """`<folder>.tokenizer.json`, beside the folder (inside it, nanotron's and datatrove's readers would list it)."""
    return Path(str(folder).rstrip("/") + ".tokenizer.json")


def write_tokenizer_record(folder: str | Path, tokenizer: str | Path) -> None:
    """Which tokenizer (name and content hash) a tokenized folder was built with, so a retrained tokenizer at the same
    path is caught before training on ids of another vocabulary."""
    import json

    from smolrecipe.publish import atomic_write_text

    if "://" in str(folder):
        return
    atomic_write_text(record_path(folder), json.dumps({"tokenizer": recorded_name(tokenizer),
                                                       "sha256": tokenizer_sha256(tokenizer)}) + "\n")


class RecipeTokenizer(DocumentTokenizer):
    """DocumentTokenizer whose unshuffled pass overlaps reading with encoding (same files, same stats), and
    whose metadata names a tokenizer nanotron can load (`record_as`), not necessarily the file it was loaded from.

    Measured in benchmarks/bench_data.py: in datatrove's loop, reading and parsing gzip'd JSON took 20% of
    a task and the per-document `struct.pack` writes 5-10%, each waiting for the other and for the encoder.
    """

    def __init__(self, *args, record_as: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.load_from = self.tokenizer_name_or_path
        if record_as:
            self.tokenizer_name_or_path = record_as  # what every .ds.metadata (and datatrove's shuffled files) name

    @cached_property
    def tokenizer(self):
        recorded, self.tokenizer_name_or_path = self.tokenizer_name_or_path, self.load_from
        try:
            return DocumentTokenizer.tokenizer.func(self)  # datatrove's loading and EOS post-processor
        finally:
            self.tokenizer_name_or_path = recorded

    def write_unshuffled(self, data, filename: str) -> TokenizedFile:
        if self.save_loss_metadata:  # loss masks map character ranges to tokens: they need the offsets
            return super().write_unshuffled(data, filename)
        unshuff = self._unshuffled_file(filename)
        # ids are the same either way; the _fast variant (tokenizers >= 0.21) does not compute offsets
        encode = getattr(self.tokenizer, "encode_batch_fast", self.tokenizer.encode_batch)
        dtype = "<u2" if self.token_size == 2 else "<u4"  # little-endian, as datatrove's struct.pack("<H"/"<I")
        # encode_batch releases the GIL: the worker encodes batch k while this thread reads batch k+1
        # (the reader runs when `batched` pulls documents) and writes batch k-1
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for batch in batched(data, self.batch_size):
                job = pool.submit(encode, [document.text for document in batch])
                if pending is not None:
                    self._write_encoded(unshuff, pending, dtype)
                pending = job
            if pending is not None:
                self._write_encoded(unshuff, pending, dtype)
        unshuff.close()
        return unshuff

    def _unshuffled_file(self, filename: str) -> TokenizedFile:
        """The file the parent's write_unshuffled would open, for datatrove 0.10 and for the GPU pin."""
        if hasattr(self, "shuffle_documents"):  # datatrove >= 0.5 (the CPU environment)
            shuffled = bool(self.shuffle_documents or self.shuffle_chunk_size)
            save_index = bool(self.save_index or shuffled)
        else:  # the GPU environment's datatrove (2c895af7): `shuffle`, and no index kept when shuffling
            shuffled = self.shuffle
            save_index = not shuffled
        return TokenizedFile(
            self.local_working_dir if shuffled and self.local_working_dir else self.output_folder, filename,
            save_index=save_index, save_loss_metadata=False, upload_block_size=self.upload_block_size,
            tokenizer_name_or_path=self.tokenizer_name_or_path, save_final_metadata=self.save_final_metadata,
            token_size=self.token_size)

    def _write_encoded(self, unshuff: TokenizedFile, job, dtype) -> None:
        with self.track_time(unit="batch"):  # the wait for the encoder counts in the step's time, as in datatrove
            ids = [e.ids for e in job.result()]
            lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
            # token_size is 2 only when the vocabulary fits in uint16, so the cast never wraps
            flat = np.fromiter(chain.from_iterable(ids), dtype=dtype, count=int(lengths.sum()))
            unshuff.write_bytes(flat.tobytes(), doc_ends=np.cumsum(lengths).tolist())
            for n in lengths.tolist():
                self.stat_update("tokens", value=n)


def tokenizer_step(out_dir: str, tokenizer: str, *, seed: int = 42, batch_size: int = 1_000) -> DocumentTokenizer:
    """The tokenization step; documents are shuffled inside each task's file (datatrove default). `tokenizer` is
    a tokenizer.json file (loaded by datatrove) or a Hub name; the metadata records `recorded_name(tokenizer)`.

    Batches of 1,000 rather than datatrove's 10,000: with reading overlapped, smaller batches leave the
    encoder less time waiting for the first batch (0.77-0.85 -> 1.0 of encode_batch in benchmarks/).
    """
    return RecipeTokenizer(output_folder=str(out_dir), tokenizer_name_or_path=str(tokenizer), eos_token=EOS,
                           save_final_metadata=True, seed=seed, batch_size=batch_size, record_as=recorded_name(tokenizer))


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

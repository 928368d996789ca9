"""Training samples from datatrove tokenized folders, in the order nanotron's Nanoset/TokenizedBytes reads them.

    reader = StageReader(stage_data(cfg, i), offsets_tokens={folder: tokens}, consumed_samples=0, root=repo_root())
    batch = reader.next_samples(8)      # int64 tensor [8, seq_len + 1]
    reader.state()                      # what a checkpoint stores to resume exactly

Semantics (REFERENCE.md sections 6-7, read from nanotron's tokenized_bytes.py and BlendableDataset):
- a folder is its `*.ds` files in sorted order; each file is cut into non-overlapping windows of
  seq_len + 1 tokens (the extra token is the last label), the remainder of each file is dropped;
- folders are blended deterministically: stage-local sample i goes to the folder d maximising
  w_d * max(i, 1) - n_d (n_d = samples taken from d so far), ties to the lowest index;
- each folder is read sequentially and wraps around (a new epoch) when exhausted;
- a stage resumes from its consumed sample count (the blend is replayed, which is cheap and exact);
- a new stage starts each folder after the samples earlier stages took from it. As nanotron (the pinned
  smollm3 commit, run_train.py + tokenized_bytes.py + BlendableDataset) does it: each stage records
  tokens = samples x sequence_length per folder, and the next stage offsets the folder by
  (sum of those tokens) // its own sequence_length windows. With an unchanged sequence length that
  is exactly the samples already read; after a longer context it re-reads part of the folder, as on GPU.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from smolrecipe.errors import ConfigError


def blend_assignments(weights, n_samples: int, start_counts=None) -> tuple[np.ndarray, np.ndarray]:
    """Folder and per-folder sample number of each stage-local sample 0..n_samples-1 (Megatron/nanotron blending)."""
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    counts = np.zeros(len(w), dtype=np.int64) if start_counts is None else np.array(start_counts, dtype=np.int64)
    folder = np.empty(n_samples, dtype=np.int64)
    number = np.empty(n_samples, dtype=np.int64)
    start = int(counts.sum())
    for k in range(n_samples):
        i = start + k
        d = int(np.argmax(w * max(i, 1.0) - counts))
        folder[k], number[k] = d, counts[d]
        counts[d] += 1
    return folder, number


def blend_counts(weights, n_samples: int) -> np.ndarray:
    """Samples taken from each folder after the first n_samples of a stage."""
    if n_samples == 0:
        return np.zeros(len(weights), dtype=np.int64)
    folder, _ = blend_assignments(weights, n_samples)
    return np.bincount(folder, minlength=len(weights)).astype(np.int64)


def read_metadata(ds_file: Path) -> tuple[str, int]:
    """(tokenizer, bytes per token) from `<file>.ds.metadata`; uint16 when the file is absent (datatrove's default)."""
    meta = ds_file.with_name(ds_file.name + ".metadata")
    if not meta.exists():
        return "", 2
    first = meta.read_text().splitlines()[0]
    name, _, size = first.rpartition("|")
    return name, int(size) if size.strip().isdigit() else 2


class TokenFolder:
    """One tokenized folder as a sequence of seq_len+1 windows: file by file in sorted order, each file's remainder dropped."""

    def __init__(self, folder: Path, seq_len: int):
        self.folder, self.seq_len = folder, seq_len
        files = sorted(folder.glob("*.ds"))
        if not files:
            raise ConfigError(
                "no tokenized *.ds files", file=str(folder), field="data_stages.data.dataset.dataset_folder",
                fix="build the data first (make data RECIPE=...) or fix the folder path",
            )
        width = read_metadata(files[0])[1]
        self.dtype = np.dtype("<u2") if width == 2 else np.dtype("<u4")
        self.files, counts = [], []
        for path in files:
            windows = (path.stat().st_size // self.dtype.itemsize) // (seq_len + 1)
            if windows:
                self.files.append(np.memmap(path, dtype=self.dtype, mode="r"))
                counts.append(windows)
        self.lens = np.cumsum([0] + counts)
        if self.lens[-1] == 0:
            raise ConfigError(f"fewer than {seq_len + 1} tokens in every file of the folder", file=str(folder),
                              fix="build more data or lower the sequence length")

    def __len__(self) -> int:
        return int(self.lens[-1])

    def window(self, item: int) -> np.ndarray:
        item %= len(self)  # sequential reading wraps around: a new epoch over the folder
        j = int(np.searchsorted(self.lens, item, side="right")) - 1
        start = (item - int(self.lens[j])) * (self.seq_len + 1)
        return np.asarray(self.files[j][start:start + self.seq_len + 1], dtype=np.int64)


@dataclass
class StageData:
    """The data of one nanotron data stage, resolved to absolute folders."""

    name: str
    start_training_step: int
    folders: list[str]   # as written in the config (the key of per-folder statistics)
    weights: list[float]
    seq_len: int


def stage_data(cfg, index: int) -> StageData:
    st = cfg.data_stages[index]
    ds = st.data.dataset
    if ds is None:
        raise ConfigError("the local engine reads tokenized folders", file=getattr(cfg, "source_file", None),
                          field=f"data_stages[{index}].data.dataset", fix="set dataset_folder / dataset_weights")
    return StageData(st.name, st.start_training_step, ds.folders, ds.weights, st.sequence_length or cfg.tokens.sequence_length)


def stage_index_for_step(cfg, step: int) -> int:
    """Index of the data stage that trains iteration `step` (the last one whose start_training_step <= step)."""
    best = 0
    for i, st in enumerate(cfg.data_stages):
        if st.start_training_step <= step:
            best = i
    return best


class StageReader:
    """Sequential blended reader of one stage; `consumed_samples` counts this stage's samples already trained on."""

    def __init__(self, data: StageData, offsets_tokens: dict[str, int], consumed_samples: int, root: Path):
        self.data = data
        self.consumed = int(consumed_samples)
        # Earlier stages' tokens -> a window offset at this stage's sequence length (nanotron's integer division).
        self.offsets = [int(offsets_tokens.get(f, 0)) // data.seq_len for f in data.folders]
        self.folders = []
        for f in data.folders:
            path = Path(f) if Path(f).is_absolute() else root / f
            if not path.is_dir():
                raise ConfigError(
                    "tokenized data folder not found", file=str(path), field="data_stages.data.dataset.dataset_folder",
                    fix="run `make data RECIPE=...` first (or fix the path; relative paths are from the repository root)",
                )
            self.folders.append(TokenFolder(path, data.seq_len))
        self.weights = np.asarray(data.weights, dtype=np.float64) / float(np.sum(data.weights))
        self.counts = blend_counts(self.weights, self.consumed)

    def next_samples(self, n: int) -> torch.Tensor:
        folder, number = blend_assignments(self.weights, n, self.counts)
        rows = [self.folders[d].window(int(k) + self.offsets[d]) for d, k in zip(folder, number)]
        self.counts += np.bincount(folder, minlength=len(self.folders))
        self.consumed += n
        return torch.from_numpy(np.stack(rows))

    def skip_samples(self, n: int) -> None:
        """Advance past n samples without reading them (used to skip the batches of a loss spike)."""
        folder, _ = blend_assignments(self.weights, n, self.counts)
        self.counts += np.bincount(folder, minlength=len(self.folders))
        self.consumed += n

    def per_folder(self) -> dict[str, dict[str, int]]:
        """Samples and tokens this stage read from each folder (tokens = samples x seq_len, nanotron's bookkeeping)."""
        return {
            f: {"samples": int(c), "tokens": int(c) * self.data.seq_len}
            for f, c in zip(self.data.folders, self.counts)
        }

    def epochs(self) -> dict[str, float]:
        """Passes over each folder so far, this stage's offset included (> 1 means repeated data)."""
        return {f: (float(c) + o) / len(t) for f, c, o, t in zip(self.data.folders, self.counts, self.offsets, self.folders)}


def carried_offsets(stages_meta: list[dict], current_name: str) -> dict[str, int]:
    """Tokens each folder gave to every stage but `current_name` (nanotron's last_stages_consumed_tokens_per_dataset_folder)."""
    out: dict[str, int] = {}
    for st in stages_meta:
        if st["name"] == current_name:
            continue
        for folder, stat in st.get("per_folder", {}).items():
            out[folder] = out.get(folder, 0) + int(stat["tokens"])
    return out

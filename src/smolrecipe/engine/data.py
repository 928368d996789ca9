"""Training samples from datatrove tokenized folders, read the way the pinned nanotron reads them.

    data = LaunchData(cfg, stages_meta, step=S, vocab_size=V)   # the launch's data stage, resumed at step S
    batch = data.next_samples(8)                                 # int64 tensor [8, seq_len + 1]
    data.record_iteration(it)                                    # nanotron's per-step consumption record
    data.meta()                                                  # what a checkpoint stores to resume exactly

What nanotron does at the pinned smollm3 commit (bc1f5a61; REFERENCE.md sections 6-7), and so what this does:
- A launch trains the LAST data stage of its config (run_train.py builds only that stage's dataloader); the
  launch starts at that stage's start_training_step or resumes inside it. Earlier stages are history.
- A folder is its `*.ds` files in sorted order, each cut into non-overlapping windows of seq_len + 1 tokens,
  each file's remainder dropped.
- The folders of a stage are blended by BlendableDataset: the YAML's raw weights normalised ONCE in float64,
  then stage-local sample i goes to the folder d maximising w_d * max(i, 1) - n_d (helpers.cpp, first index
  on ties). Sample i of the stage is window n_d + offset_d of folder d.
- Past the end of a folder: the default reader (datatrove's DatatroveFolderDataset) raises IndexError, the
  run crashes; `use_old_brrr_dataloader: true` selects the per-file reader that wraps (`item % len`).
- After each iteration `it` the trainer records consumption on the stage's blend at positions
  [(it - 1) * gbs, it * gbs): counted from the GLOBAL step, not from the stage's own first sample. Those records
  (consumed_tokens_per_dataset_folder, tokens = samples x sequence_length) are what the next stage carries:
  its offset in folder d is (sum of earlier stages' recorded tokens of d) // its sequence length.
Stored per stage: samples trained, the blend state of the trained and the recorded cursor (so a resume costs
O(1), not a replay of the stage), the recorded tokens and the offsets.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from smolrecipe.errors import ConfigError, RecipeError
from smolrecipe.paths import resolve

# ------------------------------------------------------------------------------------------------ blending


def normalised_weights(raw_weights) -> list[float]:
    """BlendableDataset's normalisation, done once: float64 array divided by its sum."""
    w = np.array(raw_weights, dtype=np.float64)
    w /= np.sum(w)
    return [float(x) for x in w]


class Blend:
    """A cursor on the blending order of helpers.cpp `build_blending_indices`: position and per-folder counts.

    Python floats are IEEE doubles, so `w * x - c` is computed exactly as the C++ loop computes it."""

    def __init__(self, weights: list[float], position: int = 0, counts: list[int] | None = None):
        self.w = [float(x) for x in weights]
        self.position = int(position)
        self.counts = [0] * len(self.w) if counts is None else [int(c) for c in counts]
        if counts is None and position:
            self.position = 0
            self.advance(position)  # a replay; checkpoints store counts so resumes never need it

    def take(self, n: int) -> list[tuple[int, int]]:
        """(folder, folder-local sample number) of the next n positions."""
        w, c, out = self.w, self.counts, []
        k = len(w)
        for i in range(self.position, self.position + n):
            x = float(i) if i > 1 else 1.0
            best, best_err = 0, w[0] * x - c[0]
            for d in range(1, k):
                e = w[d] * x - c[d]
                if e > best_err:
                    best, best_err = d, e
            out.append((best, c[best]))
            c[best] += 1
        self.position += n
        return out

    def advance(self, n: int) -> list[int]:
        """Move n positions on; returns how many of them went to each folder."""
        before = list(self.counts)
        self.take(n)
        return [a - b for a, b in zip(self.counts, before)]

    def state(self) -> dict:
        return {"position": self.position, "counts": list(self.counts)}

    @classmethod
    def from_state(cls, weights, state: dict) -> "Blend":
        return cls(weights, state["position"], state["counts"])


def blend_counts(raw_weights, n_samples: int) -> list[int]:
    """Samples each folder gives to the first n_samples of a stage (exact; a replay, O(n))."""
    return Blend(normalised_weights(raw_weights), n_samples).counts


def blend_count_bounds(raw_weights, n_samples: int) -> list[tuple[int, int]]:
    """Bounds on blend_counts without the replay, for stages too long to replay (billions of samples).

    The greedy blend keeps each folder close to its share w_d * n: over 120 random blends of 2-10 folders and
    60,000 samples each the largest gap was 1.72 samples, so K samples (K = number of folders) is a safe margin."""
    k = len(raw_weights)
    return [(max(0, int(np.floor(w * n_samples)) - k), int(np.ceil(w * n_samples)) + k)
            for w in normalised_weights(raw_weights)]


# ------------------------------------------------------------------------------------------------ folders


def read_metadata(ds_file: Path) -> tuple[str, int]:
    """(tokenizer, bytes per token) from `<file>.ds.metadata`; uint16 when the file is absent (datatrove's default)."""
    meta = ds_file.with_name(ds_file.name + ".metadata")
    if not meta.exists():
        return "", 2
    first = meta.read_text().splitlines()[0] if meta.stat().st_size else ""
    name, _, size = first.rpartition("|")
    return name, int(size) if size.strip().isdigit() else 2


def same_tokenizer(recorded: str, configured: str) -> bool:
    """Do two tokenizer names mean the same tokenizer? (local folder vs its tokenizer.json, relative vs absolute)"""
    if not recorded or recorded == configured:
        return True

    def norm(name: str) -> str:
        p = Path(name)
        if p.name == "tokenizer.json":
            p = p.parent
        local = resolve(p)
        return str(local.resolve()) if local.exists() else str(p)

    return norm(recorded) == norm(configured)


class TokenFolder:
    """One tokenized folder as a sequence of seq_len+1 windows: file by file in sorted order, each file's remainder
    dropped. Checked when opened: whole files (size and document index agree), ids below the vocabulary size, and
    the tokenizer named in the metadata is the config's."""

    def __init__(self, folder: Path, seq_len: int, *, vocab_size: int | None = None, tokenizer: str | None = None,
                 name: str | None = None):
        self.folder, self.seq_len, self.name = folder, seq_len, name or str(folder)
        fix = "rebuild it: make data RECIPE=<recipe> (a copy or a write was cut short)"
        files = sorted(folder.glob("*.ds"))
        if not files:
            raise ConfigError("no tokenized *.ds files", file=str(folder), field="data_stages.data.dataset.dataset_folder",
                              fix="build the data first (make data RECIPE=...) or fix the folder path")
        recorded, width = read_metadata(files[0])
        if tokenizer and not same_tokenizer(recorded, tokenizer):
            raise ConfigError(f"the folder was tokenized with {recorded!r}, the config trains with {tokenizer!r}",
                              file=str(files[0]) + ".metadata", field="tokenizer.tokenizer_name_or_path",
                              fix="rebuild the data with the config's tokenizer (make data RECIPE=...), or name the "
                                  "tokenizer the data was built with")
        self._check_tokenizer_content(folder, tokenizer)
        self.dtype = np.dtype("<u2") if width == 2 else np.dtype("<u4")
        self.files, counts = [], []
        for path in files:
            size = path.stat().st_size
            if size % self.dtype.itemsize:
                raise ConfigError(f"truncated token file: {size} bytes is not a whole number of "
                                  f"{self.dtype.itemsize}-byte token ids", file=str(path), fix=fix)
            tokens = np.memmap(path, dtype=self.dtype, mode="r") if size else np.zeros(0, self.dtype)
            self._check_index(path, len(tokens), fix)
            if vocab_size is not None and len(tokens) and int(tokens.max()) >= vocab_size:
                bad = int(tokens.max())
                raise ConfigError(f"token id {bad} at position {int(np.argmax(tokens >= vocab_size))} is outside the "
                                  f"model's vocabulary of {vocab_size}", file=str(path), field="model.model_config.vocab_size",
                                  fix="the data was tokenized with another tokenizer: rebuild it with the config's "
                                      "tokenizer (make data RECIPE=...), or set vocab_size to the tokenizer's size")
            windows = len(tokens) // (seq_len + 1)
            if windows:
                self.files.append(tokens)
                counts.append(windows)
        self.lens = np.cumsum([0] + counts)
        if self.lens[-1] == 0:
            raise ConfigError(f"fewer than {seq_len + 1} tokens in every file of the folder", file=str(folder),
                              fix="build more data or lower the sequence length")

    @staticmethod
    def _check_tokenizer_content(folder: Path, tokenizer: str | None) -> None:
        """The same name is not enough: a tokenizer retrained at the same path gives other ids (make data records
        the tokenizer.json's sha256 beside each folder it tokenizes)."""
        import json

        from smolrecipe.data.tokenize import record_path, tokenizer_sha256

        rec = record_path(folder)
        if not tokenizer or not rec.is_file():
            return
        built_with, now = json.loads(rec.read_text()).get("sha256"), tokenizer_sha256(tokenizer)
        if built_with and now and built_with != now:
            raise ConfigError(f"the folder was tokenized with another version of {tokenizer} (tokenizer.json sha256 "
                              f"{built_with[:12]} then, {now[:12]} now): the ids would mean other tokens",
                              file=str(folder), field="tokenizer.tokenizer_name_or_path",
                              fix="rebuild the data with this tokenizer: make data RECIPE=<recipe> (it rebuilds only what changed)")

    @staticmethod
    def _check_index(path: Path, n_tokens: int, fix: str) -> None:
        index = path.with_name(path.name + ".index")
        if not index.exists() or index.stat().st_size < 8:
            return
        with open(index, "rb") as f:
            f.seek(-8, 2)
            end = int(np.frombuffer(f.read(8), dtype="<u8")[0])
        if end != n_tokens:
            raise ConfigError(f"the file holds {n_tokens} tokens but its document index ends at {end}",
                              file=str(path), fix=fix)

    def __len__(self) -> int:
        return int(self.lens[-1])

    def window(self, item: int) -> np.ndarray:
        j = int(np.searchsorted(self.lens, item, side="right")) - 1
        start = (item - int(self.lens[j])) * (self.seq_len + 1)
        return np.asarray(self.files[j][start:start + self.seq_len + 1], dtype=np.int64)


class DataExhausted(RecipeError):
    """A stage asked for a window past the end of a folder under a reader that does not wrap (nanotron crashes)."""


def exhausted_error(folder: str, needed: int, available: int, stage: str, where: str, file=None) -> DataExhausted:
    return DataExhausted(
        f"data stage {stage} needs window {needed:,} of {folder} but it has {available:,} windows; nanotron's default "
        f"reader raises IndexError there ({where})", file=file, field="data_stages.data.dataset",
        fix="set use_old_brrr_dataloader: true in the stage's dataset (the reader that wraps around to a new epoch), "
            "build more data for the folder, or lower its weight")


# ------------------------------------------------------------------------------------------------ stages


@dataclass
class StageData:
    """The data of one nanotron data stage, as the config writes it."""

    name: str
    start_training_step: int
    folders: list[str]          # as written in the config (the key of per-folder statistics)
    raw_weights: list[float]    # as written (normalised once, by the blend)
    seq_len: int
    wraps: bool                 # use_old_brrr_dataloader: the reader wraps past a folder's end

    @property
    def weights(self) -> list[float]:
        return normalised_weights(self.raw_weights)


def stage_data(cfg, index: int = -1) -> StageData:
    st = cfg.data_stages[index]
    ds = st.data.dataset
    if ds is None:
        raise ConfigError("the local engine reads tokenized folders", file=getattr(cfg, "source_file", None),
                          field=f"data_stages[{index}].data.dataset", fix="set dataset_folder / dataset_weights")
    raw = ds.dataset_weights if ds.dataset_weights else [1] * len(ds.folders)  # nanotron: equal weights when unset
    return StageData(st.name, st.start_training_step, ds.folders, [float(w) for w in raw],
                     st.sequence_length or cfg.tokens.sequence_length, bool(ds.use_old_brrr_dataloader))


def new_stage_meta(data: StageData, seq_len: int) -> dict:
    return {"name": data.name, "start_training_step": data.start_training_step, "sequence_length": seq_len,
            "consumed_samples": 0, "consumed_tokens_per_dataset_folder": {}}


def carried_tokens(stages_meta: list[dict]) -> dict[str, int]:
    """run_train.py `last_stages_consumed_tokens_per_dataset_folder`: the recorded tokens of every stage but the last."""
    out: dict[str, int] = {}
    for st in stages_meta[:-1]:
        recorded = st.get("consumed_tokens_per_dataset_folder")
        if recorded is None:  # checkpoints written before the record was kept: what the stage trained on
            recorded = {f: v["tokens"] for f, v in st.get("per_folder", {}).items()}
        for folder, tokens in recorded.items():
            out[folder] = out.get(folder, 0) + int(tokens)
    return out


class StageReader:
    """Sequential blended reader of one stage: `consumed` samples already trained, offsets carried in."""

    def __init__(self, data: StageData, offsets: list[int], folders: list[TokenFolder], *, consumed: int = 0,
                 blend_state: dict | None = None):
        self.data, self.offsets, self.folders = data, offsets, folders
        self.blend = Blend.from_state(data.weights, blend_state) if blend_state else Blend(data.weights, consumed)
        if self.blend.position != consumed:
            raise ConfigError(f"stored blend position {self.blend.position} differs from consumed samples {consumed}",
                              field="metadata.json data_stages", fix="resume from an intact checkpoint")

    @property
    def consumed(self) -> int:
        return self.blend.position

    def next_samples(self, n: int, *, step: int | None = None) -> torch.Tensor:
        rows = []
        for d, k in self.blend.take(n):
            item = k + self.offsets[d]
            size = len(self.folders[d])
            if item >= size:
                if not self.data.wraps:
                    raise exhausted_error(self.data.folders[d], item, size, self.data.name,
                                          f"at iteration {step}" if step else "while reading")
                item %= size
            rows.append(self.folders[d].window(item))
        return torch.from_numpy(np.stack(rows))

    def per_folder(self) -> dict[str, dict[str, int]]:
        """Samples and tokens this stage trained on from each folder."""
        return {f: {"samples": int(c), "tokens": int(c) * self.data.seq_len}
                for f, c in zip(self.data.folders, self.blend.counts)}

    def epochs(self) -> dict[str, float]:
        """Passes over each folder so far, this stage's offset included (> 1 means repeated data)."""
        return {f: (c + o) / len(t) for f, c, o, t in zip(self.data.folders, self.blend.counts, self.offsets, self.folders)}


class LaunchData:
    """The data side of one launch of one config (see the module doc for the semantics)."""

    def __init__(self, cfg, stages_meta: list[dict] | None, step: int, *, vocab_size: int | None = None):
        self.cfg = cfg
        self.data = stage_data(cfg, -1)
        self.gbs = cfg.tokens.micro_batch_size * cfg.tokens.batch_accumulation_per_replica * cfg.parallelism.dp
        self.seq_len = cfg.tokens.sequence_length
        source = getattr(cfg, "source_file", None)
        if self.data.seq_len != self.seq_len:
            raise ConfigError(f"data stage {self.data.name} has sequence_length {self.data.seq_len} but "
                              f"tokens.sequence_length is {self.seq_len}", file=source,
                              field=f"data_stages[{len(cfg.data_stages) - 1}].sequence_length",
                              fix="a launch trains one sequence length: put a longer context in its own config")
        self.stages = self._stages(cfg, stages_meta, step, source)
        meta = self.stages[-1]
        tokens = carried_tokens(self.stages)
        self.offsets = [tokens.get(f, 0) // self.seq_len for f in self.data.folders]
        meta["offsets_samples"] = dict(zip(self.data.folders, self.offsets))
        folders = [TokenFolder(self._folder_path(f), self.seq_len, vocab_size=vocab_size,
                               tokenizer=cfg.tokenizer.tokenizer_name_or_path, name=f) for f in self.data.folders]
        self.reader = StageReader(self.data, self.offsets, folders, consumed=int(meta["consumed_samples"]),
                                  blend_state=meta.get("blend"))
        # nanotron's record starts at the blend position of the launch's first iteration: (step) * gbs
        recorded = meta.get("recorded_blend")
        self.recorded = Blend.from_state(self.data.weights, recorded) if recorded else Blend(self.data.weights, step * self.gbs)
        self.recorded_tokens = {f: int(v) for f, v in meta.get("consumed_tokens_per_dataset_folder", {}).items()}

    def _stages(self, cfg, stages_meta, step, source) -> list[dict]:
        """The run's stage records, the launch's stage last (nanotron's get_dataloader rules)."""
        stages = [dict(s) for s in (stages_meta or [])]
        if stages and stages[-1]["name"] == self.data.name:
            return stages
        if step + 1 != self.data.start_training_step:
            where = f"the checkpoint is at step {step}" if stages_meta else "a new run starts at step 1"
            raise ConfigError(
                f"this launch would start at iteration {step + 1}, inside no stage it can train: nanotron trains the last "
                f"data stage of a config ({self.data.name}, start_training_step {self.data.start_training_step}) and "
                f"{where}", file=source, field=f"data_stages[{len(cfg.data_stages) - 1}].start_training_step",
                fix=f"set start_training_step: {step + 1} for a new stage, or resume the checkpoint that ends at step "
                    f"{self.data.start_training_step - 1}")
        if any(s["name"] == self.data.name for s in stages):
            raise ConfigError(f"the checkpoint already has a finished data stage named {self.data.name}", file=source,
                              field=f"data_stages[{len(cfg.data_stages) - 1}].name", fix="give the new stage its own name")
        return stages + [new_stage_meta(self.data, self.seq_len)]

    def _folder_path(self, folder: str) -> Path:
        path = resolve(folder)
        if not path.is_dir():
            raise ConfigError("tokenized data folder not found", file=str(path),
                              field="data_stages.data.dataset.dataset_folder",
                              fix="run `make data RECIPE=...` first (or fix the path; relative paths are from the repository root)")
        return path

    def next_samples(self, n: int, *, step: int | None = None) -> torch.Tensor:
        return self.reader.next_samples(n, step=step)

    def record_iteration(self, it: int) -> None:
        """nanotron's update_consumption_metrics(start=(it-1)*gbs, end=it*gbs) on the stage's blend."""
        if self.recorded.position != (it - 1) * self.gbs:
            raise RuntimeError(f"recorded blend at {self.recorded.position}, iteration {it} expects {(it - 1) * self.gbs}")
        for f, n in zip(self.data.folders, self.recorded.advance(self.gbs)):
            if n:
                self.recorded_tokens[f] = self.recorded_tokens.get(f, 0) + n * self.seq_len

    def restore_record(self, stage_meta: dict | None, step: int) -> None:
        """After a rewind to a checkpoint at `step`: its record, as nanotron restarted from it would have (the trained
        cursor is kept, so the rewound batches are skipped)."""
        if stage_meta and stage_meta.get("name") == self.data.name and stage_meta.get("recorded_blend"):
            self.recorded = Blend.from_state(self.data.weights, stage_meta["recorded_blend"])
            self.recorded_tokens = {f: int(v) for f, v in stage_meta.get("consumed_tokens_per_dataset_folder", {}).items()}
        else:  # the rewind target is the launch's starting checkpoint, before this stage's first iteration
            self.recorded, self.recorded_tokens = Blend(self.data.weights, step * self.gbs), {}

    def meta(self) -> list[dict]:
        """Every stage record, the current one brought up to date: what a checkpoint stores."""
        current = dict(self.stages[-1], consumed_samples=self.reader.consumed, per_folder=self.reader.per_folder(),
                       epochs=self.reader.epochs(), blend=self.reader.blend.state(),
                       recorded_blend=self.recorded.state(),
                       consumed_tokens_per_dataset_folder=dict(self.recorded_tokens))
        return [*self.stages[:-1], current]

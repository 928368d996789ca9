"""Educational-quality classifier: a transformers encoder + regression head, trained on annotations,
applied as a datatrove filter.

    train(annotations, out_dir, tokenizer_file=..., threshold=3)      # tiny: small BERT from scratch
    train(annotations, out_dir, backbone="path/to/encoder")            # full: frozen pretrained encoder
    EduClassifierFilter(out_dir, threshold=3, score_key="edu_score")  # in a pipeline

FineWeb-Edu trained a regression head on frozen Snowflake-arctic-embed embeddings; Stack-Edu on
StarEncoder; FineMath the same recipe on its math scores. The regression output is rounded to an
integer score; documents with int score >= threshold are kept (3 by default, 2 for Java in Stack-Edu).
The tiny recipe has no pretrained encoder offline, so it trains a 2-layer BERT (transformers BertModel)
end to end on the tiny tokenizer: small enough to train in seconds and to score ~1k docs/s on 2 cores.
"""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

from datatrove.pipeline.filters.base_filter import BaseFilter

from smolrecipe.errors import RecipeError
from smolrecipe.publish import publishing

TINY_ENCODER = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128)


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # per-shard progress bars on every load/save drown the pipeline's summary


def _tokenizer(model_dir: Path | None, tokenizer_file: Path | None, max_length: int):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if tokenizer_file is not None:
        tok = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_file))
        if tok.pad_token is None:
            tok.pad_token = "<|pad|>" if "<|pad|>" in tok.get_vocab() else tok.convert_ids_to_tokens(0)
    else:
        tok = AutoTokenizer.from_pretrained(str(model_dir))
    tok.model_max_length = max_length
    return tok


def _head(text: str, max_length: int) -> str:
    """The start of a document, cut before tokenizing: a fast tokenizer encodes the whole text before it
    truncates, and a 700 kB source file costs seconds per batch for 128 tokens kept (~4 chars/token, x2 slack)."""
    return text[: max_length * 8]


def binary_metrics(pred: list[float], gold: list[float], threshold: float) -> dict:
    """Precision / recall / F1 of 'int score >= threshold' (the keep decision), plus regression MSE."""
    p = [round(x) >= threshold for x in pred]
    g = [x >= threshold for x in gold]
    tp = sum(a and b for a, b in zip(p, g))
    fp = sum(a and not b for a, b in zip(p, g))
    fn = sum(b and not a for a, b in zip(p, g))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    mse = sum((a - b) ** 2 for a, b in zip(pred, gold)) / max(len(gold), 1)
    return {"f1": round(f1, 4), "precision": round(prec, 4), "recall": round(rec, 4), "mse": round(mse, 4),
            "positives": sum(g), "n": len(gold)}


def annotation_files(path: Path) -> list[Path]:
    """A jsonl file, or every *.jsonl / *.jsonl.gz in a folder (data/annotate.py writes a folder of chunks)."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.name.endswith((".jsonl", ".jsonl.gz")))
    return [path] if path.is_file() else []


def read_annotations(path: Path) -> list[tuple[str, float]]:
    import gzip

    rows = []
    files = annotation_files(path)
    if not files:
        raise RecipeError("no annotations found", file=str(path), field="--annotations",
                          fix="pass the jsonl file or the folder data/annotate.py wrote")
    for f in files:
        with (gzip.open(f, "rt", encoding="utf-8") if f.name.endswith(".gz") else open(f, encoding="utf-8")) as fh:
            for line in fh:
                if not line.strip():
                    continue
                d = json.loads(line)
                if d.get("score") is None:
                    continue  # a judge reply without a score: already counted by the annotation step
                rows.append((d["text"], float(d["score"])))
    if len(rows) < 20:
        raise RecipeError(f"only {len(rows)} scored annotations", file=str(path), field="score",
                          fix="annotate more documents (data/annotate.py --sample N)")
    return rows


def train(annotations: Path, out_dir: Path, *, tokenizer_file: Path | None = None, backbone: str | None = None,
          threshold: float = 3, scale: str = "edu", epochs: int = 4, batch_size: int = 32, lr: float = 1e-3,
          max_length: int = 128, seed: int = 0, val_fraction: float = 0.1, threads: int = 1,
          min_steps: int = 150, extra_info: dict | None = None) -> dict:
    """Train the classifier, write it to out_dir (model/, tokenizer, classifier.json) atomically; return metrics."""
    import torch
    from transformers import AutoModelForSequenceClassification, BertConfig, BertForSequenceClassification

    _quiet_transformers()
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rows = read_annotations(annotations)
    random.Random(seed).shuffle(rows)
    n_val = max(10, int(len(rows) * val_fraction))
    val, tr = rows[:n_val], rows[n_val:]
    if backbone:
        tok = _tokenizer(Path(backbone), None, max_length)
        model = AutoModelForSequenceClassification.from_pretrained(backbone, num_labels=1, problem_type="regression")
        base = getattr(model, model.base_model_prefix)
        for p in base.parameters():  # FineWeb-Edu: frozen embeddings, only the head learns
            p.requires_grad = False
    else:
        if tokenizer_file is None or not Path(tokenizer_file).is_file():
            raise RecipeError(f"tokenizer file {tokenizer_file} not found", field="tokenizer_file",
                              fix="make tokenizer RECIPE=tiny")
        tok = _tokenizer(None, Path(tokenizer_file), max_length)
        cfg = BertConfig(vocab_size=len(tok), max_position_embeddings=max_length, num_labels=1,
                         problem_type="regression", pad_token_id=tok.pad_token_id, **TINY_ENCODER)
        model = BertForSequenceClassification(cfg)
    lo = min(s for _, s in rows)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    # small annotation sets get more epochs: a few dozen updates leave the head predicting the mean
    epochs = max(epochs, math.ceil(min_steps / math.ceil(len(tr) / batch_size)))
    steps = epochs * math.ceil(len(tr) / batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 20) * max(0.0, 1 - s / steps))
    model.train()
    for epoch in range(epochs):
        random.Random(seed + epoch).shuffle(tr)
        for i in range(0, len(tr), batch_size):
            batch = tr[i: i + batch_size]
            enc = tok([_head(t, max_length) for t, _ in batch], truncation=True, max_length=max_length, padding=True, return_tensors="pt")
            enc.pop("token_type_ids", None)
            labels = torch.tensor([s for _, s in batch], dtype=torch.float32)
            loss = model(**enc, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
    model.eval()
    pred = _predict(model, tok, [t for t, _ in val], max_length, batch_size=64)
    metrics = binary_metrics(pred, [s for _, s in val], threshold)
    info = {"threshold": threshold, "scale": scale, "backbone": backbone or "tiny-bert (trained from scratch)",
            "tokenizer_file": str(tokenizer_file) if tokenizer_file else backbone, "max_length": max_length,
            "n_train": len(tr), "n_val": len(val), "epochs": epochs, "min_label": lo, "val": metrics,
            **(extra_info or {})}
    out_dir = Path(out_dir)
    with publishing(out_dir) as tmp:
        model.save_pretrained(tmp / "model")
        tok.save_pretrained(tmp / "model")
        (tmp / "classifier.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def _predict(model, tok, texts: list[str], max_length: int, batch_size: int = 64) -> list[float]:
    import torch

    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tok([_head(t, max_length) for t in texts[i: i + batch_size]], truncation=True, max_length=max_length, padding=True, return_tensors="pt")
            enc.pop("token_type_ids", None)
            out.extend(model(**enc).logits.squeeze(-1).float().tolist())
    return out


def load(model_dir: Path):
    """(model, tokenizer, info) of a trained classifier folder."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    _quiet_transformers()
    model_dir = Path(model_dir)
    meta = model_dir / "classifier.json"
    if not meta.is_file():
        raise RecipeError("not a trained classifier folder (no classifier.json)", file=str(model_dir),
                          fix="train one with data/edu_classifier.py train (or make data RECIPE=tiny)")
    info = json.loads(meta.read_text())
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir / "model")).eval()
    tok = AutoTokenizer.from_pretrained(str(model_dir / "model"))
    return model, tok, info


class EduClassifierFilter(BaseFilter):
    """Scores each document with a trained classifier, stores the score in metadata, keeps int score >= threshold.

    metadata[score_key] = the raw regression output (float), metadata[score_key + "_int"] = the rounded,
    clipped integer score the decision uses (FineWeb-Edu's `score` / `int_score`).
    """

    name = "🎓 Edu classifier"

    def __init__(self, model_dir, *, threshold: float | None = None, score_key: str = "edu_score",
                 batch_size: int = 64, threads: int = 1, exclusion_writer=None):
        super().__init__(exclusion_writer=exclusion_writer, batch_size=batch_size)
        self.model_dir = str(model_dir)
        if not (Path(self.model_dir) / "classifier.json").is_file() and "://" not in self.model_dir:
            raise RecipeError("classifier folder missing or incomplete", file=self.model_dir,
                              fix="train it first (data/edu_classifier.py train)")
        self.threshold = threshold
        self.score_key = score_key
        self.threads = threads
        self._model = None

    def _load(self):
        import torch

        torch.set_num_threads(self.threads)  # one thread per datatrove task: tasks already fill the cores
        self._model, self._tok, info = load(Path(self.model_dir))
        self._max_length = info["max_length"]
        if self.threshold is None:
            self.threshold = info["threshold"]
        self._hi = {"edu": 5, "code": 5, "math3": 3, "math5": 5}.get(info.get("scale", "edu"), 5)
        self._lo = info.get("min_label", 0)

    def filter(self, doc) -> bool:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch):
        if self._model is None:
            self._load()
        with self.track_time("batch"):
            scores = _predict(self._model, self._tok, [d.text for d in batch], self._max_length, len(batch))
        results = []
        for doc, s in zip(batch, scores):
            k = int(round(min(max(s, self._lo), self._hi)))
            doc.metadata[self.score_key] = round(float(s), 4)
            doc.metadata[self.score_key + "_int"] = k
            self.stat_update(f"{self.score_key}_{k}")
            results.append(True if k >= self.threshold else (False, f"{self.score_key}_below_{self.threshold:g}"))
        return results

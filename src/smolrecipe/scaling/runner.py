"""Run the scaling experiments with the local engine, resumably, and measure them on held-out windows.

    results = run_all(runs, base_cfg, data_dir, out_dir, opts_factory, log=print)   # {run name: result dict}

Each run writes outputs/scaling/results/<run>.json when it is finished and measured, keyed by its config (run_key):
a rerun skips finished runs and says so; an interrupted one continues from its newest checkpoint (the engine's
own resume). Validation: the last VALIDATION_WINDOWS windows of each validation folder, which no run reads
(checked before each run from how far its launch reads, engine/reach.py); the loss is the mean over folders
of the mean next-token cross-entropy (every folder counts the same, whatever mixture a run trained on).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from smolrecipe.config.loader import dump_nanotron_yaml
from smolrecipe.engine.checkpoint import checkpoint_steps, verify_checkpoint
from smolrecipe.engine.data import TokenFolder
from smolrecipe.engine.reach import folder_windows, launch_reach
from smolrecipe.errors import RecipeError
from smolrecipe.model import flops_per_token
from smolrecipe.paths import config_path, resolve
from smolrecipe.publish import atomic_write_text
from smolrecipe.runkey import run_key
from smolrecipe.scaling.experiments import VALIDATION_FOLDERS, VALIDATION_WINDOWS, config
from smolrecipe.scaling.ledger import run_flops


def validation_windows(data_dir: str, seq_len: int, vocab_size: int) -> dict[str, torch.Tensor]:
    out = {}
    for name in VALIDATION_FOLDERS:
        folder = resolve(f"{data_dir.rstrip('/')}/{name}")
        if not folder.is_dir():
            raise RecipeError("tokenized folder not found", file=str(folder), fix="make data RECIPE=tiny (or --data <dir>)")
        tf = TokenFolder(folder, seq_len, vocab_size=vocab_size)
        n = len(tf)
        out[name] = torch.stack([torch.from_numpy(tf.window(i)) for i in range(n - VALIDATION_WINDOWS, n)])
    return out


@torch.no_grad()
def validation_loss(model_dir: Path, windows: dict[str, torch.Tensor], batch: int = 16) -> dict[str, float]:
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    losses = {}
    for name, w in windows.items():
        total, count = 0.0, 0
        for i in range(0, len(w), batch):
            x = w[i:i + batch]
            logits = model(input_ids=x[:, :-1], use_cache=False).logits.float()
            total += float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                                                             reduction="sum"))
            count += x[:, 1:].numel()
        losses[name] = total / count
    losses["mean"] = sum(losses[n] for n in windows) / len(windows)
    return losses


def check_validation_untouched(cfg, run, runs_by_name, base, data_dir, ckroot) -> None:
    """No run may read the validation windows: bound how far its launch (and the run it branches from) reads."""
    history = {}
    chain, r = [], run
    while r.parent is not None:
        r = runs_by_name[r.parent]
        chain.append(r)
    for parent in reversed(chain):
        pcfg = config(parent, base, data_dir, runs_by_name, ckroot)
        history[pcfg.data_stages[-1].name] = (pcfg.data_stages[-1].start_training_step, parent.end, pcfg)
    for reach in launch_reach(cfg, history):
        have = folder_windows(reach.folder, cfg.tokens.sequence_length)
        if have is not None and reach.last_high > have - VALIDATION_WINDOWS:
            raise RecipeError(f"run {run.name} would read {reach.folder} up to window {reach.last_high:,} of {have:,}: "
                              f"its last {VALIDATION_WINDOWS} windows are the validation set", field="--steps",
                              fix="lower --steps, or point --data at a larger corpus")


def _train_to(cfg, run, stop: int, opts_factory, log) -> None:
    from smolrecipe.engine.trainer import train

    done = checkpoint_steps(resolve(cfg.checkpoints.checkpoints_path))
    current = max([s for s in done if s <= stop], default=run.branch or 0)
    if stop in done:
        return
    train(cfg, opts_factory(run, max_steps=stop - current), log=log)


def run_one(run, cfg, windows, out_dir: Path, opts_factory, log) -> dict:
    """Train `run` (stopping at its branch points), measure it, write and return its result."""
    t = time.time()
    ckpt_dir = resolve(cfg.checkpoints.checkpoints_path)
    quiet = lambda m: None  # noqa: E731 - the per-run progress line below says what happened
    for stop in [*run.stops, run.end]:
        _train_to(cfg, run, stop, opts_factory, quiet)
    meta = verify_checkpoint(ckpt_dir / str(run.end))
    evaluated = {run.end: validation_loss(ckpt_dir / str(run.end) / "model", windows)}
    for stop in run.stops:
        evaluated[stop] = validation_loss(ckpt_dir / str(stop) / "model", windows)
    extra = {}
    if run.averages:
        for kind in ("swa", "ema"):
            folder = Path(f"{ckpt_dir}-{kind}") / str(run.end)
            if folder.is_dir():
                extra[kind] = validation_loss(folder, windows)
    tokens_per_step = cfg.tokens.micro_batch_size * cfg.tokens.batch_accumulation_per_replica * cfg.tokens.sequence_length
    steps = run.end - (run.branch or 0)
    n_params = _params(cfg)
    result = {
        "run": run.spec(), "tags": run.tags, "n_params": n_params, "tokens": run.end * tokens_per_step,
        "steps_trained": steps, "flops": run_flops(steps, tokens_per_step, flops_per_token(cfg)),
        "flops_total": run_flops(run.end, tokens_per_step, flops_per_token(cfg)),
        "val": {str(k): v for k, v in evaluated.items()}, "averages": extra,
        "train_loss_last10": _last_losses(ckpt_dir, run.end, meta), "seconds": round(time.time() - t, 1),
        "config": config_path(out_dir / "configs" / f"{run.name}.yaml"),
    }
    return result


def _params(cfg) -> int:
    """Non-embedding parameters (Kaplan et al.'s N): at this size the tied embedding is up to 60% of the model and
    would hide the effect of depth and width."""
    from smolrecipe.model import count_parameters

    m = cfg.model.model_config
    return int(count_parameters(cfg)) - m.vocab_size * m.hidden_size


def _last_losses(ckpt_dir, end, meta) -> float | None:
    from smolrecipe.engine.metrics import read_metrics
    from smolrecipe.paths import outputs_dir

    steps, _ = read_metrics(outputs_dir() / "runs" / meta["run"])
    tail = [steps[s]["loss"] for s in sorted(steps) if s <= end][-10:]
    return sum(tail) / len(tail) if tail else None


def run_all(runs, base, data_dir: str, out_dir: Path, opts_factory, log=print) -> dict[str, dict]:
    by_name = {r.name: r for r in runs}
    ckroot = config_path(out_dir / "checkpoints")
    windows = validation_windows(data_dir, base.tokens.sequence_length, base.model.model_config.vocab_size)
    results: dict[str, dict] = {}
    for k, run in enumerate(runs, 1):
        cfg = config(run, base, data_dir, by_name, ckroot)
        text = dump_nanotron_yaml(cfg, header=f"# scaling experiment {run.name} (src/smolrecipe/scaling/experiments.py)")
        key = run_key(run.name, reads=[resolve(f) for st in cfg.data_stages for f in st.data.dataset.folders],
                      config={"yaml": text, "spec": run.spec(), "parent": results.get(run.parent, {}).get("key")})
        res_file = out_dir / "results" / f"{run.name}.json"
        label = f"[{k:>2}/{len(runs)}] {run.name}"
        if res_file.exists() and json.loads(res_file.read_text()).get("key") == key:
            results[run.name] = json.loads(res_file.read_text())
            log(f"{label}: finished earlier (run {key}), skipped")
            continue
        check_validation_untouched(cfg, run, by_name, base, data_dir, ckroot)
        atomic_write_text(out_dir / "configs" / f"{run.name}.yaml", text)
        cfg.source_file = str(out_dir / "configs" / f"{run.name}.yaml")
        origin = f"branch of {run.parent} at {run.branch}" if run.parent else "from scratch"
        log(f"{label}: {origin}, {run.shape} to step {run.end} ...")
        result = {**run_one(run, cfg, windows, out_dir, opts_factory, log), "key": key}
        atomic_write_text(res_file, json.dumps(result, indent=1))
        results[run.name] = result
        log(f"{label}: validation loss {result['val'][str(run.end)]['mean']:.4f} in {result['seconds']:.0f} s")
    return results

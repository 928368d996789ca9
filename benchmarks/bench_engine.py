"""Local pretraining engine vs the transformers Trainer, and its model FLOPs utilisation, in one run.

Usage: python benchmarks/bench_engine.py [--steps 12] [--threads 2]      (or: python benchmarks/run.py engine)

Both train the tiny recipe's stage-1 model (1.3M-parameter Llama, pretraining/configs/tiny/stage1.yaml) on
the same token windows with the same batch (the stage-1 config's: micro batch 8 x accumulation 1 x 256 tokens), AdamW, clipping
and precision. The Trainer is the peer a user would pick (Trainer + TrainingArguments, default settings
for logging/saving switched off). Step times (process CPU time on one thread by default, see CLOCK) are medians after two warm-up steps,
best of interleaved rounds. MFU = model FLOPs/s
(6N + attention, PaLM appendix B, smolrecipe.model.flops_per_token) / the matmul throughput measured here,
now, at the model's own linear-layer shapes, in the same precision. Prints `RESULT ...` lines.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from smolrecipe import machine  # noqa: E402
from smolrecipe.config import load_nanotron_yaml  # noqa: E402
from smolrecipe.engine.compile import compile_key, record_path, write_record  # noqa: E402
from smolrecipe.engine.data import LaunchData  # noqa: E402
from smolrecipe.engine.mfu import matmul_ceiling  # noqa: E402
from smolrecipe.engine.model import build_model  # noqa: E402
from smolrecipe.engine.options import EngineOptions  # noqa: E402
from smolrecipe.engine.trainer import train, use_bf16  # noqa: E402
from smolrecipe.model import flops_per_token  # noqa: E402

# "cpu" (default): process CPU time with one thread. The machine is shared: another job's threads make
# wall-clock times swing 10x, while the CPU time a single-threaded step needs barely moves. "wall" times
# what a user waits, with all threads, on a quiet machine.
CLOCK = "cpu"
CLOCK_FIELD = {"cpu": "cpu_time", "wall": "elapsed"}


def clock() -> float:
    return time.process_time() if CLOCK == "cpu" else time.perf_counter()


def make_data(folder: Path, cfg, tokens: int) -> None:
    rng = np.random.default_rng(0)
    vocab = cfg.model.model_config.vocab_size
    for st in cfg.data_stages:
        for f in st.data.dataset.folders:
            d = folder / f
            d.mkdir(parents=True, exist_ok=True)
            toks = rng.integers(1, vocab, size=tokens).astype("<u2")
            toks.tofile(d / "000_00000.ds")
            np.asarray([tokens], dtype="<u8").tofile(d / "000_00000.ds.index")
            (d / "000_00000.ds.metadata").write_text(f"{cfg.tokenizer.tokenizer_name_or_path}|2\n{tokens}")


FIRST_STEP_WALL: dict[str, list[float]] = {}  # wall seconds of each engine run's first step (the compile, when compiling)


def engine_step_times(cfg, root: Path, steps: int, fuse: bool, precision: str = "auto", compile: str = "off") -> list[float]:
    cfg.checkpoints.checkpoints_path = str(root / f"ck-{fuse}-{precision}-{compile}")
    cfg.checkpoints.checkpoint_interval = 10**9
    cfg.checkpoints.save_final_state = False
    opts = EngineOptions(max_steps=steps, tensorboard=False, progress=False, runs_dir=root / "runs",
                         fuse_tokens=8192 if fuse else 0, restart=True, precision=precision, compile=compile)
    train(cfg, opts, log=lambda m: None)
    import json

    lines = [json.loads(x) for x in (root / "runs" / cfg.general.run / "metrics.jsonl").read_text().splitlines()]
    # Wall time between consecutive steps (data, logging included), measured like the Trainer's callback clock.
    ends = [r[CLOCK_FIELD[CLOCK]] for r in lines if "elapsed" in r]
    FIRST_STEP_WALL.setdefault(f"{fuse}-{precision}-{compile}", []).append(next(r["elapsed"] for r in lines if "elapsed" in r))
    (root / "runs" / cfg.general.run / "metrics.jsonl").unlink()
    return [b - a for a, b in zip(ends, ends[1:])][1:]


def trainer_step_times(cfg, root: Path, steps: int, bf16: bool) -> list[float]:
    from transformers import Trainer, TrainerCallback, TrainingArguments

    t = cfg.tokens
    reader = LaunchData(cfg, None, 0)
    windows = reader.next_samples(steps * t.micro_batch_size * t.batch_accumulation_per_replica)
    # The Trainer's model shifts labels itself: feed the same seq+1 windows (0.4% more positions than the engine).
    dataset = [{"input_ids": w, "labels": w} for w in windows]
    model = build_model(cfg, seed=0)
    opt = cfg.optimizer
    args = TrainingArguments(
        output_dir=str(root / "trainer"), per_device_train_batch_size=t.micro_batch_size,
        gradient_accumulation_steps=t.batch_accumulation_per_replica, max_steps=steps,
        learning_rate=opt.learning_rate_scheduler.learning_rate, lr_scheduler_type="constant", warmup_steps=0,
        weight_decay=opt.weight_decay, adam_beta1=opt.optimizer_factory.adam_beta1, adam_beta2=opt.optimizer_factory.adam_beta2,
        adam_epsilon=opt.optimizer_factory.adam_eps, max_grad_norm=opt.clip_grad, bf16=bf16, use_cpu=True,
        save_strategy="no", logging_strategy="no", report_to=[], disable_tqdm=True, dataloader_num_workers=0, seed=0,
    )
    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, *a, **k):
            stamps.append(clock())

    class Start(TrainerCallback):
        def on_step_begin(self, *a, **k):
            if not stamps:
                stamps.append(clock())

    Trainer(model=model, args=args, train_dataset=dataset, callbacks=[Start(), Clock()]).train()
    diffs = [b - a for a, b in zip(stamps, stamps[1:])]
    return diffs[2:]


def matmul_throughput(cfg, bf16: bool) -> float:
    """The MFU ceiling (smolrecipe.engine.mfu), timed with this benchmark's clock."""
    return matmul_ceiling(cfg, bf16, clock=clock)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--threads", type=int, default=None, help="default: 1 with --clock cpu, all cores with --clock wall")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--compile", action="store_true",
                        help="also time the engine with --compile on (compiled decoder layers; adds up to 30 s per round)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = args.clock
    threads = args.threads or (1 if CLOCK == "cpu" else None)
    if threads:
        torch.set_num_threads(threads)
    cfg_path = ROOT / "pretraining" / "configs" / "tiny" / "stage1.yaml"
    bf16 = use_bf16("auto")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        import os

        record = record_path()  # the user's outputs/, before the data paths move into the temp folder
        os.environ["SMOLRECIPE_ROOT"] = str(root)  # data paths of the config resolve inside the temp folder
        cfg = load_nanotron_yaml(cfg_path)
        make_data(root, cfg, 400_000)
        tokens_per_step = cfg.global_batch_size * cfg.tokens.sequence_length
        other = "fp32" if bf16 else "bf16"
        runs = {"fused": [], "accum": [], "flip": [], "peer": [], "compiled": []}
        # Interleaved rounds, best round per contender: the machine is shared, and a neighbour's burst
        # should not land on one contender only.
        for _ in range(args.rounds):
            runs["fused"].append(statistics.median(engine_step_times(load_nanotron_yaml(cfg_path), root, args.steps, fuse=True)))
            runs["peer"].append(statistics.median(trainer_step_times(load_nanotron_yaml(cfg_path), root, args.steps, bf16)))
            runs["accum"].append(statistics.median(engine_step_times(load_nanotron_yaml(cfg_path), root, args.steps, fuse=False)))
            runs["flip"].append(statistics.median(engine_step_times(load_nanotron_yaml(cfg_path), root, args.steps, fuse=True, precision=other)))
            if args.compile:  # the default accumulating engine, compiled; step times after the compile (first step not counted)
                runs["compiled"].append(statistics.median(engine_step_times(load_nanotron_yaml(cfg_path), root, args.steps, fuse=False, compile="on")))
        fused, peer, accum, flip = (min(runs[k]) for k in ("fused", "peer", "accum", "flip"))
        # With one micro batch per step (the tiny recipe since it went to 2,048 tokens per step) fusing changes
        # nothing: both contenders run the same code, so they are two samples of one path and the best counts.
        same_path = cfg.tokens.batch_accumulation_per_replica == 1
        if same_path:
            fused = accum = min(fused, accum)
        mm = matmul_throughput(cfg, bf16)
    fpt = flops_per_token(cfg)
    prec = "bf16" if bf16 else "fp32"
    unit = "CPU-s" if CLOCK == "cpu" else "s"
    print(f"MACHINE {machine.short()}")
    print(f"tiny stage-1 model, {tokens_per_step} tokens/step, {prec}, {torch.get_num_threads()} threads, {CLOCK} clock")
    if same_path:
        print("  one micro batch per step: fused and accumulated are the same path (best of both rounds shown)")
    for name, sec in (("engine (fused micro batches)", fused), ("engine (accumulated like nanotron)", accum), ("transformers Trainer", peer)):
        print(f"  {name:36s} {sec:.3f} {unit}/step  {tokens_per_step / sec:,.0f} tokens/{unit}")
    print(f"  matmul throughput at the model's shapes: {mm / 1e9:.1f} GFLOP/{unit} ({prec})")
    # the engine's default accumulates micro batches like nanotron (and like the Trainer)
    print(f"RESULT engine_vs_trainer: {peer / accum:.2f}x tokens/s (goal >= 1.3x; {tokens_per_step / accum:,.0f} vs {tokens_per_step / peer:,.0f})")
    print(f"RESULT engine_fused_vs_trainer: {peer / fused:.2f}x tokens/s (--fuse-tokens 8192: one forward per step)")
    print(f"RESULT engine_{prec}_vs_{other}: {flip / fused:.2f}x tokens/s (why --precision auto picks {prec} on this CPU)")
    if runs["compiled"]:
        comp = min(runs["compiled"])
        print(f"  {'engine --compile (after compiling)':36s} {comp:.3f} {unit}/step  {tokens_per_step / comp:,.0f} tokens/{unit}")
        # Round 1 compiles (cold or warm per the on-disk inductor cache); later rounds reuse this process's code.
        first = FIRST_STEP_WALL["False-auto-on"][0]
        print(f"RESULT engine_compiled_vs_trainer: {peer / comp:.2f}x tokens/s (compile time not counted; the first "
              f"step, compile included, took {first:.1f} s wall)")
        print(f"RESULT engine_compiled_vs_eager: {accum / comp:.2f}x per step")
        # what `--compile auto` decides from (engine/compile.py): this CPU, this model, this thread count
        key = compile_key(load_nanotron_yaml(cfg_path), bf16, torch.get_num_threads())
        write_record(key, eager_s=accum, compiled_s=comp, compile_s=max(first - accum, 0.0), path=record)
        print(f"  recorded for --compile auto in {record}")
    mfu = fpt * tokens_per_step / accum / mm
    print(f"RESULT engine_mfu: {mfu:.1%} of the best {prec} matmul throughput measured here "
          f"({fpt * tokens_per_step / accum / 1e9:.1f} of {mm / 1e9:.1f} GFLOP/{unit})")
    print(f"RESULT trainer_mfu: {fpt * tokens_per_step / peer / mm:.1%}")
    if mfu > 1:
        print("WARNING: MFU above 100%: the matmul ceiling was measured too low (a busy machine?); rerun")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The local engine: trains one nanotron config (one stage file) on CPU the way nanotron would on GPUs.

    result = train(cfg, EngineOptions())          # cfg = load_nanotron_yaml(...) or a recipe stage

Same model (engine/model.py), same data order (engine/data.py), same LR per iteration
(schedule.lr_for_iteration: iteration i trains with f(i-1)), AdamW with the config's betas/eps/weight
decay on every parameter (nanotron's default), gradient clipping on the global norm, micro batches
accumulated over `batch_accumulation_per_replica`, loss = mean token cross-entropy averaged over micro batches.

Where it starts (nanotron semantics, plus restarting an interrupted launch):
- a newer checkpoint of this same run (general.run) in checkpoints_path -> continue it exactly;
- else checkpoints.resume_checkpoint_path -> weights; optimizer only if load_optimizer; step, data
  position and LR schedule only if load_lr_scheduler (false = a new run initialised from the weights);
- else from scratch with nanotron's init.
"""
from __future__ import annotations

import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from smolrecipe.config.loader import dump_nanotron_yaml
from smolrecipe.engine import checkpoint as ck
from smolrecipe.engine.averaging import EMA, SWA, save_model_folder
from smolrecipe.engine.data import StageReader, carried_offsets, stage_data, stage_index_for_step
from smolrecipe.engine.loss import linear_cross_entropy
from smolrecipe.engine.metrics import MetricsWriter
from smolrecipe.engine.model import build_model, use_fp32_attention
from smolrecipe.engine.spikes import SpikeGuard
from smolrecipe.errors import ConfigError, RecipeError
from smolrecipe.paths import outputs_dir, repo_root
from smolrecipe.schedule import Schedule, lr_for_iteration
from smolrecipe.versions import runtime_versions




@dataclass
class EngineOptions:
    """Local-engine-only settings: CLI flags, never keys of the nanotron YAML (DESIGN.md contract 1)."""

    precision: str = "auto"          # auto | bf16 | fp32 (auto: bf16 autocast when the CPU has native bf16)
    threads: int | None = None       # torch intra-op threads (default: all cores; 1 is faster on a busy machine)
    max_steps: int | None = None     # stop this launch after N iterations (tests, smoke runs); a checkpoint is saved
    restart: bool = False            # ignore newer checkpoints of this run and start from the config's resume path
    on_spike: str = "log"            # log | rewind (reload the last checkpoint and skip the offending batches)
    spike_sigma: float = 6.0
    spike_margin: float = 0.5        # nats above the running mean, at least
    max_rewinds: int = 3
    compile: str = "auto"            # auto | on | off: torch.compile each decoder layer; auto = on for launches of
                                     # at least COMPILE_AUTO_STEPS iterations (see compile_layers)
    fuse_tokens: int = 0             # run a step's micro batches as one forward when it has at most this many tokens (0: never)
    swa_interval: int | None = None
    swa_window: int | None = None
    ema_decay: float | None = None
    tensorboard: bool = True
    wandb: bool = False
    progress: bool = True
    runs_dir: Path | None = None     # metrics/plots folder root (default outputs/runs)
    lineage: dict = field(default_factory=dict)   # extra lineage recorded in every checkpoint (cooldown branch)


@dataclass
class RunResult:
    losses: dict[int, float]
    first_step: int
    last_step: int
    last_checkpoint: Path | None
    seconds: float
    tokens: int
    run_dir: Path
    events: list[dict]


def resolve(path: str | Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else repo_root() / p


def use_bf16(precision: str) -> bool:
    if precision == "bf16":
        return True
    if precision == "fp32":
        return False
    # Measured on this machine kind (benchmarks/README.md): bf16 autocast is faster where the CPU has
    # native bf16 instructions (AVX512-BF16 / AMX); without them it is emulated and slower than fp32.
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


# Measured on the tiny model (benchmarks/README.md), one thread: compiling the decoder layers makes a step about
# 1.15x faster (0.06 CPU-s of 0.44) and costs about 4 s of wall time per launch with a warm inductor cache
# (28 s the first time on a machine: cold cache). Break-even is a few hundred steps on a cold cache, so "auto"
# compiles launches of 1000+ iterations; the tiny recipe's launches (at most 218) stay eager.
COMPILE_AUTO_STEPS = 1000


def has_cxx_compiler() -> bool:
    import os
    import shutil

    return any(shutil.which(c) for c in (os.environ.get("CXX", ""), "g++", "c++", "clang++") if c)


def compile_layers(model, setting: str | bool, launch_steps: int, log=print) -> bool:
    """Regional compilation: torch.compile each decoder layer in place, if `setting` (auto|on|off) says so.

    The layers share their code and shapes, so dynamo traces one graph and every layer reuses it (a cold
    compile of 28 s instead of 50 s for the whole model, with the same steady-state gain); inductor fuses
    what dominates a model this narrow: RMSNorm, RoPE, SiLU * up and the autocast casts. The embedding,
    final norm and the fused loss stay eager. Parameter names and state_dict are unchanged (Module.compile).
    """
    setting = {True: "on", False: "off"}.get(setting, setting)
    if setting not in ("auto", "on", "off"):
        raise ConfigError(f"compile must be auto, on or off, not {setting!r}")
    if setting == "off" or (setting == "auto" and launch_steps < COMPILE_AUTO_STEPS):
        return False
    if not has_cxx_compiler():  # inductor builds its CPU kernels with one; fail here, not at the first step
        if setting == "on":
            raise RecipeError("--compile on needs a C++ compiler (torch inductor builds CPU kernels with it)",
                              field="--compile", fix="install one (apt-get install g++) or pass --compile off")
        log("no C++ compiler found: training eager (install g++ to compile the layers, about 1.15x faster steps)")
        return False
    for layer in model.model.layers:
        layer.compile(dynamic=False)
    return True


def causal_lm_loss(model, tokens: torch.Tensor, bf16: bool) -> torch.Tensor:
    """Mean next-token cross-entropy of windows of seq_len + 1 tokens (inputs = [:-1], labels = [1:])."""
    inputs, labels = tokens[:, :-1], tokens[:, 1:]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        # use_cache=False: the config keeps use_cache=true for generation; in training it would only fill a KV cache.
        hidden = model.model(input_ids=inputs, use_cache=False).last_hidden_state
    hidden, labels = hidden.reshape(-1, hidden.shape[-1]), labels.reshape(-1)
    if torch.is_grad_enabled():
        # LM head + loss fused and chunked (engine/loss.py): 1.2x faster per step on the tiny model.
        return linear_cross_entropy(hidden, model.lm_head.weight, labels, torch.bfloat16 if bf16 else hidden.dtype)
    # Without gradients (evaluation), the plain reference.
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model.lm_head(hidden)
    return F.cross_entropy(logits.float(), labels)


class _Stop:
    """Ctrl-C at a step boundary: the first one asks for a checkpoint and a clean exit, a second one aborts."""

    def __init__(self):
        self.requested = False
        self._old = None

    def __enter__(self):
        def handler(signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True
            print("\ninterrupt: saving a checkpoint after this step (Ctrl-C again to abort)", file=sys.stderr)

        try:
            self._old = signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread (e.g. some test runners): no handler
            self._old = None
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _find_start(cfg, opts: EngineOptions, log) -> tuple[Path | None, dict | None, bool]:
    """(checkpoint to start from, its metadata, continuing this same run?)."""
    run_dir = resolve(cfg.checkpoints.checkpoints_path)
    resume = cfg.checkpoints.resume_checkpoint_path
    resume_step = int(Path(resume).name) if resume and Path(resume).name.isdigit() else 0
    if not opts.restart:
        step = ck.latest_step(run_dir)
        if step is not None and step > resume_step:
            meta = ck.verify_checkpoint(run_dir / str(step))
            if meta.get("run") == cfg.general.run and step <= cfg.tokens.train_steps:
                log(f"continuing run {cfg.general.run} from its checkpoint {run_dir / str(step)}")
                return run_dir / str(step), meta, True
    if resume:
        path, meta = ck.resolve_resume(resolve(resume), log)
        return path, meta, False
    return None, None, False


def train(cfg, opts: EngineOptions | None = None, log=None) -> RunResult:
    opts = opts or EngineOptions()
    log = log or (lambda msg: print(msg, file=sys.stderr))
    if opts.threads:
        torch.set_num_threads(opts.threads)
    if cfg.parallelism.tp != 1 or cfg.parallelism.pp != 1:
        log(f"note: tp={cfg.parallelism.tp} pp={cfg.parallelism.pp} do not change the maths; the local engine runs them as one process")
    if cfg.optimizer.weight_decay_exclude_named_params:
        raise ConfigError("weight_decay_exclude_named_params names nanotron modules; the local engine cannot map them",
                          file=getattr(cfg, "source_file", None), field="optimizer.weight_decay_exclude_named_params",
                          fix="remove it to train locally (SmolLM2 decays every parameter)")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # its per-save "Writing model shards" bar would break the training bar
    bf16 = use_bf16(opts.precision)
    sched = Schedule.from_args(cfg.schedule)
    run_dir = resolve(cfg.checkpoints.checkpoints_path)
    config_text = dump_nanotron_yaml(cfg, header=f"# config of run {cfg.general.run} (from {getattr(cfg, 'source_file', '?')})")
    t_build = time.time()

    model = build_model(cfg, seed=cfg.general.seed or 0)
    if bf16:
        use_fp32_attention(model)  # faster than bf16 SDPA at the tiny models' head_dim (engine/model.py)
    # Threads: torch's default (all cores) unless --threads is given. Measured on the 2-core machine kind with
    # the tiny model: alone on the machine two threads ran 10.7k tokens/s and one 6.7k; with a neighbour
    # process busy one thread was faster (0.62 s vs 1.74 s a step), hence `--threads 1` on a shared box.
    opt_cfg = cfg.optimizer
    f = opt_cfg.optimizer_factory
    if f.name.lower() != "adamw":
        raise ConfigError(f"optimizer {f.name!r} is not supported by the local engine", field="optimizer.optimizer_factory.name", fix="use adamW")
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=sched.learning_rate, betas=(f.adam_beta1, f.adam_beta2), eps=f.adam_eps,
        weight_decay=opt_cfg.weight_decay, foreach=True,
    )

    start_path, start_meta, continuing = _find_start(cfg, opts, log)
    step, stages_meta, lineage, guard_state, avg_tensors, avg_info = 0, [], [], None, None, {}
    parent = None
    if start_path is not None:
        weights, state, avg_tensors, start_meta = ck.load_checkpoint(start_path, verified_meta=start_meta)
        ck.load_weights_into(model, weights)
        parent = {"checkpoint": str(start_path), "step": start_meta["step"], "run": start_meta.get("run")}
        lineage = list(start_meta.get("lineage", [])) + [parent]
        load_sched = continuing or cfg.checkpoints.load_lr_scheduler
        if continuing or cfg.checkpoints.load_optimizer:
            optimizer.load_state_dict(state["optimizer"])
            for g in optimizer.param_groups:  # the YAML wins over the checkpoint for hyper-parameters, as in nanotron
                g.update(betas=(f.adam_beta1, f.adam_beta2), eps=f.adam_eps, weight_decay=opt_cfg.weight_decay)
        if load_sched:
            step = int(start_meta["step"])
            stages_meta = [dict(s) for s in start_meta.get("data_stages", [])]
            torch.set_rng_state(state["rng"]["torch"])
            guard_state = state.get("spike_guard")
            avg_info = state.get("averages", {})
            if start_meta.get("precision") and start_meta["precision"] != ("bf16" if bf16 else "fp32"):
                log(f"warning: the checkpoint was trained in {start_meta['precision']}; this launch uses {'bf16' if bf16 else 'fp32'}")
        else:
            avg_tensors = None
        if continuing and step == cfg.tokens.train_steps:
            log(f"{cfg.general.run} is already complete at step {step} ({start_path}); nothing to train (--restart retrains it)")
            return RunResult({}, step + 1, step, start_path, 0.0, 0, (opts.runs_dir or outputs_dir() / "runs") / cfg.general.run, [])
        if step >= cfg.tokens.train_steps:
            raise ConfigError(
                f"the checkpoint is at step {step}, and this config ends at train_steps={cfg.tokens.train_steps}",
                file=getattr(cfg, "source_file", None), field="tokens.train_steps",
                fix="nothing left to train: run the next stage, or raise train_steps",
            )

    swa = SWA(opts.swa_interval, opts.swa_window) if opts.swa_interval else None
    ema = EMA(opts.ema_decay) if opts.ema_decay else None
    if avg_tensors and swa and avg_info.get("swa"):
        swa.load(avg_tensors, avg_info["swa"])
    if avg_tensors and ema and avg_info.get("ema"):
        ema.load(avg_tensors, avg_info["ema"])
    guard = SpikeGuard(sigma=opts.spike_sigma, margin=opts.spike_margin, state=guard_state)

    runs_root = opts.runs_dir or outputs_dir() / "runs"
    metrics = MetricsWriter(runs_root / cfg.general.run, tensorboard=opts.tensorboard, wandb=opts.wandb,
                            wandb_project=cfg.general.project, run_name=cfg.general.run)
    metrics.append_json("launches.jsonl", {
        "run": cfg.general.run, "config": getattr(cfg, "source_file", None), "versions": runtime_versions(),
        "precision": "bf16" if bf16 else "fp32", "threads": torch.get_num_threads(), "started_from": parent,
        "engine": "local", "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(opts).items()},
    })

    mbs, accum = cfg.tokens.micro_batch_size, cfg.tokens.batch_accumulation_per_replica
    gbs = mbs * accum * cfg.parallelism.dp  # dp replicas are run one after the other: same global batch
    end = cfg.tokens.train_steps if opts.max_steps is None else min(cfg.tokens.train_steps, step + opts.max_steps)
    first_step = step + 1
    reader, reader_stage = None, None
    root = repo_root()
    saved_this_launch: list[Path] = [start_path] if start_path is not None and (continuing or cfg.checkpoints.load_lr_scheduler) else []
    losses: dict[int, float] = {}
    events: list[dict] = []
    rewinds = 0
    last_saved = step
    tokens_done = 0

    def stage_meta(name: str) -> dict:
        for s in stages_meta:
            if s["name"] == name:
                return s
        d = next(stage_data(cfg, i) for i in range(len(cfg.data_stages)) if cfg.data_stages[i].name == name)
        entry = {"name": name, "start_training_step": d.start_training_step, "sequence_length": d.seq_len,
                 "consumed_samples": 0, "per_folder": {}}
        stages_meta.append(entry)
        return entry

    def sync_reader_meta():
        if reader is not None:
            m = stage_meta(reader.data.name)
            m["consumed_samples"] = reader.consumed
            m["per_folder"] = reader.per_folder()
            m["epochs"] = reader.epochs()

    def save(at_step: int, reason: str) -> Path:
        nonlocal last_saved
        sync_reader_meta()
        avg, info = {}, {}
        for name, a in (("swa", swa), ("ema", ema)):
            if a is not None:
                t, i = a.state()
                avg.update(t)
                info[name] = i
        consumed = sum(int(s["consumed_samples"]) for s in stages_meta)
        meta = {
            "run": cfg.general.run, "engine": "local", "reason": reason,
            "consumed_train_samples": consumed,
            "consumed_tokens_total": sum(int(s["consumed_samples"]) * int(s["sequence_length"]) for s in stages_meta),
            "data_stages": stages_meta, "precision": "bf16" if bf16 else "fp32",
            "lr_next_iteration": lr_for_iteration(at_step + 1, sched),
            "config_file": getattr(cfg, "source_file", None), "versions": runtime_versions(),
            "lineage": lineage, "branch": opts.lineage or None, "events": events[-50:],
        }
        trainer_state = {
            "optimizer": optimizer.state_dict(),
            "scheduler": {"last_step": at_step},  # the LR is a function of the global step only (DESIGN contract 4)
            "rng": {"torch": torch.get_rng_state()},
            "spike_guard": guard.state(),
            "averages": info,
        }
        path = ck.save_checkpoint(run_dir, at_step, model=model, trainer_state=trainer_state, metadata=meta,
                                  config_text=config_text, averages=avg or None)
        saved_this_launch.append(path)
        last_saved = at_step
        if ema is not None:
            save_model_folder(model, ema.value, Path(f"{run_dir}-ema") / str(at_step),
                              {"kind": "ema", "decay": ema.decay, "step": at_step, "run": cfg.general.run, "parent": str(path)})
        return path

    def rewind(bad_step: int) -> int:
        """Reload the newest checkpoint before bad_step; the reader keeps its position, so the bad batches are skipped."""
        nonlocal reader, reader_stage
        candidates = [p for p in saved_this_launch if int(p.name) < bad_step]
        if not candidates:
            raise RecipeError(f"loss spike at step {bad_step} and no checkpoint to rewind to in this launch",
                              fix="lower checkpoint_interval, or run with --on-spike log")
        target = candidates[-1]
        weights, state, avg_t, meta = ck.load_checkpoint(target)
        ck.load_weights_into(model, weights)
        optimizer.load_state_dict(state["optimizer"])
        guard.load(state.get("spike_guard"))
        if avg_t and swa and state["averages"].get("swa"):
            swa.load(avg_t, state["averages"]["swa"])
        if avg_t and ema and state["averages"].get("ema"):
            ema.load(avg_t, state["averages"]["ema"])
        back = int(target.name)
        if stage_data(cfg, stage_index_for_step(cfg, back + 1)).name != reader.data.name:
            # The checkpoint is in the previous data stage: restart from its exact data position (nothing skipped).
            stages_meta[:] = [dict(s) for s in meta["data_stages"]]
            reader, reader_stage = None, None
        return back

    model.train()
    compiled = compile_layers(model, opts.compile, end - step, log=log)
    t0, c0 = time.time(), time.process_time()
    log(f"built in {t0 - t_build:.1f} s; training {cfg.general.run}: iterations {first_step}..{end} of {cfg.tokens.train_steps}, "
        f"{'bf16 autocast' if bf16 else 'fp32'}, {torch.get_num_threads()} threads"
        f"{', compiling the decoder layers on the first step' if compiled else ''}")
    bar = None
    if opts.progress and end >= first_step:
        from tqdm import tqdm

        # In a log (no terminal) a redraw per step would write thousands of lines: redraw every 15 s there.
        bar = tqdm(total=end - step, desc=cfg.general.run, unit="step", dynamic_ncols=True, file=sys.stderr,
                   mininterval=0.1 if sys.stderr.isatty() else 15)
    last_path = None
    interrupted = False
    with _Stop() as stop:
        while step < end:
            it = step + 1
            si = stage_index_for_step(cfg, it)
            if si != reader_stage:
                sync_reader_meta()
                data = stage_data(cfg, si)
                if data.seq_len != cfg.tokens.sequence_length:
                    raise ConfigError(
                        f"data stage {data.name} has sequence_length {data.seq_len} but tokens.sequence_length is {cfg.tokens.sequence_length}",
                        file=getattr(cfg, "source_file", None), field=f"data_stages[{si}].sequence_length",
                        fix="a launch trains one sequence length: put a longer context in its own config (long-context.yaml)")
                m = stage_meta(data.name)
                reader = StageReader(data, carried_offsets(stages_meta, data.name), m["consumed_samples"], root)
                reader_stage = si
                repeated = [f for f, e in reader.epochs().items() if e >= 1]
                if repeated:
                    log(f"note: stage {data.name} starts past one epoch of {', '.join(repeated)} (data repeats)")
                events.append({"step": it, "event": "data-stage", "name": data.name})
            lr = lr_for_iteration(it, sched)
            for g in optimizer.param_groups:
                g["lr"] = lr
            t_step = time.time()
            total = 0.0
            n_micro = accum * cfg.parallelism.dp
            # Fusing the micro batches of a step into one forward computes the same mean gradient (every micro
            # batch has the same token count) with larger, faster matmuls; nanotron accumulates to save GPU memory.
            fused = n_micro if opts.fuse_tokens and gbs * reader.data.seq_len <= opts.fuse_tokens else 1
            for _ in range(n_micro // fused):
                batch = reader.next_samples(mbs * fused)
                loss = causal_lm_loss(model, batch, bf16) * (fused / n_micro)
                loss.backward()
                total += float(loss.detach())
            grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), opt_cfg.clip_grad or float("inf")))
            verdict = guard.check(it, total, past_warmup=it > sched.lr_warmup_steps)
            if verdict != "ok":
                events.append({"step": it, "event": verdict, "loss": total, "mean": guard.mean})
                metrics.event(it, verdict, {"loss": total, "running_mean": guard.mean})
                log(f"\n{verdict} at step {it}: loss {total:.4f} vs running mean {guard.mean:.4f}")
                if opts.on_spike == "rewind" and rewinds < opts.max_rewinds:
                    optimizer.zero_grad(set_to_none=True)
                    rewinds += 1
                    skipped = reader.consumed
                    step = rewind(it)
                    msg = f"rewound to step {step}; the batches of steps {step + 1}..{it} are skipped"
                    log(msg)
                    events.append({"step": it, "event": "rewind", "to": step, "skipped_until_sample": skipped})
                    metrics.event(it, "rewind", {"to": step})
                    if bar is not None:
                        bar.n = step - (first_step - 1)
                        bar.refresh()
                    continue
                if verdict == "non-finite":
                    optimizer.zero_grad(set_to_none=True)  # never apply NaN/inf gradients; the step is dropped
                    step = it
                    continue
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            guard.accept(total)
            step = it
            losses[step] = total
            dt = time.time() - t_step
            ntok = gbs * reader.data.seq_len
            tokens_done += ntok
            metrics.log(step, {"loss": total, "lr": lr, "grad_norm": grad_norm, "tokens_per_s": ntok / dt,
                               "step_time": dt, "elapsed": time.time() - t0, "cpu_time": time.process_time() - c0, "consumed_samples": reader.consumed, "stage": reader.data.name})
            if swa is not None and swa.update(step, model):
                save_model_folder(model, swa.average(), Path(f"{run_dir}-swa") / str(step),
                                  {"kind": "swa", "interval": swa.interval, "window": swa.window, "snapshots": swa.count,
                                   "steps": [step - swa.window + swa.interval, step], "run": cfg.general.run})
                swa.reset()
            if ema is not None:
                ema.update(model)
            if bar is not None:
                bar.set_postfix(step=step, loss=f"{total:.3f}", lr=f"{lr:.2e}", tok_s=f"{ntok / dt:,.0f}", refresh=False)
                bar.update(1)
            final = step == cfg.tokens.train_steps
            if step % cfg.checkpoints.checkpoint_interval == 0 or (final and cfg.checkpoints.save_final_state) or step == end:
                last_path = save(step, "final" if final else ("interval" if step % cfg.checkpoints.checkpoint_interval == 0 else "stop"))
            if stop.requested:
                if last_saved != step:
                    last_path = save(step, "interrupt")
                interrupted = True
                break
    if bar is not None:
        bar.close()
    seconds = time.time() - t0
    run_folder = runs_root / cfg.general.run
    metrics.close()
    try:
        from smolrecipe.engine.metrics import plot_run

        plot_run(run_folder)
    except Exception as e:  # a plot must never lose a finished run
        log(f"warning: could not plot the run: {e}")
    if interrupted:
        log(f"interrupted at step {step}; checkpoint {last_path}. Run the same command again to continue.")
        raise KeyboardInterrupt
    return RunResult(losses, first_step, step, last_path, seconds, tokens_done, run_folder, events)


def summary(result: RunResult) -> str:
    if not result.losses:
        return "no iterations run"
    steps = sorted(result.losses)
    tail = [result.losses[s] for s in steps[-10:]]
    return (f"iterations {steps[0]}..{steps[-1]} in {result.seconds:.1f} s ({result.tokens / max(result.seconds, 1e-9):,.0f} tokens/s); "
            f"loss first {result.losses[steps[0]]:.3f}, last-10 mean {sum(tail) / len(tail):.3f}; "
            f"checkpoint {result.last_checkpoint}; metrics {result.run_dir}")

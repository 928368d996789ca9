"""The local engine: trains one nanotron config (one stage file) on CPU the way nanotron would on GPUs.

    result = train(cfg, EngineOptions())          # cfg = load_nanotron_yaml(...) or a recipe stage

Same model (engine/model.py), same data order (engine/data.py), same LR per iteration
(schedule.lr_for_iteration: iteration i trains with f(i-1)), AdamW with the config's betas/eps/weight
decay on every parameter (nanotron's default), gradient clipping on the global norm, micro batches
accumulated over `batch_accumulation_per_replica`, loss = mean token cross-entropy averaged over micro batches.

Where it starts (nanotron semantics, plus restarting an interrupted launch):
- a newer valid checkpoint of this same run (general.run) in checkpoints_path -> continue it exactly;
- else checkpoints.resume_checkpoint_path -> weights; optimizer only if load_optimizer; step, data
  position and LR schedule only if load_lr_scheduler (false = a new run initialised from the weights);
- else from scratch with nanotron's init.
A loss spike or a non-finite loss is logged; with --on-spike rewind the launch reloads its last checkpoint and
skips the batches since. A non-finite loss never updates the weights, but its step still counts, records its
data and saves its checkpoint.
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from smolrecipe import machine
from smolrecipe.config.loader import dump_nanotron_yaml
from smolrecipe.engine import checkpoint as ck
from smolrecipe.engine.averaging import OnlineAverages
from smolrecipe.engine.compile import compile_key, compile_layers
from smolrecipe.engine.data import LaunchData
from smolrecipe.engine.interrupt import StopOnInterrupt
from smolrecipe.engine.loss import linear_cross_entropy
from smolrecipe.engine.metrics import MetricsWriter, plot_run
from smolrecipe.engine.model import build_model, use_fp32_attention
from smolrecipe.engine.options import EngineOptions
from smolrecipe.engine.spikes import SpikeGuard
from smolrecipe.errors import ConfigError, RecipeError
from smolrecipe.paths import outputs_dir, resolve
from smolrecipe.publish import pause_point
from smolrecipe.schedule import Schedule, lr_for_iteration
from smolrecipe.versions import runtime_versions


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


def use_bf16(precision: str) -> bool:
    if precision in ("bf16", "fp32"):
        return precision == "bf16"
    # Measured on this machine kind (benchmarks/README.md): bf16 autocast is faster where the CPU has
    # native bf16 instructions (AVX512-BF16 / AMX); without them it is emulated and slower than fp32.
    return machine.has_native_bf16()


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
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):  # without gradients (evaluation): the plain reference
        logits = model.lm_head(hidden)
    return F.cross_entropy(logits.float(), labels)


def check_supported(cfg) -> None:
    """What the local engine cannot run, refused before anything is built."""
    source = getattr(cfg, "source_file", None)
    if cfg.optimizer.weight_decay_exclude_named_params:
        raise ConfigError("weight_decay_exclude_named_params names nanotron modules; the local engine cannot map them",
                          file=source, field="optimizer.weight_decay_exclude_named_params",
                          fix="remove it to train locally (SmolLM2 decays every parameter)")
    if cfg.optimizer.optimizer_factory.name.lower() != "adamw":
        raise ConfigError(f"optimizer {cfg.optimizer.optimizer_factory.name!r} is not supported by the local engine",
                          file=source, field="optimizer.optimizer_factory.name", fix="use adamW")


class Trainer:
    """One launch: build -> start (resume) -> loop (step, maybe rewind, maybe save, stop on Ctrl-C) -> finish."""

    def __init__(self, cfg, opts: EngineOptions | None = None, log=None):
        check_supported(cfg)
        self.cfg, self.opts = cfg, (opts or EngineOptions()).check()
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        self.bf16 = use_bf16(self.opts.precision)
        self.sched = Schedule.from_args(cfg.schedule)
        self.run_dir = resolve(cfg.checkpoints.checkpoints_path)
        self.metrics_dir = (self.opts.runs_dir or outputs_dir() / "runs") / cfg.general.run
        t = cfg.tokens
        self.n_micro = t.batch_accumulation_per_replica * cfg.parallelism.dp  # dp replicas run one after the other
        self.gbs = t.micro_batch_size * self.n_micro
        self.step, self.lineage, self.parent, self.saved = 0, [], None, []
        self.losses: dict[int, float] = {}
        self.events: list[dict] = []
        self.rewinds, self.last_saved, self.last_path, self.tokens_done = 0, None, None, 0

    # ------------------------------------------------------------------ the loop
    def run(self) -> RunResult:
        # lighteval turns gradients off for the whole process when it is imported (its transformers_model module):
        # a launch after an in-process evaluation must not train on nothing
        with torch.enable_grad():
            return self._run()

    def _run(self) -> RunResult:
        if self.opts.threads:
            torch.set_num_threads(self.opts.threads)
        t_build = time.time()
        self.build()
        done = self.start()
        if done is not None:
            return done
        self.open_launch(time.time() - t_build)
        interrupted = False
        with StopOnInterrupt() as stop:
            while self.step < self.end:
                it = self.step + 1
                loss, grad_norm = self.forward_backward(it)
                pause_point(f"step:{it}")  # tests kill the run here, between the backward and the update
                verdict = self.guard.check(it, loss, past_warmup=it > self.sched.lr_warmup_steps)
                if verdict != "ok":
                    self.report_anomaly(it, verdict, loss)
                    if self.opts.on_spike == "rewind" and self.rewinds < self.opts.max_rewinds:
                        self.rewind(it)
                        continue
                self.finish_step(it, loss, grad_norm, applied=verdict != "non-finite")
                self.maybe_save()
                if stop.requested:
                    if self.last_saved != self.step:
                        self.save("interrupt")
                    interrupted = True
                    break
        return self.finish(interrupted)

    # ------------------------------------------------------------------ build and start
    def build(self) -> None:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # its per-save "Writing model shards" bar would break the training bar
        cfg = self.cfg
        if cfg.parallelism.tp != 1 or cfg.parallelism.pp != 1:
            self.log(f"note: tp={cfg.parallelism.tp} pp={cfg.parallelism.pp} do not change the maths; the local engine runs them as one process")
        self.model = build_model(cfg, seed=cfg.general.seed or 0)
        if self.bf16:
            use_fp32_attention(self.model)  # faster than bf16 SDPA at the tiny models' head_dim (engine/model.py)
        f = cfg.optimizer.optimizer_factory
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.sched.learning_rate,
                                           betas=(f.adam_beta1, f.adam_beta2), eps=f.adam_eps,
                                           weight_decay=cfg.optimizer.weight_decay, foreach=True)
        self.guard = SpikeGuard(sigma=self.opts.spike_sigma, margin=self.opts.spike_margin)
        self.averages = OnlineAverages(self.run_dir, cfg.general.run, swa_interval=self.opts.swa_interval,
                                       swa_window=self.opts.swa_window, ema_decay=self.opts.ema_decay)
        self.config_text = dump_nanotron_yaml(cfg, header=f"# config of run {cfg.general.run} (from {getattr(cfg, 'source_file', '?')})")

    def find_start(self) -> tuple[Path | None, dict | None, bool]:
        """(checkpoint to start from, its metadata, continuing this same run?)."""
        cfg = self.cfg
        ck.clean_run_dir(self.run_dir, self.log)  # what a killed save left behind
        resume = cfg.checkpoints.resume_checkpoint_path
        path = resolve(resume) if resume else None
        resume_step = int(path.name) if path is not None and path.name.isdigit() else 0
        if not self.opts.restart:
            found = ck.newest_valid(self.run_dir, run=cfg.general.run, above=resume_step, at_most=cfg.tokens.train_steps,
                                    log=self.log)
            if found:
                self.log(f"continuing run {cfg.general.run} from its checkpoint {self.run_dir / str(found[0])}")
                return self.run_dir / str(found[0]), found[1], True
        if path is None:
            self.log(f"starting run {cfg.general.run} from scratch")
            return None, None, False
        used, meta = ck.resolve_resume(path, self.log)
        ck.check_belongs(used, meta, cfg)
        new_stage = cfg.data_stages[-1].start_training_step == resume_step + 1
        if used != path and new_stage and cfg.checkpoints.load_lr_scheduler:
            raise ck.CheckpointError(
                f"the stage's starting checkpoint is damaged and the newest valid one before it ({used}) lies inside "
                f"the previous stage", file=str(path),
                fix=f"re-run the previous stage: it continues from {used} and rewrites {path.name}")
        self.log(f"starting run {cfg.general.run} from checkpoint {used}")
        return used, meta, False

    def start(self) -> RunResult | None:
        """Load the starting checkpoint and the data position; a RunResult when there is nothing left to train."""
        cfg, opt_cfg = self.cfg, self.cfg.optimizer
        path, meta, continuing = self.find_start()
        stages_meta, load_sched = None, False
        if path is not None:
            weights, state, avg_tensors, meta = ck.load_checkpoint(path, verified_meta=meta)
            ck.load_weights_into(self.model, weights)
            self.parent = {"checkpoint": str(path), "step": meta["step"], "run": meta.get("run")}
            self.lineage = list(meta.get("lineage", [])) + [self.parent]
            load_sched = continuing or cfg.checkpoints.load_lr_scheduler
            if continuing or cfg.checkpoints.load_optimizer:
                self.optimizer.load_state_dict(state["optimizer"])
                f = opt_cfg.optimizer_factory
                for g in self.optimizer.param_groups:  # the YAML wins over the checkpoint for hyper-parameters, as in nanotron
                    g.update(betas=(f.adam_beta1, f.adam_beta2), eps=f.adam_eps, weight_decay=opt_cfg.weight_decay)
            if load_sched:
                self.step, stages_meta = int(meta["step"]), meta.get("data_stages", [])
                torch.set_rng_state(state["rng"]["torch"])
                self.guard.load(state.get("spike_guard"))
                self.averages.load(avg_tensors, state.get("averages"))
                self.saved.append(path)  # a rewind target
                precision = "bf16" if self.bf16 else "fp32"
                if meta.get("precision") and meta["precision"] != precision:
                    self.log(f"warning: the checkpoint was trained in {meta['precision']}; this launch uses {precision}")
            if continuing and self.step == cfg.tokens.train_steps:
                self.log(f"{cfg.general.run} is already complete at step {self.step} ({path}); nothing to train (--restart retrains it)")
                return RunResult({}, self.step + 1, self.step, path, 0.0, 0, self.metrics_dir, [])
            if self.step >= cfg.tokens.train_steps:
                raise ConfigError(f"the checkpoint is at step {self.step}, and this config ends at train_steps={cfg.tokens.train_steps}",
                                  file=getattr(cfg, "source_file", None), field="tokens.train_steps",
                                  fix="nothing left to train: run the next stage, or raise train_steps")
        self.data = LaunchData(cfg, stages_meta, self.step, vocab_size=cfg.model.model_config.vocab_size)
        self.end = cfg.tokens.train_steps if self.opts.max_steps is None else min(cfg.tokens.train_steps, self.step + self.opts.max_steps)
        self.first_step = self.step + 1
        return None

    def open_launch(self, build_seconds: float) -> None:
        cfg = self.cfg
        self.metrics = MetricsWriter(self.metrics_dir, tensorboard=self.opts.tensorboard, wandb=self.opts.wandb,
                                     wandb_project=cfg.general.project, run_name=cfg.general.run)
        self.metrics.append_json("launches.jsonl", {
            "run": cfg.general.run, "config": getattr(cfg, "source_file", None), "versions": runtime_versions(),
            "precision": "bf16" if self.bf16 else "fp32", "threads": torch.get_num_threads(), "started_from": self.parent,
            "engine": "local", "machine": machine.describe(),
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self.opts).items()},
        })
        repeated = [f for f, e in self.data.reader.epochs().items() if e >= 1]
        if repeated:
            self.log(f"note: stage {self.data.data.name} starts past one epoch of {', '.join(repeated)} (data repeats)")
        self.model.train()
        compiled = compile_layers(self.model, self.opts.compile, self.end - self.step,
                                  key=compile_key(cfg, self.bf16, torch.get_num_threads()), log=self.log)
        self.metrics.append_json("launches.jsonl", {"run": cfg.general.run, "compiled": compiled})
        self.t0, self.c0 = time.time(), time.process_time()
        self.log(f"built in {build_seconds:.1f} s; training {cfg.general.run}: iterations {self.first_step}..{self.end} of "
                 f"{cfg.tokens.train_steps}, {'bf16 autocast' if self.bf16 else 'fp32'}, {torch.get_num_threads()} threads"
                 f"{', compiling the decoder layers on the first step' if compiled else ''}")
        self.bar = None
        if self.opts.progress and self.end >= self.first_step:
            from tqdm import tqdm

            # In a log (no terminal) a redraw per step would write thousands of lines: redraw every 15 s there.
            self.bar = tqdm(total=self.end - self.step, desc=cfg.general.run, unit="step", dynamic_ncols=True,
                            file=sys.stderr, mininterval=0.1 if sys.stderr.isatty() else 15)

    # ------------------------------------------------------------------ one iteration
    def forward_backward(self, it: int) -> tuple[float, float]:
        """Loss of iteration `it` over its micro batches (gradients accumulated) and the clipped gradient norm."""
        lr = lr_for_iteration(it, self.sched)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        self.t_step = time.time()
        seq = self.data.seq_len
        # Fusing the micro batches of a step into one forward computes the same mean gradient (every micro
        # batch has the same token count) with larger, faster matmuls; nanotron accumulates to save GPU memory.
        fused = self.n_micro if self.opts.fuse_tokens and self.gbs * seq <= self.opts.fuse_tokens else 1
        total = 0.0
        for _ in range(self.n_micro // fused):
            batch = self.data.next_samples(self.cfg.tokens.micro_batch_size * fused, step=it)
            loss = causal_lm_loss(self.model, batch, self.bf16) * (fused / self.n_micro)
            loss.backward()
            total += float(loss.detach())
        clip = self.cfg.optimizer.clip_grad or float("inf")
        return total, float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip))

    def report_anomaly(self, it: int, verdict: str, loss: float) -> None:
        self.events.append({"step": it, "event": verdict, "loss": loss, "mean": self.guard.mean})
        self.metrics.event(it, verdict, {"loss": loss, "running_mean": self.guard.mean})
        self.log(f"\n{verdict} at step {it}: loss {loss:.4f} vs running mean {self.guard.mean:.4f}")

    def finish_step(self, it: int, loss: float, grad_norm: float, *, applied: bool) -> None:
        """Apply (or, for a non-finite loss, drop) the update; count the step, its data and its metrics."""
        if applied:
            self.optimizer.step()
            self.guard.accept(loss)
            self.losses[it] = loss
        else:
            self.log(f"step {it}: the update is dropped (non-finite loss); the step and its batch still count")
        self.optimizer.zero_grad(set_to_none=True)
        self.data.record_iteration(it)
        self.step = it
        dt = time.time() - self.t_step
        ntok = self.gbs * self.data.seq_len
        self.tokens_done += ntok
        lr = self.optimizer.param_groups[0]["lr"]
        self.metrics.log(it, {"loss": loss, "lr": lr, "grad_norm": grad_norm, "tokens_per_s": ntok / dt, "step_time": dt,
                              "elapsed": time.time() - self.t0, "cpu_time": time.process_time() - self.c0,
                              "consumed_samples": self.data.reader.consumed, "stage": self.data.data.name,
                              "applied": applied})
        self.averages.update(it, self.model)
        if self.bar is not None:
            self.bar.set_postfix(step=it, loss=f"{loss:.3f}", lr=f"{lr:.2e}", tok_s=f"{ntok / dt:,.0f}", refresh=False)
            self.bar.update(1)

    # ------------------------------------------------------------------ checkpoints and rewinds
    def maybe_save(self) -> None:
        c, step = self.cfg.checkpoints, self.step
        final = step == self.cfg.tokens.train_steps
        if step % c.checkpoint_interval == 0:
            self.save("final" if final else "interval")
        elif (final and c.save_final_state) or step == self.end:
            self.save("final" if final else "stop")

    def save(self, reason: str) -> Path:
        cfg, step = self.cfg, self.step
        stages = self.data.meta()
        avg_tensors, avg_info = self.averages.state()
        meta = {
            "run": cfg.general.run, "engine": "local", "reason": reason,
            "consumed_train_samples": sum(int(s["consumed_samples"]) for s in stages),
            "consumed_tokens_total": sum(int(s["consumed_samples"]) * int(s["sequence_length"]) for s in stages),
            "data_stages": stages, "precision": "bf16" if self.bf16 else "fp32",
            "lr_next_iteration": lr_for_iteration(step + 1, self.sched),
            "config_file": getattr(cfg, "source_file", None), "versions": runtime_versions(),
            "lineage": self.lineage, "branch": self.opts.lineage or None, "events": self.events[-50:],
        }
        trainer_state = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": {"last_step": step},  # the LR is a function of the global step only (DESIGN contract 4)
            "rng": {"torch": torch.get_rng_state()},
            "spike_guard": self.guard.state(),
            "averages": avg_info,
        }
        path = ck.save_checkpoint(self.run_dir, step, model=self.model, trainer_state=trainer_state, metadata=meta,
                                  config_text=self.config_text, averages=avg_tensors or None)
        self.averages.save_with_checkpoint(step, self.model, path)
        self.saved.append(path)
        self.last_saved, self.last_path = step, path
        return path

    def rewind(self, bad_step: int) -> None:
        """Reload the newest checkpoint before bad_step; the data reader keeps its position, so the bad batches are skipped."""
        self.optimizer.zero_grad(set_to_none=True)
        candidates = [p for p in self.saved if int(p.name) < bad_step]
        if not candidates:
            raise RecipeError(f"loss spike at step {bad_step} and no checkpoint to rewind to in this launch",
                              fix="lower checkpoint_interval, or run with --on-spike log")
        target = candidates[-1]
        weights, state, avg_tensors, meta = ck.load_checkpoint(target)
        ck.load_weights_into(self.model, weights)
        self.optimizer.load_state_dict(state["optimizer"])
        self.guard.load(state.get("spike_guard"))
        self.averages.load(avg_tensors, state.get("averages"))
        back = int(meta["step"])
        self.data.restore_record(next((s for s in meta.get("data_stages", []) if s["name"] == self.data.data.name), None), back)
        self.rewinds += 1
        skipped = self.data.reader.consumed
        self.log(f"rewound to step {back}; the batches of steps {back + 1}..{bad_step} are skipped")
        self.events.append({"step": bad_step, "event": "rewind", "to": back, "skipped_until_sample": skipped})
        self.metrics.event(bad_step, "rewind", {"to": back})
        self.step = back
        if self.bar is not None:
            self.bar.n = back - (self.first_step - 1)
            self.bar.refresh()

    # ------------------------------------------------------------------ the end
    def finish(self, interrupted: bool) -> RunResult:
        if self.bar is not None:
            self.bar.close()
        seconds = time.time() - self.t0
        self.metrics.close()
        try:
            plot_run(self.metrics_dir)
        except Exception as e:  # a plot must never lose a finished run
            self.log(f"warning: could not plot the run: {e}")
        if interrupted:
            self.log(f"interrupted at step {self.step}; checkpoint {self.last_path}. Run the same command again to continue.")
            raise KeyboardInterrupt
        return RunResult(self.losses, self.first_step, self.step, self.last_path, seconds, self.tokens_done,
                         self.metrics_dir, self.events)


def train(cfg, opts: EngineOptions | None = None, log=None) -> RunResult:
    return Trainer(cfg, opts, log).run()


def summary(result: RunResult) -> str:
    if not result.losses:
        return "no iterations run"
    steps = sorted(result.losses)
    tail = [result.losses[s] for s in steps[-10:]]
    return (f"iterations {steps[0]}..{steps[-1]} in {result.seconds:.1f} s ({result.tokens / max(result.seconds, 1e-9):,.0f} tokens/s); "
            f"loss first {result.losses[steps[0]]:.3f}, last-10 mean {sum(tail) / len(tail):.3f}; "
            f"checkpoint {result.last_checkpoint}; metrics {result.run_dir}")

"""The runs of `make scaling`, as data: each is recipes/schedules/base.yaml with a few fields changed.

    runs = plan(steps=600, seeds=(0, 1))     # ordered so that every branch comes after the run it branches from
    cfg = config(run, base_cfg, data_dir)     # the nanotron config of one run

A run is either trained from scratch (`parent` None) or branched from a checkpoint of another run (`parent`, `branch`):
the branch resumes everything (weights, optimizer, data position, schedule) and only changes the decay window, its
length and, for the annealing ablations, the data mixture from the branch step on. Constant-LR runs stop at every
step a branch needs (`stops`), so one constant run per size and seed serves every budget (Hagele et al. 2024).

The experiments (T = `steps`, the main budget; B = T / 3):
- schedules, for each seed, model M: constant LR; cosine to 10% and to 0 of the peak; linear 20% cooldown; 1-sqrt
  cooldowns of 5, 10, 20 and 40% (all cooldowns branched from the constant run);
- LR sensitivity, seed 0: peak LR x0.5 and x2 for cosine-10% and for constant + 1-sqrt 20% (x1 is above);
- reuse, seed 0, models S, M, L: budgets B, 2B, 3B, each as a 20% 1-sqrt cooldown branched from one constant run
  and as a separate cosine-10% run;
- weight averaging: online SWA (every 5 steps, windows of T/6) and EMA (0.99) along each constant run of M;
- annealing ablations, seed 0, model M: 20% cooldowns branched from the constant run at 0.8T on candidate mixtures.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

# layers, hidden, ffn, heads, kv heads. M is the tiny recipe's model; S and L bracket it (~0.4x and ~2x its FLOPs).
SIZES = {"S": (2, 96, 288, 3, 1), "M": (4, 128, 384, 4, 2), "L": (6, 160, 480, 5, 5)}
MIXTURES = {
    "base": {"web-edu": 0.35, "web": 0.35, "code": 0.30},
    "+math-edu": {"web-edu": 0.30, "web": 0.30, "code": 0.25, "math-edu": 0.15},
    "+code-edu": {"web-edu": 0.30, "web": 0.30, "code": 0.20, "code-edu": 0.20},
    "+textbooks": {"web-edu": 0.30, "web": 0.30, "code": 0.25, "textbooks": 0.15},
}
VALIDATION_FOLDERS = ("web-edu", "web", "code", "math-edu", "code-edu", "textbooks")
VALIDATION_WINDOWS = 64  # the last windows of each folder, never trained on (checked before a run starts)
WARMUP_FRACTION = 0.05


@dataclass(frozen=True)
class Run:
    name: str
    size: str
    seed: int
    end: int                       # the run's last step (train_steps)
    shape: str                     # constant | cosine | linear | 1-sqrt
    decay_start: int
    decay_steps: int
    min_frac: float = 0.0          # min_decay_lr / peak
    lr_scale: float = 1.0
    mixture: str = "base"
    parent: str | None = None      # the run this one branches from, at step `branch`
    branch: int | None = None
    stops: tuple[int, ...] = ()    # steps where a checkpoint must exist (branch points), besides the end
    averages: bool = False         # online SWA and EMA
    group: str = ""                # schedules | lr | reuse | anneal
    tags: dict = field(default_factory=dict, hash=False, compare=False)

    def spec(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "tags"}


def _constant(size, seed, T, end, stops, lr=1.0, averages=False, group="schedules", name=None):
    return Run(name or f"{size}-s{seed}{'' if lr == 1 else f'-lr{lr:g}'}-constant", size, seed, end, "constant", end, 1,
               lr_scale=lr, stops=tuple(sorted(set(s for s in stops if 0 < s < end))), averages=averages, group=group,
               tags={"warmup": max(1, round(WARMUP_FRACTION * T))})


def _cooldown(parent: Run, name, at, length, shape="1-sqrt", mixture="base", group="schedules", **tags):
    return Run(name, parent.size, parent.seed, at + length, shape, at, length, lr_scale=parent.lr_scale,
               mixture=mixture, parent=parent.name, branch=at, group=group, tags={**parent.tags, **tags})


def _cosine(size, seed, T, end, lr=1.0, min_frac=0.1, group="schedules", name=None, **tags):
    w = max(1, round(WARMUP_FRACTION * T))
    return Run(name or f"{size}-s{seed}{'' if lr == 1 else f'-lr{lr:g}'}-cosine{round(min_frac * 100)}", size, seed, end,
               "cosine", w, end - w, min_frac=min_frac, lr_scale=lr, group=group, tags={"warmup": w, **tags})


def plan(steps: int = 600, seeds=(0, 1)) -> list[Run]:
    T = steps
    if T % 60:
        raise ValueError("the budget must be a multiple of 60 steps (budgets T/3 and cooldowns of 5% must be whole steps)")
    B = T // 3
    fractions = (0.05, 0.10, 0.20, 0.40)
    runs: list[Run] = []
    for seed in seeds:
        stops = [round((1 - f) * T) for f in fractions] + ([round(0.8 * k * B) for k in (1, 2)] if seed == seeds[0] else [])
        const = _constant("M", seed, T, T, stops, averages=True)
        runs += [const, _cosine("M", seed, T, T), _cosine("M", seed, T, T, min_frac=0.0),
                 _cooldown(const, f"M-s{seed}-linear20", round(0.8 * T), round(0.2 * T), shape="linear", fraction=0.2)]
        runs += [_cooldown(const, f"M-s{seed}-1sqrt{round(f * 100):02d}", round((1 - f) * T), round(f * T), fraction=f)
                 for f in fractions]
    s0 = seeds[0]
    for lr in (0.5, 2.0):
        const = _constant("M", s0, T, round(0.8 * T), [], lr=lr, group="lr")
        runs += [const, _cooldown(const, f"M-s{s0}-lr{lr:g}-1sqrt20", round(0.8 * T), round(0.2 * T), group="lr", fraction=0.2),
                 _cosine("M", s0, T, T, lr=lr, group="lr")]
    for size in ("S", "M", "L"):
        if size == "M":
            const = next(r for r in runs if r.name == f"M-s{s0}-constant")
        else:
            const = _constant(size, s0, T, round(0.8 * 3 * B), [round(0.8 * k * B) for k in (1, 2)], group="reuse")
            runs.append(const)
        for k in (1, 2, 3):
            name = f"{size}-s{s0}-1sqrt20-B{k}" if not (size == "M" and k == 3) else None
            if name:
                runs.append(_cooldown(const, name, round(0.8 * k * B), round(0.2 * k * B), group="reuse", budget=k, fraction=0.2))
            if not (size == "M" and k == 3):
                runs.append(_cosine(size, s0, T, k * B, group="reuse", name=f"{size}-s{s0}-cosine10-B{k}", budget=k))
    const = next(r for r in runs if r.name == f"M-s{s0}-constant")
    for mix in MIXTURES:
        if mix != "base":
            runs.append(_cooldown(const, f"M-s{s0}-anneal{mix}", round(0.8 * T), round(0.2 * T), mixture=mix, group="anneal",
                                  fraction=0.2))
    return runs


def config(run: Run, base, data_dir: str, runs_by_name: dict[str, Run], checkpoints_root: str):
    """The nanotron config of `run`, derived from the base config (a deep copy; `base` is not changed)."""
    cfg = copy.deepcopy(base)
    layers, hidden, ffn, heads, kv = SIZES[run.size]
    m = cfg.model.model_config
    m.num_hidden_layers, m.hidden_size, m.intermediate_size, m.num_attention_heads, m.num_key_value_heads = layers, hidden, ffn, heads, kv
    cfg.model.init_method.std = round(hidden ** -0.5, 6)  # the tiny recipe's rule: 1/sqrt(hidden)
    cfg.general.run, cfg.general.seed = run.name, run.seed
    s = cfg.schedule
    s.learning_rate = base.schedule.learning_rate * run.lr_scale
    s.lr_warmup_steps = run.tags.get("warmup", s.lr_warmup_steps)
    s.lr_decay_style = "linear" if run.shape == "constant" else run.shape
    s.lr_decay_starting_step, s.lr_decay_steps = run.decay_start, run.decay_steps
    s.min_decay_lr = s.learning_rate * run.min_frac
    cfg.tokens.train_steps = run.end
    cfg.checkpoints.checkpoints_path = f"{checkpoints_root}/{run.name}"
    cfg.checkpoints.checkpoint_interval = 10**9  # checkpoints only where a branch needs one (stops) and at the end
    cfg.checkpoints.save_final_state = True
    stage = cfg.data_stages[0]
    first = _stage_like(stage, run.mixture if run.parent is None else _root_mixture(run, runs_by_name), data_dir, 1)
    cfg.data_stages = [first]
    if run.parent is not None:
        cfg.checkpoints.resume_checkpoint_path = f"{checkpoints_root}/{run.parent}/{run.branch}"
        cfg.checkpoints.load_lr_scheduler = cfg.checkpoints.load_optimizer = True
        if run.mixture != first.name.removeprefix("stable-"):  # an annealing ablation: a new data stage from the branch on
            cfg.data_stages.append(_stage_like(stage, run.mixture, data_dir, run.branch + 1, prefix="anneal-"))
    else:
        cfg.checkpoints.resume_checkpoint_path = None
    return cfg


def _root_mixture(run: Run, runs_by_name: dict[str, Run]) -> str:
    while run.parent is not None:
        run = runs_by_name[run.parent]
    return run.mixture


def _stage_like(template, mixture: str, data_dir: str, start: int, prefix: str = "stable-"):
    st = copy.deepcopy(template)
    st.name, st.start_training_step = f"{prefix}{mixture}", start
    mix = MIXTURES[mixture]
    st.data.dataset.dataset_folder = [f"{data_dir.rstrip('/')}/{f}" for f in mix]
    st.data.dataset.dataset_weights = list(mix.values())
    return st

"""`make plan RECIPE=x`: what a recipe will run, before a single GPU hour is spent.

Prints per stage the iterations, steps, tokens, tokens per step, the LR at the stage's first and last
iteration and the mixture (tokens drawn per source); writes a PNG of the LR over steps with the stage
boundaries marked. Data-availability columns (epochs per source) are added by smolrecipe.data.mixture
when the tokenized folders exist.
"""
from __future__ import annotations

from pathlib import Path

from smolrecipe.config.recipe import Recipe, long_context_branch_step
from smolrecipe.schedule import Schedule, lr_for_iteration


def human(n: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}"
    return f"{n:.0f}"


def stage_rows(recipe: Recipe) -> list[dict]:
    """One row per stage (and the long-context run): the numbers `plan` prints and tests check."""
    sched = recipe.schedule
    rows = []
    for k, cfg in enumerate(recipe.stages, start=1):
        first, last = recipe.stage_range(k)
        rows.append(_row(f"stage{k}", cfg, first, last, sched))
    if recipe.long_context is not None:
        lc = recipe.long_context
        rows.append(_row("long-context", lc, long_context_branch_step(lc) + 1, lc.tokens.train_steps, sched))
    return rows


def _row(name, cfg, first, last, sched: Schedule) -> dict:
    stage = cfg.data_stages[-1]
    ds = stage.data.dataset
    steps = last - first + 1
    seq = stage.sequence_length or cfg.tokens.sequence_length
    tps = cfg.global_batch_size * seq
    return {
        "name": name,
        "data_stage": stage.name,
        "first": first,
        "last": last,
        "steps": steps,
        "sequence_length": seq,
        "tokens_per_step": tps,
        "tokens": steps * tps,
        "lr_first": lr_for_iteration(first, sched),
        "lr_last": lr_for_iteration(last, sched),
        "mixture": [(folder, w, w * steps * tps) for folder, w in zip(ds.folders, ds.weights)],
    }


def print_plan(recipe: Recipe, extra_columns=None) -> list[dict]:
    rows = stage_rows(recipe)
    s = recipe.schedule
    m = recipe.stages[0].model.model_config
    from smolrecipe.model import count_parameters

    print(f"recipe {recipe.name}: {human(count_parameters(recipe.stages[0]))} parameters "
          f"({m.num_hidden_layers} layers, hidden {m.hidden_size}, {m.num_attention_heads}/{m.kv_heads} heads, vocab {m.vocab_size})")
    print(f"schedule: peak LR {s.learning_rate:g}, {s.lr_warmup_style} warmup {s.lr_warmup_steps} steps, constant, "
          f"{s.lr_decay_style} decay from step {s.lr_decay_starting_step:,} over {s.lr_decay_steps:,} steps to {s.min_decay_lr:g}")
    pretrain_tokens = 0
    for r in rows:
        print()
        print(f"{r['name']} [{r['data_stage']}]  iterations {r['first']:,}..{r['last']:,}  ({r['steps']:,} steps)  "
              f"seq {r['sequence_length']}  {human(r['tokens_per_step'])} tokens/step  {human(r['tokens'])} tokens  "
              f"LR {r['lr_first']:.3g} -> {r['lr_last']:.3g}")
        for folder, w, tokens in r["mixture"]:
            extra = extra_columns(folder, tokens) if extra_columns else ""
            print(f"    {w:7.2%}  {human(tokens):>8} tokens  {folder}{extra}")
        if r["name"] != "long-context":
            pretrain_tokens += r["tokens"]
    print()
    print(f"total pretraining: {recipe.final_step:,} steps, {human(pretrain_tokens)} tokens"
          + (f" (the long-context run replaces the last {rows[-1]['steps']:,} steps)" if recipe.long_context else ""))
    return rows


def schedule_curve(recipe: Recipe, points: int = 2000) -> dict:
    """What the schedule plot draws: iterations (with every phase boundary), the LR each trains with, the stages'
    iteration spans and the long-context branch step (None without one)."""
    s = recipe.schedule
    T = recipe.final_step
    its = sorted({max(1, round(1 + i * (T - 1) / points)) for i in range(points + 1)}
                 | {s.lr_warmup_steps + 1, s.lr_decay_starting_step + 1, T})
    rows = stage_rows(recipe)
    lc = [r for r in rows if r["name"] == "long-context"]
    return {"iterations": its, "lr": [lr_for_iteration(i, s) for i in its],
            "stages": [(r["name"], r["first"], r["last"], r["tokens"]) for r in rows if r["name"] != "long-context"],
            "branch": lc[0]["first"] - 1 if lc else None}


def plot_schedule(recipe: Recipe, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, curve = recipe.schedule, schedule_curve(recipe)
    T = recipe.final_step
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(curve["iterations"], curve["lr"], color="tab:blue", lw=1.8, label=f"LR ({s.lr_decay_style} decay)")
    colors = plt.cm.Pastel1.colors
    for k, (name, first, last, tokens) in enumerate(curve["stages"]):
        ax.axvspan(first, last, color=colors[k % len(colors)], alpha=0.6, lw=0)
        ax.text((first + last) / 2, s.learning_rate * 1.02, f"{name}\n{human(tokens)} tok", ha="center", va="bottom", fontsize=8)
    if curve["branch"] is not None:
        ax.axvline(curve["branch"], color="tab:red", ls="--", lw=1, label=f"long-context branch (step {curve['branch']:,})")
    ax.set_xlabel("training step")
    ax.set_ylabel("learning rate")
    ax.set_ylim(0, s.learning_rate * 1.25)
    ax.set_xlim(0, T * 1.01)
    ax.set_title(f"{recipe.name}: WSD schedule over {T:,} steps")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out

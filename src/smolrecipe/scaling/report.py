"""Tables, findings and plots of the scaling experiments (outputs/scaling/REPORT.md and plots/*.png).

Every comparison of schedules is paired by seed (the seeds differ in the initialisation), and each finding is
set beside the paper's claim (Hagele et al. 2024, REFERENCE.md section 8) with the seed spread, saying whether it
holds at this scale.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from smolrecipe.scaling.fit import fit_envelope, fit_law
from smolrecipe.scaling.ledger import reuse_ratio

SCHEDULES = ("constant", "cosine10", "cosine0", "linear20", "1sqrt05", "1sqrt10", "1sqrt20", "1sqrt40")


def final(results: dict, name: str) -> float | None:
    r = results.get(name)
    return r["val"][str(r["run"]["end"])]["mean"] if r else None


def seeds_of(results: dict) -> list[int]:
    return sorted({r["run"]["seed"] for r in results.values() if r["run"]["group"] == "schedules"})


def schedule_table(results: dict) -> dict[str, dict[int, float]]:
    return {s: {seed: final(results, f"M-s{seed}-{s}") for seed in seeds_of(results)} for s in SCHEDULES}


def paired(table, a: str, b: str) -> list[float]:
    """a - b per seed (negative: a is better)."""
    return [table[a][s] - table[b][s] for s in table[a] if table[a][s] is not None and table[b][s] is not None]


def seed_spread(table) -> float:
    spreads = [max(v.values()) - min(v.values()) for v in table.values() if len(v) > 1 and None not in v.values()]
    return max(spreads) if spreads else float("nan")


def _fmt(xs) -> str:
    return ", ".join(f"{x:+.3f}" for x in xs)


def findings(results: dict) -> list[tuple[str, str, str]]:
    """(the paper's claim, what this run measured, whether it holds here)."""
    t = schedule_table(results)
    spread = seed_spread(t)
    out = []

    def judge(diffs, better_when_negative=True, tolerance=None):
        tol = spread if tolerance is None else tolerance
        m = statistics.mean(diffs)
        if better_when_negative:
            return "holds" if m < 0 and all(d < 0 for d in diffs) else ("within the seed spread" if abs(m) <= tol else "does not hold")
        return "holds" if abs(m) <= tol else "does not hold"

    d = paired(t, "1sqrt20", "cosine10")
    out.append(("A ~20% cooldown matches (or beats) cosine to 10% of the peak", f"1-sqrt 20% minus cosine-10%: {_fmt(d)} nats",
                judge(d, better_when_negative=False) if max(d) > 0 else "holds (the cooldown is better)"))
    d = paired(t, "1sqrt20", "linear20")
    out.append(("The 1-sqrt cooldown beats the linear one", f"1-sqrt 20% minus linear 20%: {_fmt(d)} nats", judge(d)))
    d = [paired(t, f"1sqrt{f}", "1sqrt05") for f in ("10", "20", "40")]
    gains = [statistics.mean(x) for x in d]
    shape = "holds" if gains[0] < 0 and gains[1] < gains[0] and (gains[2] - gains[1]) > (gains[1] - gains[0]) else "does not hold"
    out.append(("Longer cooldowns help, with diminishing returns", "10/20/40% minus 5%, mean over seeds: "
                + ", ".join(f"{g:+.3f}" for g in gains) + " nats", shape))
    d = paired(t, "constant", "1sqrt20")
    out.append(("A cooldown is needed: the constant-LR iterate is worse", f"constant minus 1-sqrt 20%: {_fmt(d)} nats",
                "holds" if min(d) > 0 else "does not hold"))
    out.append(swa_finding(results))
    out.append(lr_finding(results))
    led = ledger(results)
    if led:
        out.append(("Reuse: budgets 1:2:3 with 20% cooldowns cost ~0.6x the FLOPs of separate cosine runs",
                    f"{led['ratio']:.3f}x measured over {len(led['sizes'])} sizes (closed form {led['closed_form']:.3f})",
                    "holds" if abs(led["ratio"] - led["closed_form"]) < 0.02 else "does not hold"))
    return out


def swa_finding(results):
    rows = []
    for seed in seeds_of(results):
        r = results.get(f"M-s{seed}-constant")
        if r and r.get("averages"):
            raw = r["val"][str(r["run"]["end"])]["mean"]
            rows.append((raw, r["averages"].get("swa", {}).get("mean"), r["averages"].get("ema", {}).get("mean"),
                         final(results, f"M-s{seed}-1sqrt20")))
    if not rows:
        return ("SWA improves the constant-LR iterate but does not replace a cooldown", "not measured", "-")
    text = "; ".join(f"raw {a:.3f}, SWA {b:.3f}, EMA {c:.3f}, cooldown {d:.3f}" for a, b, c, d in rows)
    helps = all(b is not None and b < a for a, b, _, _ in rows)
    replaces = any(b is not None and b <= d for _, b, _, d in rows)
    verdict = "holds" if helps and not replaces else ("SWA helps and even matches the cooldown here" if helps else "does not hold")
    return ("SWA improves the constant-LR iterate but does not replace a cooldown", text, verdict)


def lr_table(results) -> dict[str, dict[float, float]]:
    s0 = seeds_of(results)[0] if seeds_of(results) else 0
    out = {"cosine10": {}, "1sqrt20": {}}
    for lr in (0.5, 1.0, 2.0):
        tag = "" if lr == 1 else f"-lr{lr:g}"
        out["cosine10"][lr] = final(results, f"M-s{s0}{tag}-cosine10")
        out["1sqrt20"][lr] = final(results, f"M-s{s0}{tag}-1sqrt20")
    return out


def lr_finding(results):
    t = lr_table(results)
    if any(v is None for row in t.values() for v in row.values()):
        return ("The best constant LR is about half the best cosine LR", "not measured", "-")
    best = {k: min(row, key=row.get) for k, row in t.items()}
    text = (f"best peak LR multiplier: cosine x{best['cosine10']:g}, constant + cooldown x{best['1sqrt20']:g} "
            f"(of {', '.join(f'x{m:g}' for m in (0.5, 1, 2))})")
    verdict = "holds" if best["1sqrt20"] < best["cosine10"] else "does not hold at this scale (a grid of 3 LRs)"
    return ("The best constant LR is about half the best cosine LR", text, verdict)


def ledger(results) -> dict | None:
    sizes = {}
    for r in results.values():
        run = r["run"]
        if run["group"] == "reuse" or run["name"] in (f"M-s{run['seed']}-constant", f"M-s{run['seed']}-1sqrt20",
                                                      f"M-s{run['seed']}-cosine10"):
            sizes.setdefault(run["size"], []).append(r)
    out = {}
    for size, rs in sizes.items():
        names = {r["run"]["name"]: r for r in rs}
        s0 = min(r["run"]["seed"] for r in rs)
        const = names.get(f"{size}-s{s0}-constant")
        cools = [names.get(f"{size}-s{s0}-1sqrt20-B{k}") or (names.get(f"M-s{s0}-1sqrt20") if size == "M" and k == 3 else None)
                 for k in (1, 2, 3)]
        cosines = [names.get(f"{size}-s{s0}-cosine10-B{k}") or (names.get(f"M-s{s0}-cosine10") if size == "M" and k == 3 else None)
                   for k in (1, 2, 3)]
        if not const or None in cools or None in cosines:
            continue
        # the constant run is charged only up to the last branch point (0.8 x 3B): an M constant run goes on to T
        # for the schedule comparison, which the reuse experiment does not need
        per_step = const["flops"] / const["steps_trained"]
        reuse = per_step * max(c["run"]["branch"] for c in cools) + sum(c["flops"] for c in cools)
        out[size] = {"reuse": reuse, "separate": sum(c["flops"] for c in cosines), "n_params": const["n_params"],
                     "points": [(c["n_params"], c["tokens"], final(results, c["run"]["name"]), c["flops_total"])
                                for c in cools],
                     "cosine_points": [(c["n_params"], c["tokens"], final(results, c["run"]["name"]), c["flops_total"])
                                       for c in cosines]}
    if not out:
        return None
    reuse, separate = sum(v["reuse"] for v in out.values()), sum(v["separate"] for v in out.values())
    return {"sizes": out, "reuse": reuse, "separate": separate, "ratio": reuse / separate,
            "closed_form": reuse_ratio([1, 2, 3], 0.2)}


def scaling_fit(led: dict) -> dict | None:
    """Approach 3 on every size's cooldown points, and again on all but the largest size to predict it."""
    pts = [(n, d, l) for v in led["sizes"].values() for n, d, l, _ in v["points"]]
    if len({p[0] for p in pts}) < 2:
        return None
    law = fit_law(pts)
    biggest = max(p[0] for p in pts)
    held = [p for p in pts if p[0] == biggest]
    rest = [p for p in pts if p[0] != biggest]
    out = {"law": law, "points": pts}
    if len({p[0] for p in rest}) >= 2:
        small = fit_law(rest)
        out["heldout"] = [(d, l, float(small.predict(biggest, d))) for _, d, l in held]
        out["small_law"] = small
    env_pts = [(c, l) for v in led["sizes"].values() for _, _, l, c in v["points"] + v["cosine_points"]]
    out["envelope"] = fit_envelope(env_pts)
    return out


# ------------------------------------------------------------------------------------------ plots
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_schedules(results, runs_dir: Path, out: Path) -> Path:
    """Training loss (smoothed) and LR per schedule, seed 0, model M."""
    from smolrecipe.engine.metrics import read_metrics

    plt = _plt()
    fig, (ax, lr_ax) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    s0 = seeds_of(results)[0]
    for sched in ("constant", "cosine10", "cosine0", "linear20", "1sqrt20"):
        name = f"M-s{s0}-{sched}"
        r = results.get(name)
        if not r:
            continue
        steps = {}
        chain = [name] + ([r["run"]["parent"]] if r["run"]["parent"] else [])
        for run in reversed(chain):  # a branch's curve starts with its parent's up to the branch step
            s, _ = read_metrics(runs_dir / run)
            cut = r["run"]["branch"] if run != name and r["run"]["branch"] else None
            steps.update({k: v for k, v in s.items() if cut is None or k <= cut})
        xs = sorted(steps)
        k = 15
        smooth = [statistics.mean(steps[x]["loss"] for x in xs[max(0, i - k):i + 1]) for i in range(len(xs))]
        ax.plot(xs, smooth, lw=1.2, label=f"{sched} (val {final(results, name):.3f})")
        lr_ax.plot(xs, [steps[x]["lr"] for x in xs], lw=1)
    ax.set_ylabel("train loss (15-step mean)")
    ax.set_ylim(top=min(ax.get_ylim()[1], 6))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    lr_ax.set_ylabel("LR")
    lr_ax.set_xlabel("step")
    ax.set_title(f"schedules at a fixed budget (model M, seed {s0})")
    return _save(fig, out)


def plot_cooldown_length(results, out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    t = schedule_table(results)
    fr = (5, 10, 20, 40)
    for seed in seeds_of(results):
        ys = [t[f"1sqrt{f:02d}"][seed] for f in fr]
        line, = ax.plot(fr, ys, marker="o", label=f"1-sqrt cooldown, seed {seed}")
        ax.axhline(t["cosine10"][seed], color=line.get_color(), ls="--", lw=1, label=f"cosine to 10%, seed {seed}")
    ax.set_xlabel("cooldown length (% of the run)")
    ax.set_ylabel("validation loss")
    ax.set_xticks(fr)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("final loss vs cooldown length")
    return _save(fig, out)


def plot_scaling(led, fit, out: Path) -> Path:
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for size, v in sorted(led["sizes"].items(), key=lambda kv: kv[1]["n_params"]):
        c = [p[3] for p in v["points"]]
        line, = ax.plot(c, [p[2] for p in v["points"]], marker="o", label=f"{size} ({v['n_params'] / 1e6:.2f}M), cooldowns")
        ax.plot([p[3] for p in v["cosine_points"]], [p[2] for p in v["cosine_points"]], marker="x", ls=":",
                color=line.get_color(), label=f"{size}, cosine runs")
        if fit:
            # the law on a dense token grid, through twice the largest budget: where it lies under the points and
            # how it extrapolates (FLOPs are proportional to tokens within one size)
            d0 = np.array([p[1] for p in v["points"]], dtype=float)
            ds = np.geomspace(d0.min(), 2 * d0.max(), 40)
            ax.plot(ds * (c[-1] / d0[-1]), fit["law"].predict(v["n_params"], ds), ls="--", color=line.get_color(), lw=1)
    if fit:
        xs = np.geomspace(min(fit["envelope"].flops), max(fit["envelope"].flops), 50)
        ax.plot(xs, fit["envelope"].predict(xs), color="black", lw=1,
                label=f"envelope: L = {fit['envelope'].a:.3g} C^-{fit['envelope'].b:.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("training FLOPs")
    ax.set_ylabel("validation loss")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    ax.set_title("loss vs FLOPs; dashed: the fitted L(N, D)")
    return _save(fig, out)


def plot_flops(led, out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sizes = sorted(led["sizes"], key=lambda s: led["sizes"][s]["n_params"])
    x = range(len(sizes))
    ax.bar([i - 0.2 for i in x], [led["sizes"][s]["separate"] for s in sizes], 0.4, label="one cosine run per budget")
    ax.bar([i + 0.2 for i in x], [led["sizes"][s]["reuse"] for s in sizes], 0.4, label="one constant run + cooldowns")
    ax.set_xticks(list(x), sizes)
    ax.set_ylabel("training FLOPs")
    ax.legend(fontsize=8)
    ax.set_title(f"FLOPs for budgets 1:2:3: {led['ratio']:.2f}x with reuse")
    return _save(fig, out)


def _save(fig, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    tmp = out.with_name(f".{out.name}")
    fig.savefig(tmp, dpi=110, format="png")
    _plt().close(fig)
    tmp.replace(out)
    return out


# ------------------------------------------------------------------------------------------ the page
def markdown(results, led, fit, plots: dict[str, str], header: str) -> str:
    t = schedule_table(results)
    seeds = seeds_of(results)
    lines = [header, "", "## Schedules at a fixed budget (model M)", "",
             "| schedule | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |", "|---|" + "---|" * (len(seeds) + 1)]
    for sched in SCHEDULES:
        vals = [t[sched][s] for s in seeds]
        if None in vals:
            continue
        lines.append(f"| {sched} | " + " | ".join(f"{v:.4f}" for v in vals) + f" | {statistics.mean(vals):.4f} |")
    lines += ["", f"Validation loss (nats/token) on held-out windows; the largest gap between two seeds of one schedule is "
              f"{seed_spread(t):.3f}.", "", "## The paper's findings at this scale", "",
              "| claim (Hagele et al. 2024) | measured here | verdict |", "|---|---|---|"]
    lines += [f"| {c} | {m} | {v} |" for c, m, v in findings(results)]
    lr = lr_table(results)
    lines += ["", "## Peak LR sensitivity (seed 0)", "", "| schedule | x0.5 | x1 | x2 |", "|---|---|---|---|"]
    for k, row in lr.items():
        lines.append(f"| {k} | " + " | ".join("-" if row[m] is None else f"{row[m]:.4f}" for m in (0.5, 1.0, 2.0)) + " |")
    anneal = sorted(((r["run"]["mixture"], final(results, n), r["val"][str(r["run"]["end"])])
                     for n, r in results.items() if r["run"]["group"] == "anneal" or n == f"M-s{seeds[0]}-1sqrt20"),
                    key=lambda x: x[1])
    if anneal:
        folders = [k for k in anneal[0][2] if k != "mean"]
        lines += ["", "## Annealing ablations: 20% cooldowns from one stable checkpoint, ranked", "",
                  "| mixture | mean | " + " | ".join(folders) + " |", "|---|---|" + "---|" * len(folders)]
        lines += [f"| {m} | {v:.4f} | " + " | ".join(f"{per[f]:.3f}" for f in folders) + " |" for m, v, per in anneal]
    if led:
        lines += ["", "## Scaling from reusable runs (seed 0)", "", "| size | N (non-embedding) | reuse FLOPs | separate FLOPs | ratio |",
                  "|---|---|---|---|---|"]
        for s, v in sorted(led["sizes"].items(), key=lambda kv: kv[1]["n_params"]):
            lines.append(f"| {s} | {v['n_params']:,} | {v['reuse']:.3e} | {v['separate']:.3e} | {v['reuse'] / v['separate']:.3f} |")
        lines.append(f"| all | | {led['reuse']:.3e} | {led['separate']:.3e} | **{led['ratio']:.3f}** (closed form {led['closed_form']:.3f}) |")
        if fit:
            lines += ["", f"Approach 3 fit on the 20% cooldowns: {fit['law'].describe()}. Approach 1 envelope over every "
                      f"cooldown and cosine run: L = {fit['envelope'].a:.4g} C^-{fit['envelope'].b:.4f}."]
            for d, l, p in fit.get("heldout", []):
                lines.append(f"- held out, the largest size at {d:,} tokens: measured {l:.4f}, predicted from the smaller "
                             f"sizes {p:.4f} ({(p - l) / l:+.1%})")
    lines += [""] + [f"![{k}]({v})" for k, v in plots.items()]
    return "\n".join(lines) + "\n"

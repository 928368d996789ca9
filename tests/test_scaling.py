"""The schedules-and-scaling tools: the fitter recovers a known law, the ledger's closed form, and the runner's
reuse (branches from one constant run) and resumability, on a debug-size model."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from smolrecipe.scaling.fit import fit_envelope, fit_law
from smolrecipe.scaling.ledger import reuse_ratio

TRUE = dict(E=1.8, A=400.0, alpha=0.34, B=410.0, beta=0.28)  # Chinchilla-like exponents


def law(n, d):
    return TRUE["E"] + TRUE["A"] / n ** TRUE["alpha"] + TRUE["B"] / d ** TRUE["beta"]


def test_the_fitter_recovers_a_known_law_and_predicts_a_held_out_larger_size():
    rng = np.random.default_rng(0)
    sizes = [2e6, 5e6, 1.2e7, 3e7, 8e7]
    budgets = [2e8, 5e8, 1.2e9, 3e9]
    pts = [(n, d, law(n, d) * np.exp(rng.normal(0, 0.003))) for n in sizes for d in budgets]  # 0.3% noise
    fit = fit_law(pts)
    assert fit.alpha == pytest.approx(TRUE["alpha"], rel=0.15) and fit.beta == pytest.approx(TRUE["beta"], rel=0.15)
    assert fit.E == pytest.approx(TRUE["E"], rel=0.1)
    small = fit_law([p for p in pts if p[0] < 8e7])  # without the largest size ...
    for d in budgets:  # ... its losses are predicted within 2%
        assert float(small.predict(8e7, d)) == pytest.approx(law(8e7, d), rel=0.02)
    with pytest.raises(ValueError, match="2\\+ model sizes"):
        fit_law([(1e6, d, 3.0) for d in (1e8, 2e8, 3e8, 4e8, 5e8)])


def test_the_envelope_is_the_running_minimum_and_its_power_law():
    c = np.geomspace(1e12, 1e15, 12)
    pts = [(x, 50 * x ** -0.1) for x in c] + [(x * 1.5, 50 * x ** -0.1 + 0.3) for x in c]  # worse runs above it
    env = fit_envelope(pts)
    assert env.b == pytest.approx(0.1, rel=1e-6) and env.a == pytest.approx(50, rel=1e-6)
    assert env.loss == sorted(env.loss, reverse=True)


def test_reuse_ratio_is_the_papers_closed_form():
    assert reuse_ratio([1, 2, 3], 0.2) == pytest.approx(((1 - 0.2) * 3 + 0.2 * 6) / 6) == pytest.approx(0.6)
    assert reuse_ratio([5], 0.2) == pytest.approx(1.0)  # one budget: nothing to reuse


def test_the_plan_branches_every_cooldown_from_a_stop_of_its_constant_run():
    from smolrecipe.scaling.experiments import plan

    runs = plan(600, (0, 1))
    by = {r.name: r for r in runs}
    order = [r.name for r in runs]
    for r in runs:
        if r.parent:
            parent = by[r.parent]
            assert r.branch in (*parent.stops, parent.end) and order.index(r.parent) < order.index(r.name), r.name
            assert r.end == r.branch + r.decay_steps
    assert by["M-s0-1sqrt20"].branch == 480 and by["M-s0-1sqrt05"].decay_steps == 30
    assert [by[f"S-s0-1sqrt20-B{k}"].end for k in (1, 2, 3)] == [200, 400, 600]


@pytest.fixture
def micro(scratch_repo, monkeypatch):
    """Debug-size models, every validation folder as random-but-learnable tokens, the base config made small."""
    from smolrecipe.config import load_nanotron_yaml
    from smolrecipe.scaling import experiments

    monkeypatch.setattr(experiments, "SIZES", {"M": (1, 32, 64, 2, 1)})
    rng = np.random.default_rng(0)
    data = scratch_repo / "outputs" / "data" / "tiny" / "tokenized"
    for k, name in enumerate(experiments.VALIDATION_FOLDERS):
        d = data / name
        d.mkdir(parents=True)
        toks = np.resize(rng.integers(1, 200, size=13 + k), 40 * 400).astype("<u2")
        toks.tofile(d / "000_00000.ds")
        (d / "000_00000.ds.metadata").write_text(f"outputs/tokenizers/tiny|2\n{len(toks)}")
    base = load_nanotron_yaml(Path(__file__).resolve().parents[1] / "recipes" / "schedules" / "base.yaml")
    base.tokens.sequence_length, base.tokens.micro_batch_size = 32, 2
    for st in base.data_stages:
        st.sequence_length = 32
    base.model.model_config.max_position_embeddings = 64
    return base


def test_the_runner_branches_measures_and_a_rerun_skips_everything(micro, scratch_repo):
    from smolrecipe.engine.options import EngineOptions
    from smolrecipe.paths import outputs_dir
    from smolrecipe.scaling.experiments import Run, _constant, _cooldown
    from smolrecipe.scaling.runner import run_all

    const = _constant("M", 0, 30, 30, [24], averages=True)
    runs = [const, _cooldown(const, "M-s0-1sqrt20", 24, 6, fraction=0.2),
            _cooldown(const, "M-s0-anneal+math-edu", 24, 6, mixture="+math-edu", group="anneal")]
    assert isinstance(runs[1], Run)

    def opts(run, max_steps):
        avg = dict(swa_interval=5, swa_window=10, ema_decay=0.9) if run.averages else {}
        return EngineOptions(max_steps=max_steps, precision="fp32", threads=1, progress=False, tensorboard=False, **avg)

    out = outputs_dir() / "scaling"
    said: list[str] = []
    results = run_all(runs, micro, "outputs/data/tiny/tokenized", out, opts, log=said.append)
    c = results["M-s0-constant"]
    assert set(c["val"]) == {"24", "30"} and {"swa", "ema"} <= set(c["averages"])
    cool = results["M-s0-1sqrt20"]
    assert cool["steps_trained"] == 6 and cool["flops"] == pytest.approx(c["flops"] / 30 * 6)
    meta = json.loads((out / "checkpoints" / "M-s0-1sqrt20" / "30" / "metadata.json").read_text())
    assert meta["lineage"][-1]["checkpoint"].endswith("M-s0-constant/24")  # branched from the stop, not retrained
    anneal = json.loads((out / "checkpoints" / "M-s0-anneal+math-edu" / "30" / "metadata.json").read_text())
    assert [s["name"] for s in anneal["data_stages"]] == ["stable-base", "anneal-+math-edu"]
    assert cool["val"]["30"]["mean"] < c["val"]["24"]["mean"]  # the cooldown improves on its branch point
    files = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    said.clear()
    again = run_all(runs, micro, "outputs/data/tiny/tokenized", out, opts, log=said.append)
    assert again == json.loads(json.dumps(results)) and all("finished earlier" in m and "skipped" in m for m in said)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == files  # nothing rewritten

"""The local engine on a debug-size model (2 layers, hidden 32) and a few steps: exact resume, Ctrl-C and SIGKILL,
stage transitions, new runs from weights, cooldown LR, averages computed by hand, damaged / missing / foreign
checkpoints, planted spikes and NaNs caught by the real SpikeGuard, and the speed work (fused loss, compile).
Data order against nanotron is in test_data_order.py."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from smolrecipe.config import load_nanotron_yaml, loads_nanotron_yaml
from smolrecipe.engine import checkpoint as ck
from smolrecipe.engine.options import EngineOptions
from smolrecipe.engine.trainer import train
from smolrecipe.schedule import Schedule, lr_at, lr_for_iteration

FOLDERS = ["web-edu", "web", "code", "math", "code-edu", "math-edu", "textbooks", "long"]
SEQ = 32


def write_folder(folder: Path, files: list[np.ndarray]) -> None:
    """A datatrove DocumentTokenizer-format folder (REFERENCE.md section 7), one document per file."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, toks in enumerate(files):
        name = folder / f"{i:03d}_00000.ds"
        toks.astype("<u2").tofile(name)
        np.asarray([len(toks)], dtype="<u8").tofile(f"{name}.index")
        Path(f"{name}.metadata").write_text(f"outputs/tokenizers/tiny|2\n{len(toks)}")  # the tiny configs' tokenizer


def learnable_tokens(n: int, seed: int, vocab: int = 64) -> np.ndarray:
    """A repetitive token stream a 2-layer model learns in a few steps (the loss must fall)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(1, vocab, size=17)
    return np.resize(base, n) + (rng.random(n) < 0.1) * rng.integers(0, 3, size=n)


@pytest.fixture
def repo(scratch_repo):
    data = scratch_repo / "outputs" / "data" / "tiny" / "tokenized"
    for k, name in enumerate(FOLDERS):
        write_folder(data / name, [learnable_tokens(6000, k), learnable_tokens(3001, 100 + k)])
    return scratch_repo


def debug(cfg, run_dir: Path, *, steps: dict | None = None, interval: int = 2):
    """Shrink a tiny-recipe stage config to the debug model; `steps` remaps global step numbers."""
    m = cfg.model.model_config
    m.hidden_size, m.intermediate_size, m.num_hidden_layers = 32, 64, 2
    m.num_attention_heads, m.num_key_value_heads = 4, 2
    m.max_position_embeddings = max(SEQ * 2, 64)
    cfg.tokens.sequence_length = SEQ * (2 if cfg.tokens.sequence_length > 256 else 1)
    cfg.tokens.micro_batch_size, cfg.tokens.batch_accumulation_per_replica = 2, 2
    for st in cfg.data_stages:
        if st.sequence_length:
            st.sequence_length = cfg.tokens.sequence_length
    s = cfg.schedule
    remap = steps or {}
    s.lr_warmup_steps = 2
    s.lr_decay_starting_step = remap.get("decay_start", 12)
    s.lr_decay_steps = remap.get("decay_steps", 4)
    cfg.tokens.train_steps = remap.get(cfg.tokens.train_steps, cfg.tokens.train_steps)
    for st in cfg.data_stages:
        st.start_training_step = remap.get(st.start_training_step, st.start_training_step)
    cfg.checkpoints.checkpoints_path = str(run_dir)
    cfg.checkpoints.checkpoint_interval = interval
    r = cfg.checkpoints.resume_checkpoint_path
    if r is not None:
        cfg.checkpoints.resume_checkpoint_path = str(run_dir / str(remap.get(int(Path(r).name), int(Path(r).name))))
    return cfg


def opts(tmp: Path, **kw) -> EngineOptions:
    base = dict(precision="fp32", threads=1, tensorboard=False, progress=False, runs_dir=tmp / "runs")
    base.update(kw)
    return EngineOptions(**base)


STAGE_STEPS = {218: 6, 219: 7, 291: 9, 292: 10, 360: 12, 361: 13, 400: 16, 380: 14, 381: 15, "decay_start": 12, "decay_steps": 4}


def stage_cfg(repo: Path, k: int, run_dir: Path, **kw):
    return debug(load_nanotron_yaml(repo / "pretraining" / "configs" / "tiny" / f"stage{k}.yaml"), run_dir, steps=STAGE_STEPS, **kw)


# ---------------------------------------------------------------- exact resume
def test_resume_equivalence(repo, tmp_path):
    full = train(stage_cfg(repo, 1, tmp_path / "full", interval=3), opts(tmp_path))
    assert full.last_step == 6 and len(full.losses) == 6
    assert full.losses[6] < full.losses[1]
    part1 = train(stage_cfg(repo, 1, tmp_path / "cut", interval=3), opts(tmp_path, max_steps=4))
    assert part1.last_step == 4 and (tmp_path / "cut" / "4").is_dir()
    part2 = train(stage_cfg(repo, 1, tmp_path / "cut", interval=3), opts(tmp_path))
    assert part2.first_step == 5
    resumed = {**part1.losses, **part2.losses}
    assert resumed == full.losses  # bit-identical losses
    a, _, _, _ = ck.load_checkpoint(tmp_path / "full" / "6")
    b, _, _, meta = ck.load_checkpoint(tmp_path / "cut" / "6")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert meta["consumed_train_samples"] == 6 * 4
    assert meta["lineage"][-1]["step"] == 4
    again = train(stage_cfg(repo, 1, tmp_path / "cut", interval=3), opts(tmp_path))  # a finished stage is not retrained
    assert again.losses == {} and again.last_checkpoint == tmp_path / "cut" / "6"


def test_ctrl_c_saves_a_checkpoint_and_the_rerun_continues_exactly(repo, tmp_path, monkeypatch):
    import os
    import signal

    from smolrecipe.engine import trainer as T

    handler_before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs in a background job
    full = train(stage_cfg(repo, 1, tmp_path / "full", interval=100), opts(tmp_path))
    real_loss, calls = T.causal_lm_loss, []

    def ctrl_c_during_step_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:  # the first of step 3's two micro batches
            os.kill(os.getpid(), signal.SIGINT)
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(T, "causal_lm_loss", ctrl_c_during_step_3)
    with pytest.raises(KeyboardInterrupt):
        train(stage_cfg(repo, 1, tmp_path / "cut", interval=100), opts(tmp_path))
    assert len(calls) == 6  # step 3 was finished, not cut short, and nothing ran after it
    assert sorted(p.name for p in (tmp_path / "cut").iterdir() if p.name.isdigit()) == ["3"]
    assert json.loads((tmp_path / "cut" / "3" / "metadata.json").read_text())["step"] == 3
    monkeypatch.setattr(T, "causal_lm_loss", real_loss)
    rest = train(stage_cfg(repo, 1, tmp_path / "cut", interval=100), opts(tmp_path))
    assert rest.first_step == 4 and rest.losses == {s: full.losses[s] for s in (4, 5, 6)}
    assert signal.getsignal(signal.SIGINT) is handler_before  # the handler is put back


# ---------------------------------------------------------------- stage transition
def test_stage_transition_uses_next_mixture_and_global_lr(repo, tmp_path):
    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path))
    cfg2 = stage_cfg(repo, 2, run)
    res = train(cfg2, opts(tmp_path))
    assert res.first_step == 7 and res.last_step == 9
    meta = ck.verify_checkpoint(run / "9")
    stages = {s["name"]: s for s in meta["data_stages"]}
    assert stages["stage1-stable"]["consumed_samples"] == 6 * 4
    assert stages["stage2-stable"]["consumed_samples"] == 3 * 4
    assert "outputs/data/tiny/tokenized/math" in stages["stage2-stable"]["per_folder"]
    # the debug schedule (warmup 2, decay from 12) is constant at the peak for iterations 7-9 of the GLOBAL step
    # count; a schedule restarted at the stage would still be warming up (0.5 and 1.0 x peak at its steps 1-2)
    lines = [json.loads(x) for x in (tmp_path / "runs" / "tiny-stage2" / "metrics.jsonl").read_text().splitlines()]
    peak = cfg2.schedule.learning_rate
    assert [(r["step"], r["lr"]) for r in lines if "lr" in r] == [(7, peak), (8, peak), (9, peak)]
    assert meta["lineage"][-1]["checkpoint"].endswith("/6")  # stage 2 started from stage 1's final weights


def test_load_lr_scheduler_false_starts_a_new_run_from_the_weights(repo, tmp_path):
    """nanotron: weights loaded, optimizer fresh, step 1, data from sample 0 (fresh metadata)."""
    from transformers import AutoModelForCausalLM

    from smolrecipe.engine.data import LaunchData
    from smolrecipe.errors import ConfigError

    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path))
    cfg = stage_cfg(repo, 1, tmp_path / "new")
    cfg.general.run = "new-from-weights"
    cfg.checkpoints.resume_checkpoint_path = str(run / "6")
    cfg.checkpoints.load_lr_scheduler = False
    cfg.checkpoints.load_optimizer = False
    res = train(cfg, opts(tmp_path, max_steps=2))
    assert res.first_step == 1 and res.last_step == 2
    # the first loss is the loaded model's loss on the stage's first batch, computed here with plain transformers
    model = AutoModelForCausalLM.from_pretrained(run / "6" / "model").eval()
    data = LaunchData(cfg, None, 0)
    losses = []
    with torch.no_grad():
        for _ in range(2):  # two micro batches of 2 samples: samples 0-3 of the stage
            x = data.next_samples(2)
            logits = model(input_ids=x[:, :-1]).logits
            losses.append(float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))))
    assert res.losses[1] == pytest.approx(sum(losses) / 2, rel=1e-5)
    state = torch.load(tmp_path / "new" / "2" / "trainer_state.pt", weights_only=True)
    assert {int(v["step"]) for v in state["optimizer"]["state"].values()} == {2}  # a fresh AdamW: 2 updates, not 8
    assert state["scheduler"]["last_step"] == 2
    assert ck.verify_checkpoint(tmp_path / "new" / "2")["data_stages"][-1]["consumed_samples"] == 2 * 4
    # a new run trains the config's LAST data stage from step 1 (nanotron): a stage-2 file that starts at step 7 cannot
    cfg2 = stage_cfg(repo, 2, tmp_path / "new2")
    cfg2.checkpoints.resume_checkpoint_path = str(run / "6")
    cfg2.checkpoints.load_lr_scheduler = False
    with pytest.raises(ConfigError, match="a new run starts at step 1"):
        train(cfg2, opts(tmp_path, max_steps=1))


# ---------------------------------------------------------------- cooldown branch
@pytest.mark.parametrize("shape", ["1-sqrt", "cosine"])
def test_cooldown_branch_lr_follows_the_new_decay_window(repo, tmp_path, shape):
    from smolrecipe.engine.cooldown import derive_cooldown, write_cooldown_yaml

    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path))  # constant LR after warmup (decay would start at 12)
    cfg, branch = derive_cooldown(run / "6", shape, steps=4)
    path = write_cooldown_yaml(cfg, branch, tmp_path / "cfgs")
    assert loads_nanotron_yaml(path.read_text()).schedule.lr_decay_starting_step == 6  # strict nanotron schema
    res = train(load_nanotron_yaml(path), opts(tmp_path, lineage=branch))
    assert (res.first_step, res.last_step) == (7, 10)
    lines = [json.loads(x) for x in (tmp_path / "runs" / cfg.general.run / "metrics.jsonl").read_text().splitlines()]
    peak = cfg.schedule.learning_rate
    formula = {
        "1-sqrt": lambda t: peak * (1 - ((t - 6) / 4) ** 0.5),
        "cosine": lambda t: peak * (1 + np.cos(np.pi * (t - 6) / 4)) / 2,
    }[shape]
    for r in lines:
        assert r["lr"] == pytest.approx(formula(r["step"] - 1), abs=1e-12)  # iteration i trains with f(i-1)
    meta = ck.verify_checkpoint(Path(cfg.checkpoints.checkpoints_path) / "10")
    assert meta["branch"]["branch_step"] == 6 and meta["branch"]["shape"] == shape


def test_cooldown_fraction_counts_the_whole_branched_run(repo, tmp_path):
    from smolrecipe.engine.cooldown import derive_cooldown

    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path, max_steps=4))
    cfg, branch = derive_cooldown(run / "4", "linear", fraction=0.2)
    assert branch["decay_steps"] == 1 and cfg.tokens.train_steps == 5
    assert lr_at(4, Schedule.from_args(cfg.schedule)) == cfg.schedule.learning_rate


# ---------------------------------------------------------------- averaging
def test_average_equals_the_mean_of_the_weights(repo, tmp_path):
    from safetensors.torch import load_file

    from smolrecipe.commands.average import main as average_main

    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path))
    out = tmp_path / "avg"
    assert average_main([str(run), "--last", "3", "--out", str(out)]) == 0
    got = load_file(str(out / "model.safetensors"))
    parts = [load_file(str(run / s / "model" / "model.safetensors")) for s in ("2", "4", "6")]
    for k, v in got.items():
        torch.testing.assert_close(v, sum(p[k] for p in parts) / 3, rtol=0, atol=1e-7)
    lineage = json.loads((out / "lineage.json").read_text())
    assert [Path(p).name for p in lineage["parents"]] == ["2", "4", "6"]
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(out)  # a loadable transformers folder


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def test_online_swa_and_ema_equal_the_averages_of_the_saved_snapshots_and_survive_a_resume(repo, tmp_path):
    """SWA every step over windows of 3, EMA 0.5, a checkpoint every step: SWA(3) = mean(w1, w2, w3),
    SWA(6) = mean(w4, w5, w6), EMA(6) = e with e1 = w1, e_k = 0.5 e_(k-1) + 0.5 w_k, all from the saved weights."""
    run = tmp_path / "ck"
    averaging = dict(swa_interval=1, swa_window=3, ema_decay=0.5)
    train(stage_cfg(repo, 1, run, interval=1), opts(tmp_path, max_steps=4, **averaging))  # interrupted after step 4 ...
    train(stage_cfg(repo, 1, run, interval=1), opts(tmp_path, **averaging))  # ... and resumed to the end (6)
    w = {k: _weights(run / str(k) / "model") for k in range(1, 7)}
    for end, steps in ((3, (1, 2, 3)), (6, (4, 5, 6))):
        swa = _weights(Path(f"{run}-swa") / str(end))
        for name, value in swa.items():
            torch.testing.assert_close(value, sum(w[k][name] for k in steps) / 3, rtol=0, atol=1e-6)
    ema = {n: t.clone() for n, t in w[1].items()}
    for k in range(2, 7):
        ema = {n: 0.5 * ema[n] + 0.5 * w[k][n] for n in ema}
    got = _weights(Path(f"{run}-ema") / "6")
    for name, value in got.items():
        torch.testing.assert_close(value, ema[name], rtol=0, atol=1e-6)
    # and the same numbers as a launch that never stopped
    straight = tmp_path / "straight"
    train(stage_cfg(repo, 1, straight, interval=1), opts(tmp_path, **averaging))
    for kind in ("swa", "ema"):
        a, b = _weights(Path(f"{run}-{kind}") / "6"), _weights(Path(f"{straight}-{kind}") / "6")
        assert all(torch.equal(a[n], b[n]) for n in a)


def test_averages_restart_empty_when_a_rewind_target_has_none(tmp_path):
    from smolrecipe.engine.averaging import OnlineAverages

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(2))

    m, avg = Model(), OnlineAverages(tmp_path / "run", "r", swa_interval=1, swa_window=4, ema_decay=0.5)
    avg.update(1, m)
    with torch.no_grad():
        m.w.mul_(3)
    avg.update(2, m)
    assert avg.ema.value["w"].tolist() == [2.0, 2.0] and avg.swa.count == 2
    avg.load(None, None)  # the rewind target (e.g. the launch's starting checkpoint) stored no averages
    avg.update(3, m)
    assert avg.ema.value["w"].tolist() == [3.0, 3.0] and avg.swa.count == 1  # nothing of the rewound steps is left


# ---------------------------------------------------------------- damaged, missing, foreign checkpoints
def test_damaged_checkpoints_are_reported_and_the_fallback_is_loud(repo, tmp_path):
    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path))  # checkpoints 2, 4, 6
    weights = run / "6" / "model" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ck.CheckpointError, match="corrupted"):
        ck.verify_checkpoint(run / "6")
    (run / "4" / "metadata.json").unlink()  # a half-written checkpoint (what a plain, non-atomic write leaves)
    with pytest.raises(ck.CheckpointError, match="half-written"):
        ck.verify_checkpoint(run / "4")
    said: list[str] = []
    assert ck.latest_step(run, log=said.append) == 2
    assert any("skipping checkpoint" in m and "does not match its recorded size/sha256" in m for m in said)
    path, meta = ck.resolve_resume(run / "6", log=said.append)
    assert path == run / "2" and meta["step"] == 2 and any("falling back" in m for m in said)
    # stage 2 starts at 7 from checkpoint 6; its fallback lies inside stage 1: an error that says to re-run stage 1 ...
    with pytest.raises(ck.CheckpointError, match="re-run the previous stage"):
        train(stage_cfg(repo, 2, run), opts(tmp_path))
    # ... which continues from its newest valid checkpoint and rewrites 4 and 6; then stage 2 runs
    again = train(stage_cfg(repo, 1, run), opts(tmp_path))
    assert again.first_step == 3 and ck.verify_checkpoint(run / "6")["step"] == 6
    assert train(stage_cfg(repo, 2, run), opts(tmp_path)).last_step == 9


def test_missing_and_foreign_resume_paths_are_errors_not_fallbacks(repo, tmp_path):
    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path))
    (run / "latest").write_text("2\n")  # a stale pointer must not win over the newest valid step
    assert ck.latest_step(run) == 6
    gone = stage_cfg(repo, 2, run)
    gone.checkpoints.resume_checkpoint_path = str(run / "5")  # never written
    with pytest.raises(ck.CheckpointError) as e:
        train(gone, opts(tmp_path))
    assert "does not exist" in e.value.render() and str(run / "5") in e.value.render() and "fix:" in e.value.render()
    foreign = stage_cfg(repo, 2, run)
    foreign.model.model_config.num_hidden_layers = 3
    with pytest.raises(ck.CheckpointError, match="model_config.num_hidden_layers is 2 there and 3 here"):
        train(foreign, opts(tmp_path))


def test_leftovers_of_a_killed_save_are_cleaned_on_the_next_launch(repo, tmp_path):
    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path, max_steps=2))
    stale = run / ".tmp-4-999999"  # a dead pid's half-written copy
    (stale / "model").mkdir(parents=True)
    said: list[str] = []
    train(stage_cfg(repo, 1, run), opts(tmp_path), log=said.append)
    assert not stale.exists() and any("half-written" in m for m in said)
    assert sorted(p.name for p in run.iterdir() if not p.name.isdigit()) == ["latest"]


# ---------------------------------------------------------------- SIGKILL at chosen moments
def _launch_in_subprocess(repo: Path, cfg_path: Path, tmp_path: Path, *, pause_at: str | None = None):
    """Train cfg_path with the real CLI in a child process; with pause_at, wait until it pauses there and SIGKILL it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), "SMOLRECIPE_ROOT": str(repo),
           "SMOLRECIPE_OUTPUTS": str(repo / "outputs")}
    flag = tmp_path / "paused"
    flag.unlink(missing_ok=True)
    if pause_at:
        env.update(SMOLRECIPE_PAUSE_AT=pause_at, SMOLRECIPE_PAUSE_FILE=str(flag))
    argv = [sys.executable, "-m", "smolrecipe", "pretrain", "--config", str(cfg_path), "--engine", "local",
            "--precision", "fp32", "--threads", "1", "--no-tensorboard", "--no-progress", "--runs-dir", str(tmp_path / "runs")]
    proc = subprocess.Popen(argv, env=env, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not pause_at:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
        return out
    deadline = time.time() + 300
    while not flag.exists():
        assert proc.poll() is None, proc.communicate()[0]
        assert time.time() < deadline, "the run never reached the pause point"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return None


def test_sigkill_inside_a_checkpoint_write_and_mid_step_then_rerun_gives_identical_results(repo, tmp_path):
    from smolrecipe.config.loader import dump_nanotron_yaml
    from smolrecipe.engine.metrics import read_metrics

    paths = {}
    for name in ("straight", "killed"):
        cfg = stage_cfg(repo, 1, repo / "outputs" / "checkpoints" / name)
        cfg.general.run = name
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(dump_nanotron_yaml(cfg))
    _launch_in_subprocess(repo, paths["straight"], tmp_path)
    run = repo / "outputs" / "checkpoints" / "killed"
    _launch_in_subprocess(repo, paths["killed"], tmp_path, pause_at="checkpoint:4")  # model written, metadata not yet
    # atomic publish: no half-written <run>/4 is visible, only the temp copy; every visible step verifies
    assert sorted(p.name for p in run.iterdir() if p.name.isdigit()) == ["2"]
    assert any(p.name.startswith(".tmp-4-") for p in run.iterdir())
    ck.verify_checkpoint(run / "2")
    _launch_in_subprocess(repo, paths["killed"], tmp_path, pause_at="step:5")  # between step 5's backward and its update
    assert sorted(p.name for p in run.iterdir() if p.name.isdigit()) == ["2", "4"]
    out = _launch_in_subprocess(repo, paths["killed"], tmp_path)  # no manual clean-up
    assert "continuing run killed from its checkpoint" in out
    assert not any(p.name.startswith((".tmp-", ".old-")) for p in run.iterdir())
    a, _ = read_metrics(tmp_path / "runs" / "straight")
    b, _ = read_metrics(tmp_path / "runs" / "killed")
    assert sorted(a) == sorted(b) == list(range(1, 7))
    assert [a[s]["loss"] for s in sorted(a)] == [b[s]["loss"] for s in sorted(a)]  # identical per-step losses
    straight = repo / "outputs" / "checkpoints" / "straight" / "6" / "model" / "model.safetensors"
    assert (run / "6" / "model" / "model.safetensors").read_bytes() == straight.read_bytes()  # byte-identical weights


def test_publishing_a_folder_survives_a_kill_between_its_two_renames(tmp_path):
    import os
    import subprocess
    import sys
    import time

    from smolrecipe.publish import recover

    target = tmp_path / "tok"
    target.mkdir()
    (target / "v").write_text("old")
    code = ("from smolrecipe.publish import publishing\n"
            f"with publishing({str(target)!r}) as tmp:\n    (tmp / 'v').write_text('new')\n")
    flag = tmp_path / "paused"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
           "SMOLRECIPE_PAUSE_AT": "publish-swap:tok", "SMOLRECIPE_PAUSE_FILE": str(flag)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    while not flag.exists():
        assert proc.poll() is None
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert not target.exists()  # the moment between moving the old copy aside and renaming the new one in
    done = recover(target)
    assert (target / "v").read_text() == "old" and "restored" in done[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paused", "tok"]  # the half-written new copy is gone too


# ---------------------------------------------------------------- spikes and NaNs, caught by the real SpikeGuard
SENTINEL_NAN = 63  # a token the planted-NaN batches carry: the loss wrapper below turns it into a NaN loss


def _spike_repo(scratch: Path, spike_samples: range, nan_samples: range) -> None:
    """One folder for a 44-step run (gbs 4, windows of 33): a stream learnt within 15 steps, random tokens in the
    spike windows, and the NaN sentinel in the NaN windows."""
    rng = np.random.default_rng(0)
    windows = np.resize([5, 9, 17], 33 * 200).reshape(200, 33).copy()  # learnt in a few steps: a flat, low loss
    for k in spike_samples:
        windows[k] = rng.integers(1, 4000, size=33)
    for k in nan_samples:
        windows[k, 5] = SENTINEL_NAN
    write_folder(scratch / "outputs" / "data" / "spiky", [windows.reshape(-1)])


def _spike_cfg(repo: Path, run: Path):
    cfg = debug(load_nanotron_yaml(repo / "pretraining" / "configs" / "tiny" / "stage1.yaml"), run, interval=2)
    cfg.tokens.train_steps, cfg.schedule.lr_decay_starting_step, cfg.schedule.lr_decay_steps = 44, 40, 4
    # the stream is learnt within 15 steps; the guard's running mean then forgets the descent before the spike
    cfg.schedule.learning_rate = 0.03
    cfg.data_stages[0].data.dataset.dataset_folder = ["outputs/data/spiky"]
    cfg.data_stages[0].data.dataset.dataset_weights = [1.0]
    return cfg


@pytest.fixture
def nan_on_sentinel(monkeypatch):
    from smolrecipe.engine import trainer as T

    real = T.causal_lm_loss

    def loss(model, tokens, bf16):
        value = real(model, tokens, bf16)
        return value * float("nan") if bool((tokens == SENTINEL_NAN).any()) else value

    monkeypatch.setattr(T, "causal_lm_loss", loss)


def test_a_planted_spike_and_a_planted_nan_are_rewound_and_skipped(scratch_repo, tmp_path, nan_on_sentinel):
    from smolrecipe.engine.metrics import read_metrics

    # steps 1-38 read samples 0-151; step 40 reads 156-159 (random tokens: a spike). After the rewind to 38, steps
    # 39-42 read 160-175; step 42 reads 172-175 (the NaN sentinel). After the rewind to 40, steps 41-44 read 176-191.
    _spike_repo(scratch_repo, range(156, 160), range(172, 176))
    run = tmp_path / "ck"
    res = train(_spike_cfg(scratch_repo, run), opts(tmp_path, on_spike="rewind"))
    kinds = [(e["step"], e["event"]) for e in res.events]
    assert (40, "spike") in kinds and (42, "non-finite") in kinds
    assert [e["to"] for e in res.events if e["event"] == "rewind"] == [38, 40]
    assert res.last_step == 44 and all(np.isfinite(v) for v in res.losses.values())
    assert sorted(int(p.name) for p in run.iterdir() if p.name.isdigit()) == list(range(2, 45, 2))
    meta = ck.verify_checkpoint(run / "44")
    assert meta["consumed_train_samples"] == 44 * 4 + 2 * 4 + 2 * 4  # 44 steps trained + two skipped pairs of batches
    _, events = read_metrics(tmp_path / "runs" / "tiny-stage1")
    assert {e["event"] for e in events} >= {"spike", "non-finite", "rewind"}  # logged


def test_a_nan_step_without_rewind_drops_the_update_but_still_saves(scratch_repo, tmp_path, nan_on_sentinel):
    _spike_repo(scratch_repo, range(0), range(12, 16))  # step 4 reads samples 12-15
    run = tmp_path / "ck"
    cfg = _spike_cfg(scratch_repo, run)
    cfg.checkpoints.checkpoint_interval = 1
    res = train(cfg, opts(tmp_path, max_steps=6))
    assert 4 not in res.losses and res.last_step == 6
    w3, w4, w5 = (_weights(run / str(k) / "model") for k in (3, 4, 5))
    assert all(torch.equal(w3[n], w4[n]) for n in w3)  # the NaN update was not applied ...
    assert not all(torch.equal(w4[n], w5[n]) for n in w4)  # ... the next one was
    assert ck.verify_checkpoint(run / "4")["data_stages"][-1]["consumed_samples"] == 16  # the step's batch is consumed


# ---------------------------------------------------------------- nanotron launch path
def test_dry_run_nanotron_command_for_the_1_7B_stage_3(capsys, scratch_repo):
    from smolrecipe.cli import main

    assert main(["pretrain", "--recipe", "smollm2-1.7B", "--stage", "3", "--engine", "nanotron", "--dry-run"]) == 0
    out = capsys.readouterr().out
    command = out.split("through Slurm):\n")[1].splitlines()[0]  # no GPU here: 256 GPUs are 32 nodes of 8
    assert command.startswith("sbatch --nodes=32 ") and command.endswith(
        f"pretraining/launch.slurm {scratch_repo / 'outputs' / 'nanotron' / 'smollm2-1.7B-stage3.yaml'}")
    yaml_text = out.split("# command")[0].split("):\n", 1)[1]
    cfg = loads_nanotron_yaml(yaml_text)  # the printed config is strict nanotron YAML
    assert all("s3" in f for st in cfg.data_stages for f in st.data.dataset.folders)
    assert all(st.data.dataset.use_old_brrr_dataloader for st in cfg.data_stages)  # stage 4 repeats its math data
    assert cfg.checkpoints.resume_checkpoint_path.endswith("outputs/checkpoints/smollm2-1.7B/3814697")
    assert "runs this launch 2 step(s) ahead" in yaml_text  # stage 3 is the second resume of the chain
    assert cfg.schedule.lr_decay_starting_step == 4_716_000 + 2 and cfg.schedule.lr_warmup_steps == 2000 + 2
    assert not (scratch_repo / "outputs" / "nanotron").exists()  # a dry run writes nothing


# ---------------------------------------------------------------- full tiny chain + context extension
def test_four_stages_then_long_context(repo, tmp_path):
    run = tmp_path / "ck"
    ends = [train(stage_cfg(repo, k, run), opts(tmp_path)).last_step for k in (1, 2, 3, 4)]
    assert ends == [6, 9, 12, 16]
    lc = debug(load_nanotron_yaml(repo / "pretraining" / "configs" / "tiny" / "long-context.yaml"), tmp_path / "lc", steps=STAGE_STEPS)
    lc.checkpoints.resume_checkpoint_path = str(run / "14")
    res = train(lc, opts(tmp_path))
    assert (res.first_step, res.last_step) == (15, 16)
    meta = ck.verify_checkpoint(tmp_path / "lc" / "16")
    stages = {s["name"]: s for s in meta["data_stages"]}
    assert stages["long-context"]["sequence_length"] == 2 * SEQ and stages["long-context"]["consumed_samples"] == 2 * 4
    assert stages["stage4-decay"]["consumed_samples"] == 2 * 4  # steps 13-14 of stage 4 before the branch
    from transformers import AutoConfig

    assert AutoConfig.from_pretrained(tmp_path / "lc" / "16" / "model").rope_parameters["rope_theta"] == 4.0e4
    assert (run / "16").is_dir()  # the pretraining run's own end is untouched


def test_fused_micro_batches_give_the_accumulated_gradient(repo, tmp_path):
    fused = train(stage_cfg(repo, 1, tmp_path / "a"), opts(tmp_path, max_steps=3, fuse_tokens=8192))
    accum = train(stage_cfg(repo, 1, tmp_path / "b"), opts(tmp_path, max_steps=3, fuse_tokens=0))
    for s in (1, 2, 3):
        assert fused.losses[s] == pytest.approx(accum.losses[s], rel=1e-5)


def test_engine_auto_is_local_without_a_gpu_and_nanotron_cannot_start_here(repo, capsys):
    from smolrecipe.cli import main
    from smolrecipe.engine.launch import pick_engine

    assert pick_engine("auto", log=lambda m: None) == "local"  # no nvidia-smi on this machine kind
    assert main(["pretrain", "--recipe", "tiny", "--stage", "2", "--engine", "nanotron"]) == 2
    err = capsys.readouterr().err
    assert "this node has 0 NVIDIA GPU(s)" in err and "sbatch --nodes=1 --gres=gpu:1" in err and "make setup-gpu" in err
    assert not (repo / "outputs" / "nanotron").exists()  # refused before anything was written


# ---------------------------------------------------------------- speed work: fused loss, fp32 attention, compiled layers
def test_fused_linear_cross_entropy_matches_the_reference():
    from smolrecipe.engine.loss import linear_cross_entropy

    torch.manual_seed(0)
    hidden = torch.randn(300, 16, dtype=torch.float64, requires_grad=True)  # 300 rows: chunks of 128 + a remainder
    weight = torch.randn(50, 16, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 50, (300,))
    ref = torch.nn.functional.cross_entropy(hidden @ weight.T, labels)
    gh, gw = torch.autograd.grad(ref * 0.5, (hidden, weight))
    got = linear_cross_entropy(hidden, weight, labels, torch.float64, chunk=128)
    fh, fw = torch.autograd.grad(got * 0.5, (hidden, weight))  # backward scales by the upstream gradient
    assert torch.allclose(got, ref, rtol=1e-12) and torch.allclose(fh, gh, rtol=1e-10) and torch.allclose(fw, gw, rtol=1e-10)
    # bf16: the same bf16 logits as autocast's lm_head, softmax in fp32: equal up to bf16 rounding of the gradients
    h32, w32 = hidden.detach().float().requires_grad_(), weight.detach().float().requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = torch.nn.functional.linear(h32, w32)
    ref = torch.nn.functional.cross_entropy(logits.float(), labels)
    gh, gw = torch.autograd.grad(ref, (h32, w32))
    got = linear_cross_entropy(h32, w32, labels, torch.bfloat16, chunk=128)
    fh, fw = torch.autograd.grad(got, (h32, w32))
    assert got.item() == pytest.approx(ref.item(), rel=1e-6)
    for mine, theirs in ((fh, gh), (fw, gw)):
        assert (mine - theirs).norm() < 1e-2 * theirs.norm()


def test_fp32_attention_changes_only_the_precision():
    from transformers import LlamaConfig, LlamaForCausalLM

    from smolrecipe.engine.model import use_fp32_attention

    c = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
                    num_key_value_heads=2)
    c._attn_implementation = "sdpa"
    torch.manual_seed(0)
    model = LlamaForCausalLM(c)
    x = torch.randint(0, 64, (2, 16))
    ref = model(x).logits  # fp32, stock SDPA
    assert use_fp32_attention(model) and model.config._attn_implementation == "sdpa_fp32"
    assert torch.allclose(model(x).logits, ref, atol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.allclose(model(x).logits.float(), ref, atol=0.1)


def test_compiled_layers_train_like_eager(repo, tmp_path):
    from smolrecipe.engine.compile import has_cxx_compiler
    from smolrecipe.errors import RecipeError

    if not has_cxx_compiler():  # the requirement, stated: without a compiler `--compile on` must stop with the fix
        with pytest.raises(RecipeError, match="needs a C.. compiler"):
            train(stage_cfg(repo, 1, tmp_path / "b"), opts(tmp_path, max_steps=3, compile="on"))
        return
    eager = train(stage_cfg(repo, 1, tmp_path / "a"), opts(tmp_path, max_steps=3, compile="off"))
    compiled = train(stage_cfg(repo, 1, tmp_path / "b"), opts(tmp_path, max_steps=3, compile="on"))
    for s in (1, 2, 3):
        assert compiled.losses[s] == pytest.approx(eager.losses[s], rel=1e-5)
    a, _, _, _ = ck.load_checkpoint(tmp_path / "a" / "3")
    b, _, _, _ = ck.load_checkpoint(tmp_path / "b" / "3")
    assert a.keys() == b.keys()  # the compiled modules keep their parameter names


def test_compile_auto_follows_this_cpus_measurement(scratch_repo, monkeypatch):
    """auto compiles only when the per-CPU record says (eager - compiled) x steps repays the compile."""
    from types import SimpleNamespace

    from smolrecipe.engine import compile as C

    fake = SimpleNamespace(model=SimpleNamespace(layers=[]))
    said: list[str] = []
    assert not C.compile_layers(fake, "auto", 10**6, key="k", log=said.append)  # never measured: eager, and says so
    assert "no measurement for this CPU" in said[-1]
    C.write_record("k", eager_s=0.5, compiled_s=0.4, compile_s=10.0)  # 0.1 s saved per step, 10 s to compile
    assert C.compile_layers(fake, "auto", 101, key="k", log=said.append) and "101 steps repay it" in said[-1]
    assert not C.compile_layers(fake, "auto", 99, key="k", log=said.append)
    C.write_record("k", eager_s=0.879, compiled_s=0.915, compile_s=42.9)  # the CPU without AVX512: slower compiled
    assert not C.compile_layers(fake, "auto", 10**7, key="k", log=said.append)
    assert not C.compile_layers(fake, "off", 10**7, key="k") and not C.compile_layers(fake, False, 10**7)
    monkeypatch.setattr(C, "has_cxx_compiler", lambda: False)  # without a C++ compiler: on stops with the fix
    from smolrecipe.errors import RecipeError

    with pytest.raises(RecipeError) as e:
        C.compile_layers(fake, "on", 1)
    assert "--compile off" in e.value.render()



def test_smolrecipe_outputs_moves_data_checkpoints_and_runs_together(scratch_repo, tmp_path, monkeypatch):
    """The config names outputs/data/... and outputs/checkpoints/...: both follow SMOLRECIPE_OUTPUTS."""
    elsewhere = tmp_path / "shared-fs" / "outs"
    monkeypatch.setenv("SMOLRECIPE_OUTPUTS", str(elsewhere))
    for k, name in enumerate(FOLDERS):
        write_folder(elsewhere / "data" / "tiny" / "tokenized" / name, [learnable_tokens(6000, k)])
    cfg = debug(load_nanotron_yaml(scratch_repo / "pretraining" / "configs" / "tiny" / "stage1.yaml"), Path("unused"))
    cfg.checkpoints.checkpoints_path = "outputs/checkpoints/tiny"  # as the recipe writes it
    res = train(cfg, EngineOptions(precision="fp32", threads=1, tensorboard=False, progress=False, max_steps=2))
    assert res.last_checkpoint == elsewhere / "checkpoints" / "tiny" / "2" and res.run_dir == elsewhere / "runs" / "tiny-stage1"
    assert not (scratch_repo / "outputs").exists()


def test_a_launch_trains_even_if_something_turned_gradients_off(repo, tmp_path):
    """lighteval does torch.set_grad_enabled(False) when imported; an evaluation before a launch in one process
    (the demo, the scaling runner) must not leave the next launch unable to train."""
    torch.set_grad_enabled(False)
    try:
        res = train(stage_cfg(repo, 1, tmp_path / "ck"), opts(tmp_path, max_steps=2))
    finally:
        torch.set_grad_enabled(True)
    assert res.last_step == 2 and res.losses[2] < res.losses[1] + 1.0


def test_a_metrics_line_cut_by_a_kill_is_dropped_and_the_next_launch_appends_cleanly(tmp_path):
    from smolrecipe.engine.metrics import MetricsWriter, read_metrics

    whole = '{"step": 1, "loss": 5.0}\n{"step": 2, "loss": 4.5}\n'
    (tmp_path / "metrics.jsonl").write_text(whole + '{"step": 3, "lo')  # killed in the middle of step 3's line
    steps, _ = read_metrics(tmp_path)  # reading does not crash: the two whole lines
    assert {s: r["loss"] for s, r in steps.items()} == {1: 5.0, 2: 4.5}
    w = MetricsWriter(tmp_path, tensorboard=False)  # the rerun: the torn line is cut, step 3 written again
    w.log(3, {"loss": 4.25})
    w.close()
    assert (tmp_path / "metrics.jsonl").read_text() == whole + '{"step": 3, "loss": 4.25}\n'

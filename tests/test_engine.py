"""The local engine against the issue's done-when list, on a debug-size model (2 layers, hidden 32) and a
few steps: data order, exact resume, stage transition, cooldown LR, averaging, corrupted checkpoints,
spike rewind, and the nanotron dry-run command."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from smolrecipe.config import load_nanotron_yaml, loads_nanotron_yaml
from smolrecipe.engine import checkpoint as ck
from smolrecipe.engine.data import StageData, StageReader, carried_offsets
from smolrecipe.engine.trainer import EngineOptions, train
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
        Path(f"{name}.metadata").write_text(f"test|2\n{len(toks)}")


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


# ---------------------------------------------------------------- data order
def reference_order(folders: list[list[np.ndarray]], weights, n: int, seq: int, start: int = 0, offsets=None):
    """nanotron's semantics written out plainly: per-file windows of seq+1, argmax blending, sequential with wrap."""
    windows = [[f[j * (seq + 1):(j + 1) * (seq + 1)] for f in files for j in range(len(f) // (seq + 1))] for files in folders]
    w = np.asarray(weights) / sum(weights)
    counts = [0] * len(folders)
    out = []
    for i in range(start + n):
        errors = [w[d] * max(i, 1) - counts[d] for d in range(len(folders))]
        d = int(np.argmax(errors))
        k = counts[d] + (offsets[d] if offsets else 0)
        if i >= start:
            out.append(windows[d][k % len(windows[d])])
        counts[d] += 1
    return np.stack(out)


def test_data_order_matches_nanotron_semantics(tmp_path):
    files = {
        "a": [np.arange(0, 200) % 60000, np.arange(1000, 1075)],   # two files, remainders dropped per file
        "b": [np.arange(5000, 5170)],
        "c": [np.arange(9000, 9099)],                                # 3 windows: wraps around (epochs)
    }
    for name, fs in files.items():
        write_folder(tmp_path / name, fs)
    weights = [0.5, 0.3, 0.2]
    stage = StageData("s", 1, ["a", "b", "c"], weights, 24)
    reader = StageReader(stage, {}, 0, tmp_path)
    got = np.concatenate([reader.next_samples(4).numpy() for _ in range(10)])
    ref = reference_order([files[k] for k in "abc"], weights, 40, 24)
    np.testing.assert_array_equal(got, ref)
    # resume by consumed samples: a fresh reader at 17 continues identically
    resumed = StageReader(stage, {}, 17, tmp_path).next_samples(23).numpy()
    np.testing.assert_array_equal(resumed, ref[17:])
    # the next stage starts each folder after the windows earlier stages took (tokens // seq, as nanotron)
    meta = [{"name": "s", "per_folder": reader.per_folder()}]
    offsets = carried_offsets(meta, "next")
    nxt = StageReader(StageData("next", 11, ["a", "b", "c"], [0.2, 0.2, 0.6], 24), offsets, 0, tmp_path).next_samples(12).numpy()
    counts = [reader.per_folder()[k]["samples"] for k in "abc"]
    np.testing.assert_array_equal(nxt, reference_order([files[k] for k in "abc"], [0.2, 0.2, 0.6], 12, 24, offsets=counts))


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
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


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
    # the LR of every stage-2 iteration is the GLOBAL schedule's, not a restarted one
    lines = [json.loads(x) for x in (tmp_path / "runs" / "tiny-stage2" / "metrics.jsonl").read_text().splitlines()]
    sched = Schedule.from_args(cfg2.schedule)
    assert [(r["step"], r["lr"]) for r in lines if "lr" in r] == [(i, lr_for_iteration(i, sched)) for i in (7, 8, 9)]
    # stage 2 started from stage 1's final weights (its lineage says so)
    assert meta["lineage"][-1]["checkpoint"].endswith("/6")


def test_load_lr_scheduler_false_starts_a_new_run_from_the_weights(repo, tmp_path):
    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path))
    cfg = stage_cfg(repo, 2, tmp_path / "new")
    cfg.checkpoints.resume_checkpoint_path = str(run / "6")
    cfg.checkpoints.load_lr_scheduler = False
    cfg.checkpoints.load_optimizer = False
    res = train(cfg, opts(tmp_path, max_steps=2))
    assert res.first_step == 1  # nanotron: fresh metadata, LR from step 0
    state = torch.load(tmp_path / "new" / "2" / "trainer_state.pt", weights_only=True)
    assert state["scheduler"]["last_step"] == 2


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


def test_online_swa_and_ema(repo, tmp_path):
    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path, swa_interval=1, swa_window=3, ema_decay=0.5))
    assert (Path(f"{run}-swa") / "3").is_dir() and (Path(f"{run}-swa") / "6").is_dir()
    assert (Path(f"{run}-ema") / "6" / "lineage.json").exists()


# ---------------------------------------------------------------- corrupted checkpoints
def test_corrupted_or_half_written_checkpoint_falls_back(repo, tmp_path):
    run = tmp_path / "ck"
    train(stage_cfg(repo, 1, run), opts(tmp_path))  # checkpoints 2, 4, 6
    weights = run / "6" / "model" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ck.CheckpointError, match="corrupted"):
        ck.verify_checkpoint(run / "6")
    (run / "4" / "metadata.json").unlink()  # a half-written checkpoint
    with pytest.raises(ck.CheckpointError, match="half-written"):
        ck.verify_checkpoint(run / "4")
    messages = []
    path, meta = ck.resolve_resume(run / "6", log=messages.append)
    assert path == run / "2" and meta["step"] == 2
    assert any("using the previous valid checkpoint" in m for m in messages)
    assert ck.latest_step(run) == 2
    # stage 2 resumes through the fallback and still trains to its end
    res = train(stage_cfg(repo, 2, run), opts(tmp_path))
    assert res.first_step == 3 and res.last_step == 9


# ---------------------------------------------------------------- spikes
def test_spike_rewinds_and_skips_the_batches(repo, tmp_path, monkeypatch):
    from smolrecipe.engine import spikes

    fired = []

    def check(self, step, loss, *, past_warmup):
        if step == 5 and not fired:
            fired.append(step)
            return "spike"
        return "ok"

    monkeypatch.setattr(spikes.SpikeGuard, "check", check)
    run = tmp_path / "ck"
    res = train(stage_cfg(repo, 1, run), opts(tmp_path, on_spike="rewind"))
    assert res.last_step == 6
    assert any(e["event"] == "rewind" and e["to"] == 4 for e in res.events)
    meta = ck.verify_checkpoint(run / "6")
    assert meta["consumed_train_samples"] == 7 * 4  # 6 steps trained + the skipped batch of the spike


# ---------------------------------------------------------------- nanotron launch path
def test_dry_run_nanotron_command_for_the_1_7B_stage_3(capsys, scratch_repo):
    from smolrecipe.cli import main

    assert main(["pretrain", "--recipe", "smollm2-1.7B", "--stage", "3", "--engine", "nanotron", "--dry-run"]) == 0
    out = capsys.readouterr().out
    command = [line for line in out.splitlines() if "torchrun" in line and "run_train.py" in line][0]
    assert command.startswith("CUDA_DEVICE_MAX_CONNECTIONS=1 ")
    assert "--nproc_per_node=256" in command
    assert command.split()[-2:] == ["--config-file", str(scratch_repo / "outputs" / "nanotron" / "smollm2-1.7B-stage3.yaml")]
    assert ".venv-gpu/src/nanotron/run_train.py" in command
    assert "sbatch --nodes=32 pretraining/launch.slurm" in out
    yaml_text = out.split("# command:")[0].split("):\n", 1)[1]
    cfg = loads_nanotron_yaml(yaml_text)  # the printed config is strict nanotron YAML
    assert all("s3" in f for st in cfg.data_stages for f in st.data.dataset.folders)
    assert cfg.checkpoints.resume_checkpoint_path.endswith("outputs/checkpoints/smollm2-1.7B/3814697")
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


def test_engine_auto_is_local_without_cuda_and_nanotron_run_prepares_the_yaml(repo, capsys):
    from smolrecipe.cli import main
    from smolrecipe.engine.launch import pick_engine

    assert pick_engine("auto", log=lambda m: None) == "local"  # no CUDA on this machine kind
    assert main(["pretrain", "--recipe", "tiny", "--stage", "2", "--engine", "nanotron"]) == 2  # cannot start here...
    err = capsys.readouterr().err
    assert "cannot launch nanotron on this machine" in err and "sbatch --nodes=1 pretraining/launch.slurm" in err
    prepared = repo / "outputs" / "nanotron" / "tiny-stage2.yaml"  # ...but the prepared YAML and aliases exist
    cfg = load_nanotron_yaml(prepared)
    alias = Path(cfg.data_stages[-1].data.dataset.folders[-1])
    assert "s3" in str(alias) and alias.is_symlink() and alias.resolve() == (repo / "outputs/data/tiny/tokenized/math").resolve()


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


def test_compiled_layers_train_like_eager(repo, tmp_path, monkeypatch):
    from smolrecipe.engine.trainer import COMPILE_AUTO_STEPS, compile_layers
    from smolrecipe.errors import RecipeError

    eager = train(stage_cfg(repo, 1, tmp_path / "a"), opts(tmp_path, max_steps=3, compile="off"))
    compiled = train(stage_cfg(repo, 1, tmp_path / "b"), opts(tmp_path, max_steps=3, compile="on"))
    for s in (1, 2, 3):
        assert compiled.losses[s] == pytest.approx(eager.losses[s], rel=1e-5)
    a, _, _, _ = ck.load_checkpoint(tmp_path / "a" / "3")
    b, _, _, _ = ck.load_checkpoint(tmp_path / "b" / "3")
    assert a.keys() == b.keys()  # the compiled modules keep their parameter names
    # auto: compile only launches long enough to repay the compile
    from types import SimpleNamespace

    fake = SimpleNamespace(model=SimpleNamespace(layers=[]))
    assert not compile_layers(fake, "auto", COMPILE_AUTO_STEPS - 1) and compile_layers(fake, "auto", COMPILE_AUTO_STEPS)
    assert not compile_layers(fake, False, 10**6) and compile_layers(fake, True, 1)
    # without a C++ compiler: auto trains eager with a message, on stops before any work with the fix
    monkeypatch.setattr("smolrecipe.engine.trainer.has_cxx_compiler", lambda: False)
    said = []
    assert not compile_layers(fake, "auto", COMPILE_AUTO_STEPS, log=said.append) and "no C++ compiler" in said[0]
    with pytest.raises(RecipeError) as e:
        compile_layers(fake, "on", 1)
    assert "--compile off" in e.value.render()

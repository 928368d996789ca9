"""The GPU launch path as a cluster user takes it, on a CPU-only machine: fake `nvidia-smi`, a fake GPU-environment
python that answers the probe, and fake `torchrun` / `sbatch` that record their argv and environment. The real CLI
runs in a subprocess, so what is asserted is the command that would have started on the cluster."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECORD = """#!/usr/bin/env bash
python3 - "$0" "$@" <<'PY'
import json, os, sys
with open(os.environ["FAKE_CALLS"], "a") as f:
    f.write(json.dumps({"tool": os.path.basename(sys.argv[1]), "argv": sys.argv[2:],
                        "cuda_conn": os.environ.get("CUDA_DEVICE_MAX_CONNECTIONS")}) + "\\n")
PY
[ "$(basename "$0")" = sbatch ] && echo "Submitted batch job 4242"
exit 0
"""
NVIDIA_SMI = """#!/usr/bin/env bash
for i in $(seq 0 $((FAKE_GPUS - 1))); do echo "GPU $i: NVIDIA H100 80GB HBM3 (UUID: GPU-$i)"; done
"""
GPU_PYTHON = """#!/usr/bin/env bash
echo "$FAKE_PROBE"
"""
PINNED = '{"cuda": true, "devices": 8, "nanotron": "/fake/nanotron/src/nanotron", "nanotron_commit": "bc1f5a61aaaaaaaa"}'


def executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def cluster(tmp_path):
    """A scratch checkout, a PATH of fakes, and a runner of the real CLI in it."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "pretraining", root / "pretraining")
    fakes, gpu = tmp_path / "bin", tmp_path / "gpu-env" / "bin"
    executable(gpu / "python", GPU_PYTHON)
    executable(gpu / "torchrun", RECORD)
    calls = tmp_path / "calls.jsonl"

    def run(*argv, gpus=0, sbatch=True, probe=PINNED):
        shutil.rmtree(fakes, ignore_errors=True)
        fakes.mkdir()
        if gpus:
            executable(fakes / "nvidia-smi", NVIDIA_SMI)
        if sbatch:
            executable(fakes / "sbatch", RECORD)
        calls.unlink(missing_ok=True)
        env = {**os.environ, "PATH": f"{fakes}:{os.environ['PATH']}", "FAKE_GPUS": str(gpus), "FAKE_PROBE": probe,
               "FAKE_CALLS": str(calls), "SMOLRECIPE_GPU_PYTHON": str(gpu / "python"), "NANOTRON_DIR": "/fake/nanotron",
               "SMOLRECIPE_ROOT": str(root), "SMOLRECIPE_OUTPUTS": str(root / "outputs"), "PYTHONPATH": str(REPO / "src")}
        env.pop("GPUS_PER_NODE", None)
        r = subprocess.run([sys.executable, "-m", "smolrecipe", *argv], cwd=root, env=env, capture_output=True, text=True,
                           timeout=300)
        recorded = [json.loads(x) for x in calls.read_text().splitlines()] if calls.exists() else []
        return r, recorded

    return root, gpu, run


def test_auto_picks_nanotron_only_when_the_gpu_env_sees_cuda_and_the_pinned_nanotron(cluster):
    root, gpu, run = cluster
    cfg = root / "pretraining" / "configs" / "tiny" / "stage1.yaml"
    cfg.write_text(cfg.read_text().replace("  dp: 1\n", "  dp: 8\n").replace("batch_accumulation_per_replica: 2", "batch_accumulation_per_replica: 1"))
    r, calls = run("pretrain", "--recipe", "tiny", "--stage", "1", "--engine", "auto", gpus=8)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "engine auto -> nanotron (8 CUDA device(s) and nanotron@bc1f5a61" in r.stdout
    assert calls == [{"tool": "torchrun", "argv": ["--nproc_per_node=8", "/fake/nanotron/run_train.py", "--config-file",
                                                    str(root / "outputs" / "nanotron" / "tiny-stage1.yaml")], "cuda_conn": "1"}]
    assert (root / "outputs" / "nanotron" / "tiny-stage1.yaml").exists()
    # each missing piece sends auto to the local engine, with the reason (a dp=8 config then stops: no silent CPU run)
    for kwargs, why in ((dict(gpus=0), "no NVIDIA GPU on this node"),
                        (dict(gpus=8, probe='{"cuda": false, "devices": 0, "nanotron": "x"}'), "sees no CUDA device"),
                        (dict(gpus=8, probe=PINNED.replace("bc1f5a61", "2411b022")), "not the pinned bc1f5a61")):
        r, calls = run("pretrain", "--recipe", "tiny", "--stage", "1", "--engine", "auto", **kwargs)
        assert r.returncode == 2 and "engine auto -> local (" in r.stdout and why in r.stdout, r.stdout + r.stderr
        assert "laid out for 8 GPUs" in r.stderr and "ENGINE=local" in r.stderr and calls == []


def test_a_config_bigger_than_the_node_goes_to_sbatch_and_the_dry_run_prints_that_command(cluster):
    root, _, run = cluster
    argv = ("pretrain", "--recipe", "smollm2-1.7B", "--stage", "3", "--engine", "nanotron")
    dry, calls = run(*argv, "--dry-run", gpus=8)
    assert dry.returncode == 0 and calls == [] and not (root / "outputs").exists()  # a dry run writes and starts nothing
    printed = dry.stdout.split("# command (32 node(s) x 8 GPUs through Slurm):\n")[1].splitlines()[0]
    r, calls = run(*argv, gpus=8)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(calls) == 1 and calls[0]["tool"] == "sbatch"
    expected = ["--nodes=32", "--gres=gpu:8", f"--output={root / 'outputs' / 'slurm' / '%x-%j.out'}",
                "--export=ALL,GPUS_PER_NODE=8", str(root / "pretraining" / "launch.slurm"),
                str(root / "outputs" / "nanotron" / "smollm2-1.7B-stage3.yaml")]
    assert calls[0]["argv"] == expected
    assert printed == "sbatch " + " ".join(expected)  # the dry run printed exactly what ran
    assert (root / "outputs" / "slurm").is_dir()  # Slurm does not create its log folder
    # a login node without GPUs submits the same job; without sbatch the launch stops and names the command
    r, calls = run(*argv, gpus=0)
    assert r.returncode == 0 and calls[0]["argv"][0] == "--nodes=32"
    r, calls = run(*argv, gpus=8, sbatch=False)
    assert r.returncode == 2 and calls == [] and "sbatch --nodes=32" in r.stderr and "Traceback" not in r.stderr


def test_convert_runs_in_the_gpu_environment(cluster):
    root, gpu, run = cluster
    ckpt = root / "outputs" / "checkpoints" / "smollm2-1.7B" / "5240000"
    ckpt.mkdir(parents=True)
    (ckpt / "config.yaml").write_text("tokenizer:\n  tokenizer_name_or_path: HuggingFaceTB/cosmo2-tokenizer\n")
    r, calls = run("convert", "--from", str(ckpt), gpus=1)
    assert r.returncode == 0, r.stdout + r.stderr
    assert calls == [{"tool": "torchrun", "cuda_conn": "1", "argv": [
        "--nproc_per_node=1", "/fake/nanotron/examples/llama/convert_nanotron_to_hf.py", "--checkpoint_path", str(ckpt),
        "--save_path", str(root / "outputs" / "models" / "smollm2-1.7B-5240000"), "--tokenizer_name",
        "HuggingFaceTB/cosmo2-tokenizer"]}]
    r, calls = run("convert", "--from", str(ckpt), gpus=0)
    assert r.returncode == 2 and "no NVIDIA GPU" in r.stderr and calls == []

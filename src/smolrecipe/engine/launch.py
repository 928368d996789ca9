"""Which engine runs a config, and the exact nanotron launch when it is nanotron.

    status = gpu_status()                         # asks nvidia-smi and the GPU environment, never this venv's torch
    engine = pick_engine("auto", cfg)             # "nanotron" only when the GPU environment sees CUDA + the pinned nanotron
    launch = nanotron_launch(cfg, recipe)         # .argv (torchrun or sbatch), .env, .config_text, .aliases
    run_nanotron(launch, dry_run=False)

`make` runs the CPU environment (.venv), whose torch is a CPU build: CUDA is never looked for there. The GPU
environment is SMOLRECIPE_GPU_PYTHON, else .venv-gpu/bin/python (`make setup-gpu`); its nanotron checkout is
NANOTRON_DIR, else .venv-gpu/src/nanotron. A launch needs N = dp*tp*pp GPUs (times context/expert parallelism):
- N <= the GPUs nvidia-smi lists on this node: `CUDA_DEVICE_MAX_CONNECTIONS=1 <gpu env>/torchrun
  --nproc_per_node=N <nanotron>/run_train.py --config-file <prepared YAML>`;
- N more than this node has: `sbatch --nodes=ceil(N / GPUS_PER_NODE) pretraining/launch.slurm <prepared YAML>`
  (GPUS_PER_NODE: the variable, else this node's GPU count, else 8), its log folder created first; without
  sbatch on PATH the launch stops and names the command.

The prepared YAML is the stage file as nanotron should read it on the cluster (REFERENCE.md sections 6-7,
pretraining/README.md); nothing in nanotron is patched:
- absolute paths, so the launch does not depend on the working directory of every rank;
- nanotron's per-folder consumption statistics assert that each dataset folder path contains "s3": a local
  folder gets an alias, a symlink outputs/nanotron/data-s3-alias/<name> (paths that contain "s3" are kept);
- the LR: nanotron's load_lr_scheduler calls LambdaLR._initial_step() after loading, one step further along
  the schedule per resumed launch, so a launch L resumes ahead runs iteration i with f(i - 1 + L). The prepared
  YAML shifts lr_warmup_steps and lr_decay_starting_step by L, which gives back f(i - 1) for every iteration
  after the warmup (exact there; a resume inside the warmup is refused). L is read from the checkpoint's saved
  scheduler when it exists, else counted along the chain of launches that write the resumed checkpoint.
"""
from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from smolrecipe.config.loader import dump_nanotron_yaml, load_nanotron_yaml, loads_nanotron_yaml
from smolrecipe.errors import RecipeError
from smolrecipe.paths import outputs_dir, repo_root, resolve
from smolrecipe.versions import NANOTRON_COMMIT

DEFAULT_GPUS_PER_NODE = 8
ALIAS_DIR = "nanotron/data-s3-alias"
SLURM_SCRIPT = "pretraining/launch.slurm"
PROBE = r"""
import json, os, subprocess
out = {}
try:
    import torch
    out["cuda"], out["devices"] = torch.cuda.is_available(), torch.cuda.device_count()
except Exception as e:
    out["error"] = f"torch: {type(e).__name__}: {e}"
try:
    import nanotron
    where = os.path.dirname(os.path.abspath(nanotron.__file__))
    out["nanotron"] = where
    r = subprocess.run(["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True)
    out["nanotron_commit"] = r.stdout.strip() if r.returncode == 0 else None
except Exception as e:
    out["nanotron_error"] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
"""


# ------------------------------------------------------------------------------------------ the GPU environment
def gpu_python() -> Path:
    return Path(os.environ.get("SMOLRECIPE_GPU_PYTHON") or repo_root() / ".venv-gpu" / "bin" / "python")


def gpu_bin(tool: str) -> str:
    """A tool of the GPU environment (torchrun), next to its python."""
    return str(gpu_python().parent / tool)


def nanotron_checkout() -> Path:
    """The pinned nanotron checkout made by `make setup-gpu` (override with NANOTRON_DIR)."""
    return Path(os.environ.get("NANOTRON_DIR") or repo_root() / ".venv-gpu" / "src" / "nanotron")


def node_gpus() -> int:
    """GPUs nvidia-smi lists on this node (0 without one)."""
    if not shutil.which("nvidia-smi"):
        return 0
    try:
        r = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in r.stdout.splitlines() if line.startswith("GPU ")) if r.returncode == 0 else 0


@dataclass
class GpuStatus:
    ok: bool
    why: str
    gpus: int = 0


def gpu_status() -> GpuStatus:
    """Can nanotron run here? nvidia-smi first, then the GPU environment's own torch and nanotron."""
    gpus = node_gpus()
    if not gpus:
        return GpuStatus(False, "no NVIDIA GPU on this node (nvidia-smi)")
    py = gpu_python()
    if not py.exists():
        return GpuStatus(False, f"no GPU environment at {py} (make setup-gpu, or set SMOLRECIPE_GPU_PYTHON)", gpus)
    try:
        r = subprocess.run([str(py), "-c", PROBE], capture_output=True, text=True, timeout=300)
        probe = json.loads(r.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return GpuStatus(False, f"the GPU environment {py} does not answer (python -c 'import torch, nanotron' fails)", gpus)
    if not probe.get("cuda"):
        return GpuStatus(False, f"the GPU environment {py} sees no CUDA device ({probe.get('error', 'torch.cuda is not available')})", gpus)
    if "nanotron" not in probe:
        return GpuStatus(False, f"nanotron is not installed in {py} ({probe.get('nanotron_error')}): make setup-gpu", gpus)
    commit = probe.get("nanotron_commit") or "unknown"
    if not commit.startswith(NANOTRON_COMMIT):
        return GpuStatus(False, f"nanotron in {py} is at {commit[:12]}, not the pinned {NANOTRON_COMMIT}: make setup-gpu", gpus)
    return GpuStatus(True, f"{probe['devices']} CUDA device(s) and nanotron@{NANOTRON_COMMIT} in {py}", gpus)


def gpus_needed(cfg) -> int:
    p = cfg.parallelism
    return (p.dp * p.tp * p.pp * max(getattr(p, "context_parallel_size", 1) or 1, 1)
            * max(getattr(p, "expert_parallel_size", 1) or 1, 1))


def pick_engine(requested: str, cfg=None, log=print) -> str:
    """auto: nanotron when the GPU environment sees CUDA and the pinned nanotron, else the local engine.

    A config laid out for several GPUs is not silently trained on the CPU by `auto`: that is an error with both ways out."""
    if requested in ("local", "nanotron"):
        return requested
    status = gpu_status()
    log(f"engine auto -> {'nanotron' if status.ok else 'local'} ({status.why})")
    if not status.ok and cfg is not None and gpus_needed(cfg) > 1:
        raise RecipeError(
            f"this config is laid out for {gpus_needed(cfg)} GPUs (dp*tp*pp) and nanotron cannot run here: {status.why}",
            file=getattr(cfg, "source_file", None), field="ENGINE",
            fix="run ENGINE=nanotron on a GPU node or a Slurm login node (it submits with sbatch), "
                "or ENGINE=local to train it on this CPU anyway")
    return "nanotron" if status.ok else "local"


# ------------------------------------------------------------------------------------------ the LR lead
def saved_scheduler_epoch(checkpoint: Path) -> int | None:
    """last_epoch of the LambdaLR state nanotron saved in a checkpoint (lr_scheduler/*.pt), or None."""
    files = sorted((checkpoint / "lr_scheduler").glob("*.pt")) if checkpoint.is_dir() else []
    if not files:
        return None
    import torch

    return int(torch.load(files[0], map_location="cpu", weights_only=True)["last_epoch"])


def _writer_of(checkpoint: Path, recipe):
    """The config of the launch that writes `checkpoint`: its own config.yaml, else the recipe launch that saves it."""
    if (checkpoint / "config.yaml").exists():
        return load_nanotron_yaml(checkpoint / "config.yaml")
    step = int(checkpoint.name) if checkpoint.name.isdigit() else None
    for cfg in ([*recipe.stages, *([recipe.long_context] if recipe.long_context else [])] if recipe else []):
        starts = cfg.data_stages[-1].start_training_step
        if resolve(cfg.checkpoints.checkpoints_path) == checkpoint.parent and step and starts <= step <= cfg.tokens.train_steps:
            return cfg
    return None


def nanotron_lr_lead(cfg, recipe=None) -> tuple[int, str]:
    """(L, how it was found): how many steps ahead of the global schedule nanotron runs this launch."""
    c = cfg.checkpoints
    if not c.resume_checkpoint_path or not c.load_lr_scheduler:
        return 0, "the launch does not load a scheduler"
    ckpt = resolve(c.resume_checkpoint_path)
    step = int(ckpt.name) if ckpt.name.isdigit() else None
    saved = saved_scheduler_epoch(ckpt)
    if saved is not None and step is not None:
        return saved - step + 1, f"read from {ckpt / 'lr_scheduler'} (last_epoch {saved} at step {step})"
    parent = _writer_of(ckpt, recipe)
    if parent is None:
        raise RecipeError("cannot tell how far ahead nanotron's schedule runs after resuming this checkpoint: it has no "
                          "saved scheduler yet and no launch of the recipe writes it", file=str(ckpt),
                          field="checkpoints.resume_checkpoint_path",
                          fix="resume a nanotron checkpoint (with lr_scheduler/), or a step of one of the recipe's launches")
    lead, _ = nanotron_lr_lead(parent, recipe)
    return lead + 1, f"one more than the launch that writes {ckpt.name} ({getattr(parent, 'source_file', '?')}: {lead})"


# ------------------------------------------------------------------------------------------ the prepared YAML
def newest_nanotron_checkpoint(cfg) -> Path | None:
    """The newest complete nanotron checkpoint of this run after the stage file's own resume point (a preempted or
    interrupted launch), so that running the same command again continues it instead of restarting the stage."""
    import yaml

    folder = resolve(cfg.checkpoints.checkpoints_path)
    resume = cfg.checkpoints.resume_checkpoint_path
    after = int(Path(resume).name) if resume and Path(resume).name.isdigit() else 0
    steps = sorted((int(p.name) for p in folder.iterdir() if p.name.isdigit()), reverse=True) if folder.is_dir() else []
    for step in steps:
        ckpt = folder / str(step)
        if not after < step <= cfg.tokens.train_steps:
            continue
        if not (ckpt / "checkpoint_metadata.json").exists() or not (ckpt / "config.yaml").exists():
            continue  # a local-engine checkpoint, or a nanotron save that did not finish
        run = ((yaml.safe_load((ckpt / "config.yaml").read_text()) or {}).get("general") or {}).get("run")
        if run == cfg.general.run:
            return ckpt
    return None


def _absolute(path: str | None) -> str | None:
    return path if path is None or "://" in path else str(resolve(path))


def _alias(folder: str, aliases: dict[Path, Path]) -> str:
    if folder.startswith("s3://") or "s3" in folder:
        return folder
    real = resolve(folder)
    rel = real.relative_to(repo_root()) if real.is_relative_to(repo_root()) else Path(*real.parts[1:])
    alias = outputs_dir() / ALIAS_DIR / "__".join(rel.parts)
    aliases[alias] = real
    return str(alias)


def prepare_config(cfg, recipe=None) -> tuple[str, dict[Path, Path], int]:
    """(the YAML nanotron should read on a cluster, its s3-named aliases, the LR lead it compensates)."""
    aliases: dict[Path, Path] = {}
    prepared = loads_nanotron_yaml(dump_nanotron_yaml(cfg), name=getattr(cfg, "source_file", "<config>"))  # a deep copy
    continuing = newest_nanotron_checkpoint(cfg)
    if continuing is not None:  # the same command again continues the run; the LR lead is read from that checkpoint
        prepared.checkpoints.resume_checkpoint_path = str(continuing)
        prepared.checkpoints.load_lr_scheduler = prepared.checkpoints.load_optimizer = True
        cfg = prepared
    c = prepared.checkpoints
    c.checkpoints_path, c.resume_checkpoint_path = _absolute(c.checkpoints_path), _absolute(c.resume_checkpoint_path)
    tok = prepared.tokenizer.tokenizer_name_or_path
    if tok and resolve(tok).exists():
        prepared.tokenizer.tokenizer_name_or_path = str(resolve(tok))
    for st in prepared.data_stages:
        if st.data.dataset is not None:
            st.data.dataset.dataset_folder = [_alias(f, aliases) for f in st.data.dataset.folders]
    lead, how = nanotron_lr_lead(cfg, recipe)
    s = prepared.schedule
    if lead:
        resume_step = int(Path(prepared.checkpoints.resume_checkpoint_path).name)
        if resume_step < s.lr_warmup_steps:
            raise RecipeError(f"nanotron would run this resumed launch {lead} step(s) ahead of the schedule inside the "
                              f"warmup (resume at step {resume_step} < lr_warmup_steps {s.lr_warmup_steps}), which a "
                              "shifted schedule cannot compensate", file=getattr(cfg, "source_file", None),
                              field="checkpoints.resume_checkpoint_path", fix="resume from a checkpoint after the warmup")
        s.lr_warmup_steps += lead
        s.lr_decay_starting_step += lead
    header = (f"# prepared for nanotron@{NANOTRON_COMMIT} from {getattr(cfg, 'source_file', '?')} by smolrecipe:\n"
              + (f"# continues run {cfg.general.run} from its newest checkpoint {continuing}\n" if continuing else "") +
              "# absolute paths; local data folders behind s3-named symlinks (nanotron asserts 's3' in folder paths)\n"
              f"# LR: nanotron runs this launch {lead} step(s) ahead of the global schedule ({how}); "
              f"lr_warmup_steps and lr_decay_starting_step are shifted by {lead} so every iteration gets the LR of "
              "the local engine")
    return dump_nanotron_yaml(prepared, header=header), aliases, lead


# ------------------------------------------------------------------------------------------ the launch
@dataclass
class NanotronLaunch:
    env: dict[str, str]
    argv: list[str]
    config_path: Path
    config_text: str
    aliases: dict[Path, Path] = field(default_factory=dict)   # alias -> real folder
    gpus: int = 1
    nodes: int = 1
    lr_lead: int = 0
    needs_local_gpus: bool = True   # torchrun on this node (vs sbatch)
    local_gpus: int = 0

    def shell(self) -> str:
        env = " ".join(f"{k}={v}" for k, v in self.env.items())
        return f"{env} {shlex.join(self.argv)}".strip()

    def write(self) -> None:
        """Create the alias symlinks, the prepared YAML and the Slurm log folder (skipped by a dry run)."""
        for alias, real in self.aliases.items():
            alias.parent.mkdir(parents=True, exist_ok=True)
            if alias.is_symlink() or alias.exists():
                if alias.resolve() == real.resolve():
                    continue
                alias.unlink()
            alias.symlink_to(real, target_is_directory=True)
        from smolrecipe.publish import atomic_write_text

        atomic_write_text(self.config_path, self.config_text)
        (outputs_dir() / "slurm").mkdir(parents=True, exist_ok=True)  # Slurm does not create its --output folder


def gpus_per_node(local: int) -> int:
    env = os.environ.get("GPUS_PER_NODE")
    if env:
        if not env.isdigit() or int(env) < 1:
            raise RecipeError(f"GPUS_PER_NODE={env!r} is not a positive number", field="GPUS_PER_NODE", fix="e.g. GPUS_PER_NODE=8")
        return int(env)
    return local or DEFAULT_GPUS_PER_NODE


def nanotron_launch(cfg, recipe=None, name: str | None = None, *, local_gpus: int | None = None) -> NanotronLaunch:
    need = gpus_needed(cfg)
    if need < 1:
        raise RecipeError("dp*tp*pp must be at least 1", field="parallelism")
    text, aliases, lead = prepare_config(cfg, recipe)
    config_path = outputs_dir() / "nanotron" / f"{name or cfg.general.run}.yaml"
    here = node_gpus() if local_gpus is None else local_gpus
    if need <= here:
        argv = [gpu_bin("torchrun"), f"--nproc_per_node={need}", str(nanotron_checkout() / "run_train.py"),
                "--config-file", str(config_path)]
        return NanotronLaunch({"CUDA_DEVICE_MAX_CONNECTIONS": "1"}, argv, config_path, text, aliases, need, 1, lead)
    per_node = min(gpus_per_node(here), need)  # a job that fits one node asks for exactly its GPUs
    nodes = math.ceil(need / per_node)
    if nodes * per_node != need:
        raise RecipeError(f"dp*tp*pp = {need} GPUs does not fill whole nodes of {per_node}", file=getattr(cfg, "source_file", None),
                          field="parallelism", fix=f"make dp*tp*pp a multiple of {per_node}, or set GPUS_PER_NODE")
    log = outputs_dir() / "slurm" / "%x-%j.out"
    argv = ["sbatch", f"--nodes={nodes}", f"--gres=gpu:{per_node}", f"--output={log}",
            f"--export=ALL,GPUS_PER_NODE={per_node}", str(repo_root() / SLURM_SCRIPT), str(config_path)]
    return NanotronLaunch({}, argv, config_path, text, aliases, need, nodes, lead, needs_local_gpus=False, local_gpus=here)


def run_nanotron(launch: NanotronLaunch, *, dry_run: bool, log=print) -> int:
    log(f"# nanotron config ({launch.config_path}):")
    log(launch.config_text)
    where = (f"{launch.gpus} GPU(s) on this node" if launch.needs_local_gpus
             else f"{launch.nodes} node(s) x {launch.gpus // launch.nodes} GPUs through Slurm")
    log(f"# command ({where}):")
    log(launch.shell())
    if dry_run:
        log("# dry run: nothing was written or started")
        return 0
    if launch.needs_local_gpus:
        status = gpu_status()
        if not status.ok:
            raise RecipeError(f"cannot launch nanotron on this node: {status.why}",
                              fix="make setup-gpu on a GPU node, or run from a Slurm login node (it submits with sbatch)")
    elif not shutil.which("sbatch"):
        raise RecipeError(f"cannot launch nanotron here: this node has {launch.local_gpus} NVIDIA GPU(s) (nvidia-smi), the "
                          f"config needs {launch.gpus}, and sbatch is not on PATH",
                          fix=f"run on a GPU node with enough GPUs after make setup-gpu, or from a Slurm login node: {launch.shell()}")
    launch.write()
    log(f"# wrote {launch.config_path}")
    return subprocess.call(launch.argv, env={**os.environ, **launch.env}, cwd=repo_root())

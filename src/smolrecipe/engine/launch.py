"""Which engine runs a config, and the exact nanotron launch when it is nanotron.

    engine = pick_engine("auto")                       # "nanotron" only with CUDA + the pinned nanotron
    launch = nanotron_launch(cfg, config_path)         # .env, .argv, .config_text, .aliases, .shell()

nanotron (GPU) runs `CUDA_DEVICE_MAX_CONNECTIONS=1 torchrun --nproc_per_node=<dp*tp*pp>
<pinned checkout>/run_train.py --config-file <prepared YAML>` (pretraining/launch.slurm for several nodes).

The prepared YAML is the stage file with two local-folder fixes (REFERENCE.md section 6, pretraining/README.md):
- paths become absolute, so the launch does not depend on the working directory of every rank;
- nanotron's per-folder consumption statistics assert that each dataset folder path contains "s3"
  (blendable_dataset.py, a leftover of its S3-only use). A local folder is therefore given an alias:
  a symlink `outputs/nanotron/data-s3-alias/<name>` to the real folder. Paths that already are s3:// URIs
  (or already contain "s3") are kept as they are. Nothing in nanotron is patched.
"""
from __future__ import annotations

import importlib.util
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from smolrecipe.config.loader import dump_nanotron_yaml, loads_nanotron_yaml
from smolrecipe.errors import RecipeError
from smolrecipe.paths import outputs_dir, repo_root
from smolrecipe.versions import NANOTRON_COMMIT

GPUS_PER_NODE = 8
ALIAS_DIR = "nanotron/data-s3-alias"


def nanotron_checkout() -> Path:
    """The pinned nanotron checkout made by `make setup-gpu` (override with NANOTRON_DIR)."""
    return Path(os.environ.get("NANOTRON_DIR", repo_root() / ".venv-gpu" / "src" / "nanotron"))


def torchrun_path() -> str:
    venv = repo_root() / ".venv-gpu" / "bin" / "torchrun"
    return str(venv) if venv.exists() else "torchrun"


def nanotron_available() -> tuple[bool, str]:
    try:
        import torch

        if not torch.cuda.is_available():
            return False, "no CUDA device"
    except ImportError:
        return False, "torch is not installed"
    if importlib.util.find_spec("nanotron") is None and not (nanotron_checkout() / "run_train.py").exists():
        return False, "nanotron is not installed (make setup-gpu)"
    return True, "CUDA and nanotron found"


def pick_engine(requested: str, log=print) -> str:
    if requested in ("local", "nanotron"):
        return requested
    ok, why = nanotron_available()
    log(f"engine auto -> {'nanotron' if ok else 'local'} ({why})")
    return "nanotron" if ok else "local"


@dataclass
class NanotronLaunch:
    env: dict[str, str]
    argv: list[str]
    config_path: Path
    config_text: str
    aliases: dict[Path, Path] = field(default_factory=dict)   # alias -> real folder
    nproc: int = 1

    def shell(self) -> str:
        env = " ".join(f"{k}={v}" for k, v in self.env.items())
        return f"{env} {shlex.join(self.argv)}"

    def slurm(self) -> str:
        nodes = -(-self.nproc // GPUS_PER_NODE)
        return f"sbatch --nodes={nodes} pretraining/launch.slurm {shlex.quote(str(self.config_path))}"

    def write(self) -> None:
        """Create the alias symlinks and the prepared YAML (skipped by a dry run)."""
        for alias, real in self.aliases.items():
            alias.parent.mkdir(parents=True, exist_ok=True)
            if alias.is_symlink() or alias.exists():
                if alias.resolve() == real.resolve():
                    continue
                alias.unlink()
            alias.symlink_to(real, target_is_directory=True)
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.config_path.with_name(self.config_path.name + ".tmp")
        tmp.write_text(self.config_text)
        tmp.replace(self.config_path)


def _absolute(path: str | None) -> str | None:
    if path is None or "://" in path:
        return path
    p = Path(path)
    return str(p if p.is_absolute() else repo_root() / p)


def _alias(folder: str, aliases: dict[Path, Path]) -> str:
    if folder.startswith("s3://") or "s3" in folder:
        return folder
    real = Path(_absolute(folder))
    rel = real.relative_to(repo_root()) if real.is_relative_to(repo_root()) else Path(*real.parts[1:])
    alias = outputs_dir() / ALIAS_DIR / "__".join(rel.parts)
    aliases[alias] = real
    return str(alias)


def prepare_config(cfg) -> tuple[str, dict[Path, Path]]:
    """The stage YAML as nanotron should read it on a cluster (absolute paths, s3-named aliases for local folders)."""
    aliases: dict[Path, Path] = {}
    text = dump_nanotron_yaml(cfg)
    prepared = loads_nanotron_yaml(text, name=getattr(cfg, "source_file", "<config>"))  # a deep copy, strictly re-checked
    prepared.checkpoints.checkpoints_path = _absolute(prepared.checkpoints.checkpoints_path)
    prepared.checkpoints.resume_checkpoint_path = _absolute(prepared.checkpoints.resume_checkpoint_path)
    tok = prepared.tokenizer.tokenizer_name_or_path
    if tok and (repo_root() / tok).exists():
        prepared.tokenizer.tokenizer_name_or_path = _absolute(tok)
    for st in prepared.data_stages:
        ds = st.data.dataset
        if ds is None:
            continue
        ds.dataset_folder = [_alias(f, aliases) for f in ds.folders]
    header = (f"# prepared for nanotron@{NANOTRON_COMMIT} from {getattr(cfg, 'source_file', '?')} by smolrecipe:\n"
              "# absolute paths; local data folders behind s3-named symlinks (nanotron asserts 's3' in folder paths)")
    return dump_nanotron_yaml(prepared, header=header), aliases


def nanotron_launch(cfg, name: str | None = None) -> NanotronLaunch:
    p = cfg.parallelism
    nproc = p.dp * p.tp * p.pp * max(getattr(p, "context_parallel_size", 1) or 1, 1) * max(getattr(p, "expert_parallel_size", 1) or 1, 1)
    if nproc < 1:
        raise RecipeError("dp*tp*pp must be at least 1", field="parallelism")
    text, aliases = prepare_config(cfg)
    config_path = outputs_dir() / "nanotron" / f"{name or cfg.general.run}.yaml"
    argv = [torchrun_path(), f"--nproc_per_node={nproc}", str(nanotron_checkout() / "run_train.py"), "--config-file", str(config_path)]
    return NanotronLaunch({"CUDA_DEVICE_MAX_CONNECTIONS": "1"}, argv, config_path, text, aliases, nproc)


def run_nanotron(launch: NanotronLaunch, *, dry_run: bool, log=print) -> int:
    log(f"# nanotron config ({launch.config_path}):")
    log(launch.config_text)
    log("# command:")
    log(launch.shell())
    if launch.nproc > GPUS_PER_NODE:
        log(f"# dp*tp*pp = {launch.nproc} GPUs is more than one node: on a Slurm cluster run")
        log(launch.slurm())
    if dry_run:
        log("# dry run: nothing was written or started")
        return 0
    launch.write()  # also on a login node without GPUs: the prepared YAML is what launch.slurm submits
    log(f"# wrote {launch.config_path}")
    ok, why = nanotron_available()
    if not ok:
        raise RecipeError(f"cannot launch nanotron on this machine: {why}",
                          fix=f"on a GPU node after `make setup-gpu` run the command above, or submit: {launch.slurm()}")
    import subprocess

    return subprocess.call(launch.argv, env={**os.environ, **launch.env}, cwd=repo_root())

"""Convert a nanotron checkpoint into a transformers folder with nanotron's own converter (GPU environment).

Usage:
    python -m smolrecipe convert --from outputs/checkpoints/smollm2-1.7B/5240000 [--out DIR] [--dry-run]
    (make convert FROM=outputs/checkpoints/smollm2-1.7B/5240000)

Runs, in the GPU environment made by `make setup-gpu` (.venv-gpu, or SMOLRECIPE_GPU_PYTHON; nanotron at the
pinned commit), never in the CPU environment `make` itself runs:
    <gpu env>/torchrun --nproc_per_node=1 <nanotron>/examples/llama/convert_nanotron_to_hf.py \
        --checkpoint_path <FROM> --save_path <OUT> --tokenizer_name <the config's tokenizer>
The converter needs CUDA (nanotron builds its model on a GPU). Local-engine checkpoints need no
conversion: their model/ subfolder already is a transformers folder.
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
from pathlib import Path

from smolrecipe.engine.launch import gpu_bin, gpu_status, nanotron_checkout
from smolrecipe.errors import RecipeError
from smolrecipe.paths import outputs_dir, repo_root, resolve, user_path


def command(source: Path, out: Path, tokenizer: str | None) -> list[str]:
    argv = [gpu_bin("torchrun"), "--nproc_per_node=1", str(nanotron_checkout() / "examples" / "llama" / "convert_nanotron_to_hf.py"),
            "--checkpoint_path", str(source), "--save_path", str(out)]
    if tokenizer:
        argv += ["--tokenizer_name", tokenizer]
    return argv


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe convert", description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, required=True, help="nanotron checkpoint folder <checkpoints_path>/<step>")
    parser.add_argument("--out", type=Path, default=None, help="transformers folder (default outputs/models/<run>-<step>)")
    parser.add_argument("--dry-run", action="store_true", help="print the command only")
    args = parser.parse_args(argv)
    src = user_path(args.source).resolve()
    if (src / "model" / "config.json").exists() and (src / "metadata.json").exists():
        print(f"{src} is a local-engine checkpoint: {src / 'model'} already is a transformers folder (no conversion needed)")
        return 0
    out = user_path(args.out).resolve() if args.out else outputs_dir() / "models" / f"{src.parent.name}-{src.name}"
    tokenizer = None
    if (src / "config.yaml").exists():
        import yaml

        tokenizer = ((yaml.safe_load((src / "config.yaml").read_text()) or {}).get("tokenizer") or {}).get("tokenizer_name_or_path")
        if tokenizer and resolve(tokenizer).exists():
            tokenizer = str(resolve(tokenizer))  # a local tokenizer, absolute for the GPU environment
    argv_ = command(src, out, tokenizer)
    print(shlex.join(argv_))
    if args.dry_run:
        return 0
    if not src.is_dir():
        raise RecipeError("checkpoint folder not found", file=str(src), fix="point FROM at <checkpoints_path>/<step> of a nanotron run")
    status = gpu_status()
    if not status.ok:
        raise RecipeError(f"cannot run nanotron's converter here: {status.why}",
                          fix="run `make convert` on a GPU node after `make setup-gpu` (the converter needs CUDA)")
    return subprocess.call(argv_, cwd=repo_root(), env={**os.environ, "CUDA_DEVICE_MAX_CONNECTIONS": "1"})

"""What counts as a model folder, in one place: evaluation, post-training, chat and averaging all accept the same.

    weights_folder(path)      a local-engine checkpoint (metadata.json + model/) -> its model/; anything else as given
    is_model_folder(path)     config.json with *.safetensors beside it (adapters=True: or a PEFT adapter_config.json)
"""
from __future__ import annotations

from pathlib import Path


def weights_folder(path: Path) -> Path:
    """The transformers folder inside a local-engine checkpoint, or `path` itself."""
    path = Path(path)
    return path / "model" if (path / "metadata.json").is_file() and (path / "model").is_dir() else path


def is_model_folder(path: Path, *, adapters: bool = False) -> bool:
    """A folder save_pretrained wrote: config.json and safetensors weights (or, with `adapters`, a LoRA adapter)."""
    path = Path(path)
    if not (path / "config.json").is_file():
        return False
    return any(path.glob("*.safetensors")) or (adapters and (path / "adapter_config.json").is_file())

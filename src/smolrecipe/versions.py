"""Upstream versions, in one place: what this environment runs and what the GPU environment pins.

The CPU environment's exact versions come from requirements/constraints.txt (installed by
`make setup`); `runtime_versions()` reads what is actually installed so every run records it.
The GPU environment (`make setup-gpu`) installs nanotron and datatrove from git at the commits below.
"""
from __future__ import annotations

import platform
from importlib import metadata

# GPU pretraining stack (REFERENCE.md section 6): the pair SmolLM3 was trained with. nanotron main
# reads tokenized folders with datatrove arguments that exist only on this datatrove branch.
NANOTRON_REPO = "https://github.com/huggingface/nanotron"
NANOTRON_COMMIT = "bc1f5a61"  # branch smollm3, 2025-07-10
DATATROVE_REPO = "https://github.com/huggingface/datatrove"
DATATROVE_GPU_COMMIT = "2c895af7"  # branch nouamane/avoid-s3, 2025-04-10
FLASH_ATTN_VERSION = "2.7.4.post1"

TRACKED = (
    "torch", "transformers", "tokenizers", "trl", "datasets", "peft", "accelerate",
    "datatrove", "lighteval", "huggingface-hub", "safetensors", "numpy",
)


def runtime_versions() -> dict[str, str]:
    """Versions of the tracked packages installed here (None for a missing one), plus Python."""
    found = {"python": platform.python_version()}
    for name in TRACKED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    try:
        found["smolrecipe"] = metadata.version("smolrecipe")
    except metadata.PackageNotFoundError:
        found["smolrecipe"] = "source"
    return found

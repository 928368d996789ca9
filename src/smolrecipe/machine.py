"""What machine a run or a benchmark ran on: CPU model, the instruction sets that change the speed, cores.

    describe()      # {"cpu": "AMD EPYC", "flags": ["avx2", "avx512f", "avx512_bf16"], "cores": 2, "torch_isa": "AVX512"}
    short()         # "AMD EPYC [avx2 avx512f avx512_bf16] x2"

The same machine kind comes with different CPUs (one with AVX512-BF16, one without): every benchmark figure and
every run records this, and the engine's precision and compile choices depend on it.

SMOLRECIPE_CPU_FLAGS="avx2 fma" makes the engine and the benchmarks choose as a CPU with only those flags would
(with ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2, torch's kernels follow):
how benchmarks/README.md approximates the machine kind's other CPU on this one.
"""
from __future__ import annotations

import os
import platform
from functools import lru_cache
from pathlib import Path

FLAGS_THAT_MATTER = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile", "asimd", "sve")


@lru_cache(maxsize=1)
def describe() -> dict:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and model in ("", platform.machine(), platform.processor()):
                model = value.strip()
            elif key in ("flags", "Features") and not flags:
                flags = set(value.split())
    except OSError:
        pass
    try:
        import torch

        isa = torch.backends.cpu.get_cpu_capability()
    except Exception:  # torch missing or too old: the description still stands
        isa = None
    if os.environ.get("SMOLRECIPE_CPU_FLAGS") is not None:
        flags = set(os.environ["SMOLRECIPE_CPU_FLAGS"].split())
        model += " (flags overridden by SMOLRECIPE_CPU_FLAGS)"
    return {"cpu": model, "flags": [f for f in FLAGS_THAT_MATTER if f in flags], "cores": os.cpu_count(), "torch_isa": isa}


def short() -> str:
    d = describe()
    return f"{d['cpu']} [{' '.join(d['flags'])}] x{d['cores']}" + (f", torch {d['torch_isa']}" if d["torch_isa"] else "")


def has_native_bf16() -> bool:
    return any(f in describe()["flags"] for f in ("avx512_bf16", "amx_bf16"))

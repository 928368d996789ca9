"""When and how the local engine compiles its decoder layers (torch.compile, regional).

    compiled = compile_layers(model, "auto", launch_steps, key=compile_key(cfg, bf16), log=print)

off: eager. on: compile (needs a C++ compiler: torch inductor builds its CPU kernels with one).
auto: compile only where it was measured to pay off on THIS CPU. What compiling gains depends on the CPU: on the
machine kind's AVX512-BF16 CPU a compiled step of the tiny model was about 1.15x faster after a ~4 s compile
(28 s cold); on its CPU without AVX512 the first step took 42.9 s and compiled steps were slower than eager
(0.915 vs 0.879 CPU-s, benchmarks/README.md). So `auto` reads a per-CPU record of eager and compiled step times
and the compile's cost, keyed by the CPU, torch, the model's shape, the batch and the precision, and compiles a
launch only if (eager - compiled) x its steps repays the compile. `python benchmarks/bench_engine.py --compile`
measures and writes the record (outputs/cache/compile.json); without one, `auto` trains eager and says so.
The decision is made before the first step and logged with the launch, so reruns of a run decide the same way.
"""
from __future__ import annotations

import json
import os
import shutil

from smolrecipe import machine
from smolrecipe.errors import RecipeError
from smolrecipe.paths import outputs_dir
from smolrecipe.publish import atomic_write_text


def record_path():
    return outputs_dir() / "cache" / "compile.json"


def has_cxx_compiler() -> bool:
    return any(shutil.which(c) for c in (os.environ.get("CXX", ""), "g++", "c++", "clang++") if c)


def compile_key(cfg, bf16: bool, threads: int) -> str:
    import torch

    m, t = cfg.model.model_config, cfg.tokens
    d = machine.describe()
    return (f"{d['cpu']}|{' '.join(d['flags'])}|{d['torch_isa']}|torch {torch.__version__}|{threads} threads|"
            f"{'bf16' if bf16 else 'fp32'}|L{m.num_hidden_layers} h{m.hidden_size} ffn{m.intermediate_size} "
            f"heads{m.num_attention_heads}/{m.num_key_value_heads} vocab{m.vocab_size}|mbs{t.micro_batch_size} seq{t.sequence_length}")


def read_record(key: str) -> dict | None:
    try:
        return json.loads(record_path().read_text()).get(key)
    except (OSError, ValueError):
        return None


def write_record(key: str, *, eager_s: float, compiled_s: float, compile_s: float, path=None) -> None:
    """Remember a measurement (benchmarks/bench_engine.py --compile): seconds per step eager and compiled, and the
    wall time the compile added to the first step."""
    path = path or record_path()
    try:
        records = json.loads(path.read_text())
    except (OSError, ValueError):
        records = {}
    records[key] = {"eager_s": eager_s, "compiled_s": compiled_s, "compile_s": compile_s}
    atomic_write_text(path, json.dumps(records, indent=1))


def should_compile(setting: str | bool, launch_steps: int, key: str | None, log=print) -> bool:
    setting = {True: "on", False: "off"}.get(setting, setting)
    if setting not in ("auto", "on", "off"):
        raise RecipeError(f"compile must be auto, on or off, not {setting!r}", field="--compile", fix="use auto, on or off")
    if setting != "auto":
        return setting == "on"
    rec = read_record(key) if key else None
    if rec is None:
        if launch_steps >= 1000:
            log("compile auto: no measurement for this CPU and model yet, training eager "
                "(python benchmarks/bench_engine.py --compile measures it; --compile on forces it)")
        return False
    saved = (rec["eager_s"] - rec["compiled_s"]) * launch_steps
    decision = saved > rec["compile_s"]
    log(f"compile auto: {'compiling' if decision else 'eager'}: measured on this CPU {rec['eager_s']:.3f} s/step eager, "
        f"{rec['compiled_s']:.3f} compiled, {rec['compile_s']:.0f} s to compile; {launch_steps} steps "
        f"{'repay' if decision else 'do not repay'} it")
    return decision


def compile_layers(model, setting: str | bool, launch_steps: int, key: str | None = None, log=print) -> bool:
    """Regional compilation: torch.compile each decoder layer in place, if should_compile says so.

    The layers share their code and shapes, so dynamo traces one graph and every layer reuses it (a cold
    compile of 28 s instead of 50 s for the whole model, with the same steady-state gain); inductor fuses
    what dominates a model this narrow: RMSNorm, RoPE, SiLU * up and the autocast casts. The embedding,
    final norm and the fused loss stay eager. Parameter names and state_dict are unchanged (Module.compile).
    """
    if not should_compile(setting, launch_steps, key, log):
        return False
    if not has_cxx_compiler():  # inductor builds its CPU kernels with one; fail here, not at the first step
        if setting in ("on", True):
            raise RecipeError("--compile on needs a C++ compiler (torch inductor builds CPU kernels with it)",
                              field="--compile", fix="install one (apt-get install g++) or pass --compile off")
        log("no C++ compiler found: training eager (install g++ to compile the layers)")
        return False
    for layer in model.model.layers:
        layer.compile(dynamic=False)
    return True

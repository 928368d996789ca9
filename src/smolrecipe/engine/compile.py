"""When and how the local engine compiles its decoder layers (torch.compile, regional).

    compiled = compile_layers(model, "auto", launch_steps, log=print)

off: eager. on: compile (needs a C++ compiler: torch inductor builds its CPU kernels with one).
auto: compile only launches long enough to repay the compile: at least COMPILE_AUTO_STEPS iterations.
"""
from __future__ import annotations

import os
import shutil

from smolrecipe.errors import RecipeError

# Measured on the tiny model (benchmarks/README.md), one thread: compiling the decoder layers makes a step about
# 1.15x faster (0.06 CPU-s of 0.44) and costs about 4 s of wall time per launch with a warm inductor cache
# (28 s the first time on a machine: cold cache). Break-even is a few hundred steps on a cold cache, so "auto"
# compiles launches of 1000+ iterations; the tiny recipe's launches (at most 218) stay eager.
COMPILE_AUTO_STEPS = 1000


def has_cxx_compiler() -> bool:
    return any(shutil.which(c) for c in (os.environ.get("CXX", ""), "g++", "c++", "clang++") if c)


def compile_layers(model, setting: str | bool, launch_steps: int, log=print) -> bool:
    """Regional compilation: torch.compile each decoder layer in place, if `setting` (auto|on|off) says so.

    The layers share their code and shapes, so dynamo traces one graph and every layer reuses it (a cold
    compile of 28 s instead of 50 s for the whole model, with the same steady-state gain); inductor fuses
    what dominates a model this narrow: RMSNorm, RoPE, SiLU * up and the autocast casts. The embedding,
    final norm and the fused loss stay eager. Parameter names and state_dict are unchanged (Module.compile).
    """
    setting = {True: "on", False: "off"}.get(setting, setting)
    if setting not in ("auto", "on", "off"):
        raise RecipeError(f"compile must be auto, on or off, not {setting!r}", field="--compile", fix="use auto, on or off")
    if setting == "off" or (setting == "auto" and launch_steps < COMPILE_AUTO_STEPS):
        return False
    if not has_cxx_compiler():  # inductor builds its CPU kernels with one; fail here, not at the first step
        if setting == "on":
            raise RecipeError("--compile on needs a C++ compiler (torch inductor builds CPU kernels with it)",
                              field="--compile", fix="install one (apt-get install g++) or pass --compile off")
        log("no C++ compiler found: training eager (install g++ to compile the layers, about 1.15x faster steps)")
        return False
    for layer in model.model.layers:
        layer.compile(dynamic=False)
    return True

"""The transformers Llama a nanotron config describes, initialised the way nanotron initialises it.

    model = build_model(cfg)             # LlamaForCausalLM, fp32 master weights, nanotron init

nanotron's RandomInit (init_method: {std, scaling_method}) draws column-parallel linears (q/k/v,
gate/up) and the token embedding from normal(0, std); row-parallel linears that write into the
residual stream (o_proj, down_proj) from normal(0, std / sqrt(2 * num_layers)) with scaling_method
NUM_LAYERS (plain std with NONE); RMSNorm weights are 1. With tied embeddings the LM head is the
embedding; untied, it is a column linear like the others. Read from nanotron's models/llama.py init code; written here for the transformers module names.
"""
from __future__ import annotations

import math

import torch

from smolrecipe.model import llama_config


def build_model(cfg, *, seed: int | None = None):
    from transformers import LlamaForCausalLM

    hf = llama_config(cfg.model.model_config)
    # SDPA: the fastest exact attention on CPU in this torch; flash-attn (nanotron's choice) needs CUDA.
    hf._attn_implementation = "sdpa"
    if seed is not None:
        torch.manual_seed(seed)
    model = LlamaForCausalLM(hf)
    init_like_nanotron(model, cfg)
    return model


def init_like_nanotron(model, cfg) -> None:
    init = cfg.model.init_method
    layers = cfg.model.model_config.num_hidden_layers
    std = float(init.std)
    method = (init.scaling_method or "NUM_LAYERS").upper()
    if method == "NUM_LAYERS":
        out_std = std / math.sqrt(2 * layers)
    elif method == "NONE":
        out_std = std
    else:
        from smolrecipe.errors import ConfigError

        raise ConfigError(
            f"scaling_method {init.scaling_method!r} is not supported by the local engine",
            file=getattr(cfg, "source_file", None), field="model.init_method.scaling_method",
            fix="use NUM_LAYERS (the SmolLM2 configs) or NONE",
        )
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            elif name.endswith(("o_proj.weight", "down_proj.weight")):
                p.normal_(0.0, out_std)
            elif p.dim() >= 2:
                p.normal_(0.0, std)
            else:
                p.zero_()  # biases (attention_bias=True only); nanotron zeroes them

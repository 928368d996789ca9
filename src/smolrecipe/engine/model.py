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


def _sdpa_fp32(module, query, key, value, attention_mask, **kwargs):
    """transformers' SDPA attention with autocast off and fp32 inputs (see use_fp32_attention)."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    with torch.autocast(query.device.type, enabled=False):
        return sdpa_attention_forward(module, query.float(), key.float(), value.float(), attention_mask, **kwargs)


def use_fp32_attention(model) -> bool:
    """Run SDPA in fp32 inside the bf16 autocast, where that is faster: head_dim <= 32 on CPU.

    Measured with torch 2.13 on the AVX512-BF16 CPU (one thread, fwd + bwd of the flash CPU kernel, causal,
    GQA): at the tiny model's shape (8 x 4 heads x 256 x 32) bf16 took 20.3 ms and fp32 15.0 ms (the bf16
    backward is 1.5x slower); at head_dim 64 and 128 the two were within noise of each other. q and k are
    already fp32 after transformers' RoPE (its cos/sin follow the fp32 residual stream), so only v is cast
    up, and the output goes back to bf16 in o_proj's autocast. fp32 attention is also the more precise one.
    Only this model instance changes (the name is registered, the default "sdpa" is untouched).
    """
    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    if head_dim > 32 or cfg._attn_implementation != "sdpa":
        return False
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register("sdpa_fp32", _sdpa_fp32)
    ALL_MASK_ATTENTION_FUNCTIONS.register("sdpa_fp32", sdpa_mask)  # same masks as "sdpa" (none for full windows)
    cfg._attn_implementation = "sdpa_fp32"
    return True

"""The model a nanotron config describes, as a transformers Llama (the format everything after pretraining uses).

    hf_config = llama_config(cfg.model.model_config)
    n = count_parameters(cfg)          # built on the meta device: no memory, any size

nanotron's `rope_interleaved` only changes the layout of the q/k weights (nanotron's converter permutes
them), not the function the model computes, so the transformers model is the same architecture.
"""
from __future__ import annotations

from smolrecipe.config.schema import LlamaConfig as NanotronLlama
from smolrecipe.config.schema import NanotronConfig


def llama_config(m: NanotronLlama, *, dtype: str | None = None):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=m.vocab_size,
        hidden_size=m.hidden_size,
        intermediate_size=m.intermediate_size,
        num_hidden_layers=m.num_hidden_layers,
        num_attention_heads=m.num_attention_heads,
        num_key_value_heads=m.kv_heads,
        hidden_act=m.hidden_act,
        max_position_embeddings=m.max_position_embeddings,
        initializer_range=m.initializer_range,
        rms_norm_eps=m.rms_norm_eps,
        rope_parameters={"rope_type": "default", "rope_theta": float(m.rope_theta), **(m.rope_scaling or {})},
        attention_bias=m.attention_bias,
        tie_word_embeddings=m.tie_word_embeddings,
        bos_token_id=m.bos_token_id,
        eos_token_id=m.eos_token_id,
        pad_token_id=m.pad_token_id,
        use_cache=m.use_cache,
        **({"dtype": dtype} if dtype else {}),
    )


def count_parameters(cfg: NanotronConfig) -> int:
    """Exact parameter count of the transformers model, built on the meta device (tied weights counted once)."""
    import torch
    from transformers import LlamaForCausalLM

    with torch.device("meta"):
        model = LlamaForCausalLM(llama_config(cfg.model.model_config))
    return sum(p.numel() for p in model.parameters())


def flops_per_token(cfg: NanotronConfig, seq_len: int | None = None) -> float:
    """Training FLOPs per token as in PaLM (appendix B): 6 x matmul parameters (lm head included) + 12*L*H*Q*T."""
    m = cfg.model.model_config
    seq = seq_len or cfg.tokens.sequence_length
    head_dim = m.hidden_size // m.num_attention_heads
    attn_proj = m.hidden_size * head_dim * (m.num_attention_heads * 2 + m.kv_heads * 2)
    mlp = 3 * m.hidden_size * m.intermediate_size
    matmul_params = m.num_hidden_layers * (attn_proj + mlp) + m.vocab_size * m.hidden_size  # lm head
    attention = 12 * m.num_hidden_layers * m.num_attention_heads * head_dim * seq  # QK^T and AV, not causal-halved
    return 6 * matmul_params + attention

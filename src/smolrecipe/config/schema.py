"""The nanotron (main branch) config schema, as typed dataclasses.

Field names, nesting and defaults follow nanotron's `src/nanotron/config/*.py` at the pinned commit
(see smolrecipe.versions.NANOTRON_COMMIT), so a YAML that loads here loads in nanotron's strict
dacite loader too. Only the Llama model config is modelled: every SmolLM2 model is a Llama.

Defaults that nanotron fills in silently and that changed a shipped run before (min_decay_lr equal to
the peak LR, lr_decay_steps derived from train_steps) are *not* defaulted here: the loader demands them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

REQUIRED = object()  # marker used by the loader for "no default in our schema"


@dataclass
class GeneralArgs:
    project: str
    run: Optional[str] = None
    seed: Optional[int] = None
    step: Optional[int] = None
    consumed_train_samples: Optional[int] = None
    benchmark_csv_path: Optional[str] = None
    ignore_sanity_checks: bool = True


@dataclass
class ParallelismArgs:
    dp: int
    pp: int
    tp: int
    pp_engine: Optional[str] = None  # "afab" | "1f1b"
    tp_mode: Optional[str] = None  # "ALL_REDUCE" | "REDUCE_SCATTER"
    tp_linear_async_communication: Optional[bool] = None
    recompute_layer: bool = False
    tp_recompute_allgather: bool = True
    expert_parallel_size: int = 1
    context_parallel_size: int = 1


@dataclass
class LlamaConfig:
    bos_token_id: int = 1
    eos_token_id: int = 2
    hidden_act: str = "silu"
    hidden_size: int = 4096
    initializer_range: float = 0.02
    intermediate_size: int = 11008
    is_llama_config: bool = True
    max_position_embeddings: int = 2048
    num_attention_heads: int = 32
    num_hidden_layers: int = 32
    attention_bias: bool = False
    num_key_value_heads: Optional[int] = None
    pad_token_id: Optional[int] = None
    pretraining_tp: int = 1
    rms_norm_eps: float = 1e-6
    rope_scaling: Optional[dict] = None
    rope_theta: float = 10000.0
    rope_interleaved: bool = False
    tie_word_embeddings: bool = False
    use_cache: bool = True
    vocab_size: int = 32000
    _attn_implementation: Optional[str] = "flash_attention_2"
    z_loss_enabled: bool = False
    z_loss_coefficient: float = 0.0001

    @property
    def kv_heads(self) -> int:
        return self.num_key_value_heads or self.num_attention_heads


@dataclass
class RandomInit:
    std: float
    scaling_method: str = "NUM_LAYERS"  # NONE | NUM_LAYERS | LAYER_INDEX | MODEL_SCALE


@dataclass
class ModelArgs:
    model_config: LlamaConfig
    init_method: RandomInit
    dtype: Optional[str] = None  # nanotron defaults to bfloat16
    make_vocab_size_divisible_by: int = 1
    ddp_bucket_cap_mb: int = 25


@dataclass
class TokenizerArgs:
    tokenizer_name_or_path: Optional[str] = None
    tokenizer_revision: Optional[str] = None
    tokenizer_max_length: Optional[int] = None


@dataclass
class CheckpointsArgs:
    checkpoints_path: str
    checkpoint_interval: int
    save_initial_state: Optional[bool] = False
    save_final_state: Optional[bool] = True
    resume_checkpoint_path: Optional[str] = None
    load_lr_scheduler: Optional[bool] = True
    load_optimizer: Optional[bool] = True
    checkpoints_path_is_shared_file_system: Optional[bool] = False


@dataclass
class LoggingArgs:
    log_level: Optional[str] = None
    log_level_replica: Optional[str] = None
    iteration_step_info_interval: Optional[int] = 1


@dataclass
class MetricsLoggingArgs:
    log_level: int = 0
    log_detail_interval: int = 10


@dataclass
class TokensArgs:
    sequence_length: int
    train_steps: int
    micro_batch_size: int
    batch_accumulation_per_replica: int
    val_check_interval: Optional[int] = -1
    limit_val_batches: Optional[int] = 0
    limit_test_batches: Optional[int] = 0


@dataclass
class LRSchedulerArgs:
    learning_rate: float
    lr_warmup_steps: int = 0
    # nanotron has defaults for the four below; we demand them (see module docstring).
    lr_warmup_style: str = field(default=REQUIRED)  # type: ignore[assignment]
    lr_decay_style: str = "linear"
    lr_decay_steps: int = field(default=REQUIRED)  # type: ignore[assignment]
    lr_decay_starting_step: int = field(default=REQUIRED)  # type: ignore[assignment]
    min_decay_lr: float = field(default=REQUIRED)  # type: ignore[assignment]


@dataclass
class AdamWOptimizerArgs:
    adam_eps: float
    adam_beta1: float
    adam_beta2: float
    torch_adam_is_fused: bool
    name: str = "adamW"


@dataclass
class OptimizerArgs:
    optimizer_factory: AdamWOptimizerArgs
    zero_stage: int
    weight_decay: float
    clip_grad: Optional[float]
    accumulate_grad_in_fp32: bool
    learning_rate_scheduler: LRSchedulerArgs
    weight_decay_exclude_named_params: Optional[list[str]] = None


@dataclass
class NanosetDatasetsArgs:
    dataset_folder: Union[str, list[str]]
    dataset_weights: Optional[list[float]] = None
    dataset_read_path: Optional[Union[str, list[str]]] = None
    tokenizer_name: Optional[str] = None
    vocab_size: Optional[int] = None
    token_size_in_bytes: Optional[int] = None
    return_positions: Optional[bool] = True
    skip_in_stream: Optional[bool] = False
    pad_samples_to_global_batch_size: Optional[bool] = False
    dataset_max_tokens: Optional[list[int]] = None
    shuffle_files: Optional[bool] = False
    use_old_brrr_dataloader: Optional[bool] = False

    @property
    def folders(self) -> list[str]:
        return [self.dataset_folder] if isinstance(self.dataset_folder, str) else list(self.dataset_folder)

    @property
    def weights(self) -> list[float]:
        if self.dataset_weights is None:  # nanotron: one folder gets weight 1; several are blended equally
            return [1.0 / len(self.folders)] * len(self.folders)
        return [float(w) for w in self.dataset_weights]


@dataclass
class DataArgs:
    dataset: Optional[NanosetDatasetsArgs]
    seed: Optional[int]
    num_loading_workers: Optional[int] = 1


@dataclass
class DatasetStageArgs:
    name: str
    start_training_step: int
    data: DataArgs
    sequence_length: Optional[int] = None


@dataclass
class ProfilerArgs:
    profiler_export_path: Optional[str]
    wait: int = 1
    warmup: int = 1
    active: int = 1
    repeat: int = 1
    skip_first: int = 3
    record_shapes: bool = False
    profile_memory: bool = False
    with_stack: bool = True
    export_chrome_trace: bool = False


@dataclass
class NanotronConfig:
    """The whole file. `lighteval` and `s3_upload` are accepted only as null here (not used by the recipe)."""

    general: GeneralArgs
    parallelism: ParallelismArgs
    model: ModelArgs
    tokenizer: Optional[TokenizerArgs] = None
    checkpoints: Optional[CheckpointsArgs] = None
    logging: Optional[LoggingArgs] = None
    metrics_logging: Optional[MetricsLoggingArgs] = None
    tokens: Optional[TokensArgs] = None
    optimizer: Optional[OptimizerArgs] = None
    data_stages: Optional[list[DatasetStageArgs]] = None
    profiler: Optional[ProfilerArgs] = None
    lighteval: Optional[None] = None
    s3_upload: Optional[None] = None

    # --- derived quantities used across the project ---
    @property
    def schedule(self) -> LRSchedulerArgs:
        return self.optimizer.learning_rate_scheduler

    @property
    def global_batch_size(self) -> int:
        t = self.tokens
        return t.micro_batch_size * t.batch_accumulation_per_replica * self.parallelism.dp

    @property
    def tokens_per_step(self) -> int:
        return self.global_batch_size * self.tokens.sequence_length

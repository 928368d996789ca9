"""Builders for the push tests: a random tiny Llama with a tokenizer, local-engine checkpoints, lighteval results.

Nothing here reads outputs/ of a real run: every artifact is made in the test's tmp folder.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TEXT = ["def add(a, b):\n    return a + b\n", "The quick brown fox jumps over the lazy dog.",
        "<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n5<|im_end|>\n"] * 50
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def tokenizer_folder(out: Path, vocab: int = 300) -> Path:
    """A byte-level BPE trained on a few lines, saved as a transformers tokenizer with a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]
    tok.train_from_iterator(TEXT, trainers.BpeTrainer(vocab_size=vocab, special_tokens=special,
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   pad_token="<|pad|>")
    fast.chat_template = CHATML
    fast.save_pretrained(out)
    return out


def llama(hidden: int = 32, layers: int = 2, intermediate: int = 64, vocab: int = 300, tied: bool = True, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=tied,
                      bos_token_id=0, eos_token_id=0)
    return LlamaForCausalLM(cfg)


def model_folder(out: Path, *, with_tokenizer: bool = True, **kw) -> tuple[Path, int]:
    """A transformers folder (and its tokenizer); returns (folder, parameter count as torch counts it)."""
    model = llama(**kw)
    model.save_pretrained(out)
    if with_tokenizer:
        tokenizer_folder(out, vocab=kw.get("vocab", 300))
    return out, sum(p.numel() for p in model.parameters())


def train_config(tokenizer: str, folders: list[str]) -> str:
    """The part of a nanotron YAML the card reads: data stages with weights, and the tokenizer."""
    stages = [{"name": "stage1-stable", "start_training_step": 1,
               "data": {"dataset": {"dataset_folder": folders, "dataset_weights": [0.75, 0.25]}, "seed": 1}}]
    return yaml.safe_dump({"general": {"project": "t", "run": "t-stage1"}, "data_stages": stages,
                           "tokenizer": {"tokenizer_name_or_path": tokenizer}})


def checkpoints(run_dir: Path, steps: list[int], tokenizer: Path, *, seq: int = 16, batch: int = 8) -> dict[int, int]:
    """Local-engine checkpoints <run_dir>/<step> written by the engine's own save_checkpoint; returns step -> tokens."""
    from smolrecipe.engine.checkpoint import save_checkpoint
    from smolrecipe.versions import runtime_versions

    folders = ["outputs/data/t/tokenized/web", "outputs/data/t/tokenized/code"]
    tokens = {}
    for k, step in enumerate(steps):
        samples = step * batch
        meta = {"run": "t-stage1", "engine": "local", "precision": "fp32", "consumed_train_samples": samples,
                "consumed_tokens_total": samples * seq, "config_file": "outputs/configs/t-stage1.yaml",
                "versions": runtime_versions(), "lineage": [], "branch": None,
                "data_stages": [{"name": "stage1-stable", "start_training_step": 1, "sequence_length": seq,
                                 "consumed_samples": samples,
                                 "consumed_tokens_per_dataset_folder": {folders[0]: samples * seq * 3 // 4,
                                                                        folders[1]: samples * seq // 4}}]}
        save_checkpoint(run_dir, step, model=llama(seed=k), trainer_state={"step": step}, metadata=meta,
                        config_text=train_config(str(tokenizer), folders))
        tokens[step] = samples * seq
    return tokens


def lighteval_results(out: Path, model_name: str) -> Path:
    """A results file in lighteval 0.13's format (logging/evaluation_tracker.py: results, config_tasks, config_general)."""
    norm = "LoglikelihoodAcc(logprob_normalization=LogProbCharNorm(name='norm', ignore_first_space=True))"
    data = {
        "config_general": {"lighteval_sha": "?", "model_name": model_name, "model_config": {}},
        "results": {"hellaswag_cf|0": {"acc": 0.3125, "acc_stderr": 0.0412},
                    "tiny_arith|5": {"em": 0.5, "em_stderr": 0.05},
                    "all": {"acc": 0.3125, "em": 0.5}},
        "versions": {"hellaswag_cf|0": 0, "tiny_arith|5": 0},
        "config_tasks": {
            "hellaswag_cf|0": {"name": "hellaswag_cf", "hf_repo": "Rowan/hellaswag", "hf_subset": "default",
                               "hf_revision": "6002345709e0801764318f06bf06ce1e7d1a1fe3", "evaluation_splits": ["validation"],
                               "num_fewshots": 0, "metrics": [{"metric_name": "acc", "sample_level_fn": norm}]},
            "tiny_arith|5": {"name": "tiny_arith", "hf_repo": str(out.parent / "local-data"), "hf_subset": "default",
                             "evaluation_splits": ["test"], "num_fewshots": 5,
                             "metrics": [{"metric_name": "em", "sample_level_fn": "ExactMatches(strip_strings=True)"}]}},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2))
    return out


def push(args: list[str], *, cwd: Path, endpoint: str | None, token: str | None, xet: bool = False,
         offline: bool = False, timeout: int = 240) -> subprocess.CompletedProcess:
    """`python -m smolrecipe push ...` as a user runs it, against `endpoint` (HF_ENDPOINT is read at import)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(PYTHONPATH=str(REPO / "src"), SMOLRECIPE_ROOT=str(cwd), SMOLRECIPE_OUTPUTS=str(cwd / "outputs"),
               HF_HOME=str(cwd / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1", TOKENIZERS_PARALLELISM="false")
    if endpoint:
        env["HF_ENDPOINT"] = endpoint
    if token:
        env["HF_TOKEN"] = token
    if not xet:
        env["HF_HUB_DISABLE_XET"] = "1"  # the LFS batch + PUT path, which the local Hub implements
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run([sys.executable, "-m", "smolrecipe", "push", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def hub_call(code: str, *, cwd: Path, endpoint: str, token: str) -> str:
    """Run huggingface_hub client code against the local Hub in a fresh process (HF_ENDPOINT is read at import)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=endpoint, HF_TOKEN=token, HF_HOME=str(cwd / "hf-home-client"), HF_HUB_DISABLE_TELEMETRY="1")
    r = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout

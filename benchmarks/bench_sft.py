"""SFT throughput on CPU: TRL's packing (best-fit decreasing, padding-free) against TRL without packing.

Usage: python benchmarks/bench_sft.py [--model outputs/checkpoints/tiny-long-context/400/model] [--steps 40]
       (or: python benchmarks/run.py sft; without the tiny base model a random model of the same shape is used)

Same model, same tiny chat data (smolrecipe.data.tiny_tasks, 4,000 train chats), same trainer (TRL 1.16's
SFTTrainer, assistant-only loss with post_training/chat_template.jinja); only the batching differs. Each setting
trains --steps optimizer steps on one thread; a forward pre-hook counts what the model is fed, so the figures are:
real tokens per CPU-second (process CPU time: a single-threaded job's CPU time barely moves when a neighbour is
busy) and the share of the positions fed that are padding. Prints `RESULT ...` lines with the CPU and the load.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SETTINGS = {  # name: SFTConfig overrides
    "no packing, 16 chats per step (TRL's padded batches)": dict(packing=False, per_device_train_batch_size=16),
    "bfd packing, 1 row of 256 tokens per step (tiny recipe)": dict(packing=True, packing_strategy="bfd",
                                                                    max_length=256, per_device_train_batch_size=1),
    "bfd packing, 1 row of 512": dict(packing=True, packing_strategy="bfd", max_length=512, per_device_train_batch_size=1),
    # padding-free flattens the rows of a step into one sequence: 4 x 256 is one 1,024-token row whose attention
    # mask on CPU (no flash attention) is 1,024 x 1,024
    "bfd packing, 4 rows of 256 per step": dict(packing=True, packing_strategy="bfd", max_length=256,
                                               per_device_train_batch_size=4),
}


def start_model(given: str | None, tmp: Path) -> tuple[Path, str]:
    """A folder with model + tokenizer: the tiny base model when it exists, else a random one of its shape."""
    import shutil

    from transformers import LlamaConfig, LlamaForCausalLM

    from smolrecipe.tokenizer import CHAT_TEMPLATE

    base = Path(given) if given else ROOT / "outputs" / "checkpoints" / "tiny-long-context" / "400" / "model"
    tok = ROOT / "outputs" / "tokenizers" / "tiny"
    folder = tmp / "start"
    folder.mkdir()
    if (base / "config.json").is_file() and (tok / "tokenizer.json").is_file():
        for f in base.iterdir():
            shutil.copy2(f, folder / f.name)
        label = f"{base.relative_to(ROOT) if base.is_relative_to(ROOT) else base}"
    else:
        if not (tok / "tokenizer.json").is_file():
            raise SystemExit("needs the tiny tokenizer: make tokenizer RECIPE=tiny")
        cfg = LlamaConfig(vocab_size=4096, hidden_size=128, intermediate_size=384, num_hidden_layers=4,
                          num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512, tie_word_embeddings=True)
        LlamaForCausalLM(cfg).save_pretrained(folder)
        label = "random model of the tiny shape"
    for f in tok.iterdir():
        if f.is_file():
            shutil.copy2(f, folder / f.name)
    (folder / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    return folder, label


def measure(folder: Path, data, overrides: dict, steps: int, out: Path) -> dict:
    import torch
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(output_dir=str(out), max_steps=steps, learning_rate=3e-3, assistant_only_loss=True,
                     chat_template_path=str(ROOT / "post_training" / "chat_template.jinja"), eos_token="<|im_end|>",
                     use_cpu=True, bf16=False, activation_checkpointing=False, report_to="none", save_strategy="no",
                     logging_steps=steps, disable_tqdm=True, dataloader_num_workers=0, seed=0,
                     **{"max_length": 512, **overrides})
    trainer = SFTTrainer(model=str(folder), args=args, train_dataset=data)
    pad = trainer.processing_class.pad_token_id
    fed = {"positions": 0, "pad": 0}

    def count(module, a, kw):
        ids = kw.get("input_ids")
        fed["positions"] += ids.numel()
        mask = kw.get("attention_mask")
        fed["pad"] += int((mask == 0).sum()) if mask is not None else int((ids == pad).sum())

    trainer.model.register_forward_pre_hook(count, with_kwargs=True)
    torch.manual_seed(0)
    cpu, wall = time.process_time(), time.time()
    trainer.train()
    cpu, wall = time.process_time() - cpu, time.time() - wall
    real = fed["positions"] - fed["pad"]
    return {"tokens_per_cpu_s": real / cpu, "tokens_per_s": real / wall, "padding": fed["pad"] / fed["positions"],
            "tokens": real, "cpu_s": cpu}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="a transformers folder of the tiny shape (default: the tiny base model)")
    p.add_argument("--steps", type=int, default=40, help="optimizer steps per setting")
    args = p.parse_args()
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_DATASETS_DISABLE_PROGRESS_BARS="1",
                      HF_HUB_DISABLE_PROGRESS_BARS="1", TRANSFORMERS_VERBOSITY="error")
    import torch
    from datasets import Dataset

    from smolrecipe import machine
    from smolrecipe.data.tiny_tasks import chat, generate

    torch.set_num_threads(1)
    data = Dataset.from_list([chat(it) for it in generate("train", 4000)])
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder, label = start_model(args.model, Path(tmp))
        print(f"model: {label}; {args.steps} optimizer steps per setting, 1 thread; load {os.getloadavg()[0]:.2f}")
        for k, (name, overrides) in enumerate(SETTINGS.items()):
            results[name] = r = measure(folder, data, overrides, args.steps, Path(tmp) / f"out{k}")
            print(f"  {name}: {r['tokens_per_cpu_s']:,.0f} tokens/CPU-s ({r['tokens_per_s']:,.0f} tokens/s wall), "
                  f"padding {r['padding']:.1%}, {r['tokens']:,} tokens in {r['cpu_s']:.1f} CPU-s", flush=True)
    base = results[next(iter(SETTINGS))]["tokens_per_cpu_s"]
    for name in list(SETTINGS)[1:]:
        print(f"RESULT sft {name} / no packing: {results[name]['tokens_per_cpu_s'] / base:.2f}x "
              f"(padding {results[name]['padding']:.1%} vs {results[next(iter(SETTINGS))]['padding']:.1%})")
    print(f"RESULT machine: {machine.short()}; load after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
